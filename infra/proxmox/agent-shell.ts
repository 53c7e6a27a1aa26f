// A RemoteShell into a guest through the QEMU guest agent: `agent/exec` starts `/bin/sh -c COMMAND` (as root, so
// `sudo` is moot) and `agent/exec-status` is polled until it exits. Used where a guest has no SSH yet.
import { setTimeout as sleep } from 'node:timers/promises';
import { InputError, JarvisError } from '../../lib/errors.ts';
import type { CommandResult, ExecOptions, RemoteShell } from '../shell.ts';
import type { ProxmoxApi } from './api.ts';

export interface AgentShellOptions {
  /** First pause between exec-status polls (default 100 ms), growing by half to `maxPollMs` (default 1 s). */
  initialPollMs?: number;
  maxPollMs?: number;
  /** How long past the remote timeout the shell waits for the exit report (default 15 s: kill-after 5 s, then slack). */
  graceSec?: number;
}

/** The guest agent refuses input larger than this (`input-data` ≤ 64 KiB in PVE's schema). */
const MAX_INPUT = 65_536;

/**
 * Runs `argv` in the guest through the agent (no shell: qemu-ga spawns it) and polls until it exits. `limitMs` bounds
 * the wait for the exit report (the command itself must bound its own run time).
 */
export async function agentRun(
  api: Pick<ProxmoxApi, 'agentExec' | 'agentExecStatus'>,
  vmid: number,
  argv: string[],
  opts: { input?: string; limitMs?: number; what?: string; initialPollMs?: number; maxPollMs?: number } = {},
): Promise<CommandResult> {
  const pid = await api.agentExec(vmid, argv, opts.input);
  const deadline = opts.limitMs === undefined ? undefined : Date.now() + opts.limitMs;
  let delay = opts.initialPollMs ?? 100;
  for (;;) {
    const status = await api.agentExecStatus(vmid, pid);
    if (status.exited) {
      return {
        code: status.exitcode ?? (status.signal !== undefined ? 128 + status.signal : 1),
        stdout: status['out-data'] ?? '',
        stderr: status['err-data'] ?? '',
      };
    }
    if (deadline !== undefined && Date.now() + delay > deadline) {
      throw new JarvisError('agent-exec-timeout', `${opts.what ?? argv[0]} in VM ${vmid} (agent pid ${pid}) did not report its exit within ${Math.round((opts.limitMs ?? 0) / 1000)} s`);
    }
    await sleep(delay);
    delay = Math.min(Math.round(delay * 1.5), opts.maxPollMs ?? 1_000);
  }
}

export function createAgentShell(
  api: ProxmoxApi,
  vmid: number,
  host: string,
  opts: AgentShellOptions = {},
): RemoteShell {
  const initialPoll = opts.initialPollMs ?? 100;
  const maxPoll = opts.maxPollMs ?? 1_000;
  const graceMs = (opts.graceSec ?? 15) * 1_000;

  async function exec(command: string, options: ExecOptions = {}): Promise<CommandResult> {
    if (options.timeoutSec !== undefined && !(options.timeoutSec > 0)) {
      // `timeout 0` would mean "no limit" to coreutils.
      throw new InputError(`Invalid timeoutSec ${options.timeoutSec} for ${host}: must be positive`);
    }
    const argv =
      options.timeoutSec === undefined
        ? ['/bin/sh', '-c', command]
        : ['timeout', '--kill-after=5', String(options.timeoutSec), '/bin/sh', '-c', command];
    // A Secret is revealed only here, into the request body; it never reaches a log or an error.
    const input = typeof options.stdin === 'string' ? options.stdin : options.stdin?.reveal();
    if (input !== undefined && Buffer.byteLength(input) > MAX_INPUT) {
      throw new JarvisError('agent-input-too-large', `stdin for ${host} exceeds the guest agent's ${MAX_INPUT} bytes`);
    }
    const result = await agentRun(api, vmid, argv, {
      ...(input !== undefined ? { input } : {}),
      ...(options.timeoutSec !== undefined ? { limitMs: options.timeoutSec * 1_000 + graceMs } : {}),
      what: `Command in ${host}`,
      initialPollMs: initialPoll,
      maxPollMs: maxPoll,
    });
    // The agent hands output over only at exit, so the listener gets it in one piece.
    if (options.onOutput && result.stdout !== '') options.onOutput(result.stdout);
    return result;
  }

  return {
    host,
    transport: 'agent',
    exec,
    // Every exec is its own API exchange; there is no session to end.
    close: async () => {},
  };
}
