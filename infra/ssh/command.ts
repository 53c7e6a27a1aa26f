// How a script becomes the one command line sent to the remote login shell: bash runs the script, `timeout` bounds
// it on the remote side (the client-side timer is only the last resort), and `sudo -n` fails fast instead of
// prompting when root is needed and the login user is not root.

export const KILL_AFTER_SEC = 5;

/** POSIX single-quote quoting: safe for any byte string in sh, bash and dash. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function wrapRemoteCommand(script: string, opts: { timeoutSec: number; sudo: boolean }): string {
  if (!Number.isInteger(opts.timeoutSec) || opts.timeoutSec < 1) {
    throw new RangeError(`timeoutSec must be a positive integer, got ${opts.timeoutSec}`);
  }
  const sudo = opts.sudo ? 'sudo -n ' : '';
  // timeout runs under sudo so it may signal the root-owned script it started.
  return `${sudo}timeout --kill-after=${KILL_AFTER_SEC} ${opts.timeoutSec} bash -c ${shellQuote(script)}`;
}

/** Exit status of coreutils `timeout` when the limit was hit (124) or the KILL had to follow (137). */
export function isTimeoutExit(code: number): boolean {
  return code === 124 || code === 137;
}

/**
 * A script for any RemoteShell: the SSH shell runs commands with bash, the guest agent with /bin/sh (dash on Debian),
 * so bash scripts name their interpreter themselves.
 */
export function viaBash(script: string): string {
  return `exec bash -c ${shellQuote(script)}`;
}
