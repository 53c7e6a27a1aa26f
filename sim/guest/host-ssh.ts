// The simulated machines' SSH servers, on ssh2's Server: the node's (port 22 of the sim), with a host key made at
// start (its `SHA256:` fingerprint is exposed for pinning), public-key auth for root with a client key made at start,
// the keys given, or root's authorized_keys in the node's sandbox; and a guest's (sim/guest/guest-ssh.ts), with the
// host key and authorized_keys its own system holds. `exec` requests run through the shell runner in the machine's
// sandbox. New connections go through `admits()` so the sim's connection-level firewall can refuse them while
// established ones keep working.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventEmitter } from 'node:events';
import { sshFingerprint } from '../../infra/ssh/fingerprint.ts';
import type { RunIo, SimShellRunner } from './runner.ts';
import { generateEd25519 } from './ssh-keys.ts';

// ssh2 ships no types and @types/ssh2 is not a dependency: the few members used here, typed by hand.
export interface ParsedKey {
  getPublicSSH(): Buffer;
  verify(data: Buffer, signature: Buffer, hashAlgo?: string): boolean;
}
interface AuthContext {
  method: string;
  username: string;
  key?: { algo: string; data: Buffer };
  signature?: Buffer;
  blob?: Buffer;
  hashAlgo?: string;
  accept(): void;
  reject(methods?: string[]): void;
}
interface ExecStream extends NodeJS.ReadableStream {
  write(data: Buffer | string): boolean;
  stderr: { write(data: Buffer | string): boolean };
  exit(code: number): void;
  end(): void;
}
interface Session extends EventEmitter {
  on(event: 'exec', listener: (accept: () => ExecStream, reject: () => void, info: { command: string }) => void): this;
  on(event: 'env' | 'pty' | 'shell' | 'subsystem', listener: (accept?: () => void, reject?: () => void) => void): this;
}
interface SshConnection extends EventEmitter {
  end(): void;
}
interface Ssh2Server extends EventEmitter {
  injectSocket(socket: Socket): void;
  close(): void;
}
interface Ssh2 {
  Server: new (config: { hostKeys: string[]; ident?: string }, listener: (client: SshConnection) => void) => Ssh2Server;
  utils: {
    parseKey(key: string | Buffer): ParsedKey | Error;
  };
}

const ssh2 = createRequire(import.meta.url)('ssh2') as Ssh2;

function parse(key: string): ParsedKey {
  const parsed = ssh2.utils.parseKey(key);
  if (parsed instanceof Error) throw parsed;
  return parsed;
}

export interface SimHostSsh {
  port: number;
  /** `SHA256:…` of the host key, as `ssh-keygen -lf` prints it: the pin for SSH_HOST_PINS. */
  fingerprint: string;
  /** Private key (OpenSSH format) accepted for root, written to a file for SSH_KEY_PATH. */
  clientKeyPath: string;
  close(): Promise<void>;
}

/** The `SHA256:` fingerprint of an OpenSSH public key line or key text. */
export function fingerprintOf(publicKey: string): string {
  return sshFingerprint(parse(publicKey).getPublicSSH());
}

/** The keys of an authorized_keys file that ssh2 can read (options before the key are not modelled). */
export function authorizedKeysIn(file: string): ParsedKey[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .flatMap((line) => {
      const parsed = ssh2.utils.parseKey(line);
      return parsed instanceof Error ? [] : [parsed];
    });
}

export interface SshMachine {
  /** The host key (OpenSSH private key text) to present now, or undefined when no sshd answers (the connection drops). */
  hostKey(): string | undefined;
  /** The public keys `username` may log in with. */
  keysFor(username: string): ParsedKey[];
  /** Runs an exec request's command line; resolves with its exit status. */
  exec(command: string, io: RunIo): Promise<number>;
}

export interface SshListener {
  port: number;
  close(): Promise<void>;
}

/** Serves SSH for one machine on host:port; each connection gets the host key the machine holds at that moment. */
export async function serveSsh(machine: SshMachine, opts: { host?: string; port?: number; admits?: () => boolean } = {}): Promise<SshListener> {
  const connections = new Set<SshConnection>();
  const sockets = new Set<Socket>();
  const onClient = (client: SshConnection): void => {
    connections.add(client);
    client.on('close', () => connections.delete(client));
    client.on('error', () => undefined);
    client.on('authentication', (ctx: AuthContext) => {
      const key = ctx.method === 'publickey' && ctx.key ? machine.keysFor(ctx.username).find((k) => k.getPublicSSH().equals(ctx.key!.data)) : undefined;
      if (!key) return ctx.reject(['publickey']);
      // Without a signature the client only asks whether the key would do; with one, it must verify.
      if (!ctx.signature) return ctx.accept();
      if (ctx.blob && key.verify(ctx.blob, ctx.signature, ctx.hashAlgo)) return ctx.accept();
      return ctx.reject(['publickey']);
    });
    client.on('ready', () => {
      client.on('session', (accept: () => Session) => {
        const session = accept();
        session.on('env', (acceptEnv) => acceptEnv?.());
        session.on('exec', (acceptExec, _reject, info) => {
          const stream = acceptExec();
          void machine
            .exec(info.command, {
              stdin: stream,
              onStdout: (c) => stream.write(c),
              onStderr: (c) => stream.stderr.write(c),
            })
            .then((code) => {
              stream.exit(code);
              stream.end();
            });
        });
      });
    });
  };

  const tcp: NetServer = createServer((socket) => {
    const hostKey = machine.hostKey();
    if ((opts.admits && !opts.admits()) || hostKey === undefined) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    new ssh2.Server({ hostKeys: [hostKey], ident: 'OpenSSH_10.0p2 Debian-7' }, onClient).injectSocket(socket);
  });
  await new Promise<void>((ok, fail) => {
    tcp.once('error', fail);
    tcp.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => ok());
  });
  const address = tcp.address();
  if (address === null || typeof address === 'string') throw new Error('sim ssh: no port');
  return {
    port: address.port,
    async close() {
      for (const client of connections) client.end();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((ok) => tcp.close(() => ok()));
    },
  };
}

export async function startSimHostSsh(opts: {
  runner: SimShellRunner;
  host?: string;
  port?: number;
  /** Connection-level firewall: false refuses a new TCP connection. */
  admits?: () => boolean;
  /** Extra public keys (OpenSSH `ssh-ed25519 AAAA…` lines) accepted for root. */
  authorizedKeys?: string[];
}): Promise<SimHostSsh> {
  const hostKey = generateEd25519();
  const clientKey = generateEd25519();
  const dir = mkdtempSync(join(tmpdir(), 'jarvis-sim-ssh-'));
  const clientKeyPath = join(dir, 'id_ed25519');
  writeFileSync(clientKeyPath, clientKey.private, { mode: 0o600 });
  const allowed = [clientKey.public, ...(opts.authorizedKeys ?? [])].map(parse);
  const listener = await serveSsh(
    {
      hostKey: () => hostKey.private,
      // As sshd does, root's authorized_keys on the node counts too (a key Jarvis added there, e.g. by bootstrap).
      keysFor: (username) => (username === 'root' ? [...allowed, ...authorizedKeysIn(join(opts.runner.hostRoot, 'root/.ssh/authorized_keys'))] : []),
      exec: (command, io) => opts.runner.hostExec(command, io),
    },
    { ...(opts.host ? { host: opts.host } : {}), ...(opts.port !== undefined ? { port: opts.port } : {}), ...(opts.admits ? { admits: opts.admits } : {}) },
  );
  return {
    port: listener.port,
    fingerprint: sshFingerprint(parse(hostKey.public).getPublicSSH()),
    clientKeyPath,
    async close() {
      await listener.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
