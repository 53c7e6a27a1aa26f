// RemoteShell over SSH (node-ssh, wrapped). The host-key pin is mandatory: ssh2 accepts any key when no verifier is
// given, so this wrapper always installs one and refuses unknown or changed keys, showing the key it saw.
// One connection per host is opened lazily, kept alive and reused; a dropped connection is reopened on next use.
import { NodeSSH } from 'node-ssh';
import { z } from 'zod';
import { JarvisError, InputError, UnreachableError } from '../../lib/errors.ts';
import { Secret, scrubSecrets } from '../../lib/secret.ts';
import type { CommandResult, ExecOptions, RemoteShell } from '../shell.ts';
import { KILL_AFTER_SEC, isTimeoutExit, wrapRemoteCommand } from './command.ts';
import { isSshFingerprint, sshFingerprint } from './fingerprint.ts';

export type SshAuth =
  | { kind: 'key'; privateKeyPath: string; passphrase?: Secret }
  | { kind: 'agent'; socket: string };

export interface SshHostConfig {
  /** Jarvis's name for the host (`proxmox`, `app-host`…), used in every message. */
  host: string;
  address: string;
  port?: number;
  username: string;
  /** `SHA256:…` exactly as `ssh-keygen -lf` prints it. Without it the connection is refused. */
  fingerprint?: string;
  auth: SshAuth;
  connectTimeoutMs?: number;
  /** Remote timeout when a call gives none. */
  defaultTimeoutSec?: number;
  keepaliveIntervalMs?: number;
  /** Prefix root commands with `sudo -n`; defaults to true unless the login user is root. */
  useSudo?: boolean;
  /** Seconds past the remote timeout (and its kill-after) before the connection is dropped as a last resort. */
  lastResortGraceSec?: number;
}

const configSchema = z.object({
  host: z.string().min(1),
  address: z.string().min(1),
  port: z.number().int().min(1).max(65535).optional(),
  username: z.string().min(1),
  fingerprint: z
    .string()
    .refine(isSshFingerprint, 'must look like SHA256:<43 base64 characters>, as `ssh-keygen -lf` prints it')
    .optional(),
  connectTimeoutMs: z.number().int().positive().optional(),
  defaultTimeoutSec: z.number().int().positive().optional(),
  keepaliveIntervalMs: z.number().int().positive().optional(),
  useSudo: z.boolean().optional(),
  lastResortGraceSec: z.number().int().positive().optional(),
});

const DEFAULT_GRACE_SEC = 10;

export function createSshShell(config: SshHostConfig): RemoteShell {
  const parsed = configSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(`ssh host ${config.host || '(unnamed)'}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`);
  }
  return new SshShell(config);
}

class SshShell implements RemoteShell {
  readonly transport = 'ssh' as const;
  readonly host: string;
  readonly #config: SshHostConfig;
  #connection: Promise<NodeSSH> | null = null;
  #closed = false;

  constructor(config: SshHostConfig) {
    this.host = config.host;
    this.#config = config;
  }

  get #endpoint(): string {
    return `${this.#config.username}@${this.#config.address}:${this.#config.port ?? 22}`;
  }

  async exec(command: string, options: ExecOptions = {}): Promise<CommandResult> {
    if (this.#closed) throw new JarvisError('ssh-closed', `ssh ${this.host}: the connection was closed`);
    const timeoutSec = options.timeoutSec ?? this.#config.defaultTimeoutSec ?? 300;
    const sudo = options.sudo === true && (this.#config.useSudo ?? this.#config.username !== 'root');
    const wrapped = wrapRemoteCommand(command, { timeoutSec, sudo });
    const ssh = await this.#connect();
    const stdinSecret = options.stdin instanceof Secret ? options.stdin : undefined;
    const scrub = (text: string): string => scrubValue(text, stdinSecret);
    const stdin = options.stdin === undefined ? undefined : typeof options.stdin === 'string' ? options.stdin : options.stdin.reveal();

    let timer: NodeJS.Timeout | undefined;
    const waitSec = timeoutSec + KILL_AFTER_SEC + (this.#config.lastResortGraceSec ?? DEFAULT_GRACE_SEC);
    const lastResort = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // The remote `timeout` did not end the command: drop the whole connection so nothing keeps running on our side.
        // Once disposed it reports itself closed, and the next exec opens a fresh one (#connect).
        ssh.dispose();
        reject(new JarvisError('ssh-timeout', `ssh ${this.host}: no answer ${waitSec} s after the command started (limit ${timeoutSec} s); connection dropped`));
      }, waitSec * 1000);
    });
    const onOutput = options.onOutput;
    const run = ssh.execCommand(wrapped, {
      ...(stdin === undefined ? {} : { stdin }),
      noTrim: true,
      ...(onOutput ? { onStdout: (c: Buffer) => onOutput(scrub(c.toString('utf8'))), onStderr: (c: Buffer) => onOutput(scrub(c.toString('utf8'))) } : {}),
    });
    try {
      const result = await Promise.race([run, lastResort]);
      if (result.code === null) {
        throw new JarvisError('ssh-signal', `ssh ${this.host}: the remote command ended by signal ${result.signal ?? 'unknown'} without an exit code`);
      }
      if (isTimeoutExit(result.code)) {
        throw new JarvisError('ssh-timeout', `ssh ${this.host}: the command was stopped after its ${timeoutSec} s timeout`);
      }
      return { code: result.code, stdout: scrub(result.stdout), stderr: scrub(result.stderr) };
    } catch (error) {
      if (error instanceof JarvisError) throw error;
      throw new UnreachableError(`ssh ${this.host} (${this.#endpoint}): command failed: ${scrub(messageOf(error))}`, { code: 'ssh-exec' });
    } finally {
      clearTimeout(timer);
      run.catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const pending = this.#connection;
    this.#connection = null;
    if (pending) (await pending.catch(() => null))?.dispose();
  }

  async #connect(): Promise<NodeSSH> {
    const current = this.#connection;
    if (current) {
      const ssh = await current;
      // A connection dropped (last resort, network) reports itself closed at once; its 'close' event may come later.
      if (ssh.isConnected()) return ssh;
      // Another caller already replaced it: share that one rather than open a second connection.
      if (this.#connection !== current) return this.#connect();
      this.#connection = null;
    }
    const attempt = this.#open();
    this.#connection = attempt;
    const forget = (): void => {
      if (this.#connection === attempt) this.#connection = null;
    };
    attempt.then((ssh) => ssh.connection?.on('close', forget), forget);
    return attempt;
  }

  async #open(): Promise<NodeSSH> {
    const cfg = this.#config;
    const pinned = cfg.fingerprint;
    let seen: string | undefined;
    const ssh = new NodeSSH();
    const auth =
      cfg.auth.kind === 'agent'
        ? { agent: cfg.auth.socket }
        : { privateKeyPath: cfg.auth.privateKeyPath, ...(cfg.auth.passphrase ? { passphrase: cfg.auth.passphrase.reveal() } : {}) };
    try {
      await ssh.connect({
        host: cfg.address,
        port: cfg.port ?? 22,
        username: cfg.username,
        readyTimeout: cfg.connectTimeoutMs ?? 15_000,
        keepaliveInterval: cfg.keepaliveIntervalMs ?? 15_000,
        keepaliveCountMax: 3,
        // Without a verifier ssh2 accepts any key; we always verify, and refuse when no pin is configured.
        hostVerifier: (key: Buffer) => {
          seen = sshFingerprint(key);
          return pinned !== undefined && seen === pinned;
        },
        ...auth,
      });
    } catch (error) {
      ssh.dispose();
      if (seen !== undefined && pinned === undefined) {
        throw new UnreachableError(
          `ssh ${this.host} (${this.#endpoint}): refused: no host-key fingerprint is pinned for this host; the server presented ${seen}. Verify it out of band (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the host) and pin it.`,
          { code: 'ssh-hostkey-unknown' },
        );
      }
      if (seen !== undefined && seen !== pinned) {
        throw new UnreachableError(
          `ssh ${this.host} (${this.#endpoint}): refused: host key ${seen} does not match the pinned ${pinned}. If the host was reinstalled, verify the new key out of band and update the pin.`,
          { code: 'ssh-hostkey-mismatch' },
        );
      }
      throw new UnreachableError(`ssh ${this.host} (${this.#endpoint}): cannot connect: ${scrubValue(messageOf(error), cfg.auth.kind === 'key' ? cfg.auth.passphrase : undefined)}`, { code: 'ssh-connect' });
    }
    // node-ssh listens for 'error' only until the connection is ready. A later one (the host rebooted, a firewall reset
    // the connection) would be an uncaught exception that ends the bot: drop the connection; the next exec opens a new
    // one, and a command in flight ends with its stream.
    ssh.connection?.on('error', () => ssh.dispose());
    return ssh;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Removes the given secret (even if never registered) and every registered one from text leaving this module. */
function scrubValue(text: string, secret: Secret | undefined): string {
  const value = secret?.reveal() ?? '';
  const own = value.length > 0 && text.includes(value) ? text.split(value).join('[redacted]') : text;
  return scrubSecrets(own);
}
