// A real OpenSSH server on 127.0.0.1 for the SSH and step tests, in a per-run temp dir: host key and client key made
// with ssh-keygen, remote commands see the recording stand-ins (sim/guest/shims) first on PATH and JARVIS_ROOT set
// to a sandbox, so provisioning scripts run for real without touching this machine. Missing sshd is a failure.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHIMS_DIR } from '../../sim/guest/runner.ts';
import { Internet } from '../../sim/internet.ts';

const SSHD = '/usr/sbin/sshd';

export interface TestSshd {
  port: number;
  /** PID of the listening sshd (its per-connection processes are its descendants). */
  pid: number;
  /** `SHA256:…` of the server's host key, as ssh-keygen prints it. */
  fingerprint: string;
  clientKeyPath: string;
  /** JARVIS_ROOT of remote commands (host sandbox). */
  root: string;
  /** Guest sandboxes for `qm guest exec` (root of each is guestRoots/<vmid>). */
  guestRoots: string;
  dir: string;
  /** Lines of the stand-ins' call log: `<read|mutate|fetch>\t<tool>\t<argv>`. */
  calls(): string[];
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  await new Promise<void>((ok) => server.close(() => ok()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${stderr()}`);
    const ok = await new Promise<boolean>((done) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        done(true);
      });
      socket.once('error', () => done(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on 127.0.0.1:${port}: ${stderr()}`);
}

export async function startTestSshd(): Promise<TestSshd> {
  if (!existsSync(SSHD)) {
    throw new Error(`${SSHD} is missing: install openssh-server (.ci/run does) — the SSH tests need a real server`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'jarvis-sshd-'));
  const root = join(dir, 'root');
  const guestRoots = join(dir, 'guests');
  mkdirSync(root);
  mkdirSync(guestRoots);
  // What the curl stand-in can fetch: the simulator's internet table.
  const internet = join(dir, 'internet');
  new Internet().writeTo(internet);
  mkdirSync('/run/sshd', { recursive: true });
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  const clientKey = join(dir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-f', `${hostKey}.pub`], { encoding: 'utf8' }).split(' ')[1] ?? '';
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'AllowUsers root',
      'Subsystem sftp internal-sftp',
      // The stand-ins come first; JARVIS_ROOT points every provisioning path into the sandbox.
      `SetEnv PATH=${SHIMS_DIR}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin JARVIS_ROOT=${root} JARVIS_GUEST_ROOTS=${guestRoots} JARVIS_SIM_INTERNET=${internet}`,
      '',
    ].join('\n'),
  );
  execFileSync(SSHD, ['-t', '-f', config]);
  const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  await waitForPort(port, child, () => stderr);
  return {
    port,
    pid: child.pid!,
    fingerprint,
    clientKeyPath: clientKey,
    root,
    guestRoots,
    dir,
    calls() {
      const log = join(root, '.shim', 'calls.log');
      return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
