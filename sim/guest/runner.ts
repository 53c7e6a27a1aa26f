// The simulator's guests and node shell: commands run for real, as the guest agent or SSH would run them, but in a
// sandbox per machine (JARVIS_ROOT under a temp dir) with PATH = the recording stand-ins (sim/guest/shims) a system
// has and a short list of harmless tools. A guest's sandbox is its root filesystem: made from its boot disk's image
// at boot (sim/guest/system.ts), with the scenario's facts added at first use; after that the stand-ins' state is the
// truth. The runner attaches itself to the lab (guest exec, the guests' system, the node's files); runners made for
// the same lab share its sandboxes.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GuestOs, GuestSystem } from '../guest-runtime.ts';
import type { GuestExecResult, SimLab } from '../lab.ts';
import { SandboxNodeFiles } from '../node-files.ts';
import { applyQmOps, linkSharedDirectories, materialiseGuest, materialiseHost, syncTailnet, writeQmConfigs } from './materialise.ts';
import { seedBaseSystem, seedPool, seedPveAptSources } from './seed.ts';
import { agentActive, bootSandbox, netplanTexts, sandboxDisk, sandboxOs } from './system.ts';
import { bringUp } from '../net/guest-net.ts';
import { listening } from './listening.ts';
import { lastInstance } from './cloud-init.ts';
import { startOracle } from './oracle.ts';
import { runTool } from '../net/tools.ts';
import type { Asker } from '../net/tool-answer.ts';

export const SHIMS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), 'shims');

/** Real tools a sandboxed script may call besides the stand-ins: file and text utilities, nothing that reaches out. */
export const HARMLESS_TOOLS = [
  'bash', 'sh', 'timeout', 'env', 'cat', 'cp', 'mv', 'ln', 'rm', 'rmdir', 'mkdir', 'ls', 'find', 'sort', 'xargs', 'comm',
  'sha256sum', 'sha512sum', 'stat', 'chmod', 'chown', 'install', 'touch', 'readlink', 'dirname', 'basename', 'head',
  'tail', 'grep', 'sed', 'awk', 'tr', 'cut', 'wc', 'date', 'sleep', 'id', 'xz', 'mktemp', 'printf', 'echo', 'test', 'true',
  'false', 'tee', 'cksum', 'hostname', 'uname', 'cmp', 'diff', 'tar', 'gzip', 'base64', 'ssh-keygen',
];

/**
 * The stand-ins Home Assistant OS has (operating-system ova_defconfig: systemd, Docker, curl, iproute2, busybox's
 * ping; busybox.config has no nc); no apt, no dpkg, no Tailscale, no networkctl (NetworkManager).
 */
const HAOS_SHIMS = ['systemctl', 'docker', 'curl', 'mount', 'umount', 'findmnt', 'getent', 'sysctl', 'ip', 'ping'];

/** Programs whose stand-in exists only once their package is installed (for qemu-ga's spawn of the binary). */
const PACKAGE_OF: Record<string, string> = { nc: 'netcat-openbsd' };

/** A runaway script in the simulator is killed after this, whatever it asked for. */
const HARD_LIMIT_MS = 60 * 60 * 1000;

export interface RunIo {
  /** Text, or a stream piped in as it arrives (an SSH channel: EOF when the client closes its side). */
  stdin?: string | NodeJS.ReadableStream;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

export interface SimShellRunner {
  /** What the lab's guest agent runs (attached as `lab.guestExec`). */
  guestExec(vmid: number, argv: string[], input?: string): Promise<GuestExecResult>;
  /** Runs a command line on the simulated node (what its SSH server hands to the login shell). */
  hostExec(command: string, io?: RunIo): Promise<number>;
  /** Runs a command line in a guest (what its sshd hands to the login shell). */
  guestShell(vmid: number, command: string, io?: RunIo): Promise<number>;
  readonly hostRoot: string;
  guestRoot(vmid: number): string;
  close(): Promise<void>;
}

export function createSimShellRunner(lab: SimLab, opts: { dir?: string } = {}): SimShellRunner {
  const ownsBase = opts.dir === undefined && lab.sandboxDir === undefined;
  const base = opts.dir ?? (lab.sandboxDir ??= mkdtempSync(join(tmpdir(), 'jarvis-sim-shell-')));
  const binDir = join(base, 'bin');
  const haosShims = join(base, 'haos-shims');
  const guestsDir = join(base, 'guests');
  const hostRoot = join(base, 'host');
  const internetDir = join(base, 'internet');
  // OPNsense guests: nothing the simulator runs is on their PATH.
  const emptyDir = join(base, 'no-tools');
  for (const dir of [binDir, haosShims, guestsDir, hostRoot, emptyDir]) mkdirSync(dir, { recursive: true });
  linkHarmlessTools(binDir);
  for (const shim of ['_shim.sh', ...HAOS_SHIMS]) if (!existsSync(join(haosShims, shim))) symlinkSync(join(SHIMS_DIR, shim), join(haosShims, shim));
  const pathOf = (os: GuestOs | undefined): string =>
    os === 'opnsense' || os === 'opnsense-installer' ? emptyDir : `${os === 'haos' ? haosShims : SHIMS_DIR}:${binDir}`;
  let internetRevision = -1;
  const running = new Set<ReturnType<typeof spawn>>();

  const guestRoot = (vmid: number): string => join(guestsDir, String(vmid));

  /** The machine a stand-in runs on, from its sandbox root. */
  const identify = (root: string): Asker | undefined => {
    const path = resolve(root);
    if (path === resolve(hostRoot)) return { kind: 'node' };
    const vmid = path.startsWith(`${resolve(guestsDir)}/`) ? Number(basename(path)) : NaN;
    return Number.isInteger(vmid) && dirname(path) === resolve(guestsDir) ? { kind: 'guest', vmid } : undefined;
  };
  const oracle = startOracle(identify, (asker, tool, args) => runTool(lab, asker, tool, args));

  /** The scenario's facts of a booted guest, written once at its first use. */
  function ensureGuest(vmid: number): string {
    const root = guestRoot(vmid);
    linkSharedDirectories(lab, root, hostRoot);
    if (!existsSync(join(root, '.shim', 'facts'))) {
      materialiseGuest(root, lab.guests[vmid]?.facts ?? {});
      mkdirSync(join(root, '.shim'), { recursive: true });
      writeFileSync(join(root, '.shim', 'facts'), '');
    }
    return root;
  }

  function ensureHost(): void {
    if (!existsSync(join(hostRoot, '.shim', 'seeded'))) {
      seedBaseSystem(hostRoot);
      seedPveAptSources(hostRoot, lab.hostFacts.aptSources ?? 'enterprise');
      materialiseHost(lab, hostRoot);
      mkdirSync(join(hostRoot, '.shim'), { recursive: true });
      writeFileSync(join(hostRoot, '.shim', 'seeded'), '');
    }
    // Pools made through the API since the last command exist on the node's shell too.
    for (const pool of lab.zpools.values()) {
      if (!existsSync(join(hostRoot, '.shim', 'state', 'zpool', pool.name))) seedPool(hostRoot, { name: pool.name, size: pool.size, alloc: pool.alloc });
    }
    // `qm guest exec` reaches the guests whose agent answers (the qm stand-in looks for .shim/agent).
    for (const vm of lab.vms.values()) {
      const marker = join(guestRoot(vm.vmid), '.shim', 'agent');
      if (lab.guestSystem.agentRunning(vm.vmid) && vm.boot?.ready && vm.status === 'running') {
        ensureGuest(vm.vmid);
        writeFileSync(marker, '');
      } else rmSync(marker, { force: true });
    }
  }

  async function run(argv: string[], root: string, path: string, extraEnv: Record<string, string>, io: RunIo): Promise<number> {
    if (lab.internet.revision !== internetRevision) {
      lab.internet.writeTo(internetDir);
      internetRevision = lab.internet.revision;
    }
    const oraclePort = String(await oracle.port);
    return new Promise((resolveRun) => {
      const child = spawn(argv[0]!, argv.slice(1), {
        cwd: root,
        env: { PATH: path, JARVIS_ROOT: root, JARVIS_SIM_INTERNET: internetDir, JARVIS_SIM_ORACLE: oraclePort, JARVIS_REAL_NODE: process.execPath, HOME: root, LANG: 'C.UTF-8', ...extraEnv },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      running.add(child);
      const limit = setTimeout(() => child.kill('SIGKILL'), HARD_LIMIT_MS);
      child.stdout.on('data', (c: Buffer) => io.onStdout?.(c));
      child.stderr.on('data', (c: Buffer) => io.onStderr?.(c));
      child.stdin.on('error', () => undefined);
      if (typeof io.stdin === 'object') io.stdin.pipe(child.stdin);
      else child.stdin.end(io.stdin ?? '');
      const done = (code: number): void => {
        clearTimeout(limit);
        running.delete(child);
        resolveRun(code);
      };
      child.on('error', (error) => {
        io.onStderr?.(Buffer.from(`${argv[0]}: ${error.message}\n`));
        done(127);
      });
      child.on('close', (code, signal) => done(code ?? (signal ? 128 + 9 : 1)));
    });
  }

  async function capture(argv: string[], root: string, path: string, input?: string): Promise<GuestExecResult> {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const exitcode = await run(argv, root, path, {}, { ...(input !== undefined ? { stdin: input } : {}), onStdout: (c) => out.push(c), onStderr: (c) => err.push(c) });
    return { exitcode, out: Buffer.concat(out).toString('utf8'), err: Buffer.concat(err).toString('utf8') };
  }

  const system: GuestSystem = {
    async boot(plan) {
      const root = guestRoot(plan.vmid);
      const path = pathOf(plan.os);
      await bootSandbox(
        root,
        plan,
        path,
        async (argv) => {
          const result = await capture(argv, root, path);
          return { code: result.exitcode, output: result.out + result.err };
        },
        () => bringUp(lab, plan.vmid, netplanTexts(root)),
      );
      syncTailnet(lab, plan.vmid, root);
    },
    agentRunning: (vmid) => agentActive(guestRoot(vmid)),
    cloudInitDone: (vmid, diskId, instanceId) => sandboxDisk(guestRoot(vmid)) === diskId && lastInstance(guestRoot(vmid)) === instanceId,
    hasCommand(vmid, command) {
      const os = sandboxOs(guestRoot(vmid));
      // A program its package ships is not on the disk until the package is installed.
      const needs = PACKAGE_OF[basename(command)];
      if (needs && !existsSync(join(guestRoot(vmid), '.shim', 'state', 'dpkg', needs))) return false;
      const dirs = pathOf(os).split(':');
      // /bin/sh and friends: the system's own copy of the program of that name.
      return dirs.some((dir) => existsSync(join(dir, basename(command))));
    },
    forget: (vmid) => rmSync(guestRoot(vmid), { recursive: true, force: true }),
    netplan: (vmid) => netplanTexts(guestRoot(vmid)),
    listening: (vmid) => listening(ensureGuest(vmid)),
    sysctl(vmid, key) {
      const file = join(ensureGuest(vmid), '.shim', 'state', 'sysctl', key);
      return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
    },
  };

  const runner: SimShellRunner = {
    hostRoot,
    guestRoot,
    async guestExec(vmid, argv, input) {
      const root = ensureGuest(vmid);
      const result = await capture(argv, root, pathOf(sandboxOs(root)), input);
      syncTailnet(lab, vmid, root);
      return result;
    },
    async guestShell(vmid, command, io = {}) {
      const root = ensureGuest(vmid);
      const code = await run(['bash', '-c', command], root, pathOf(sandboxOs(root)), {}, io);
      syncTailnet(lab, vmid, root);
      return code;
    },
    async hostExec(command, io = {}) {
      ensureHost();
      const qmOps = writeQmConfigs(lab, hostRoot);
      const code = await run(['bash', '-c', command], hostRoot, pathOf(undefined), { JARVIS_GUEST_ROOTS: guestsDir }, io);
      applyQmOps(lab, hostRoot, qmOps);
      for (const vm of lab.vms.values()) if (existsSync(guestRoot(vm.vmid))) syncTailnet(lab, vm.vmid, guestRoot(vm.vmid));
      return code;
    },
    async close() {
      for (const child of running) child.kill('SIGKILL');
      await oracle.close();
      if (ownsBase) rmSync(base, { recursive: true, force: true });
    },
  };
  lab.guestExec = runner.guestExec;
  lab.guestSystem = system;
  lab.nodeFiles = new SandboxNodeFiles(hostRoot);
  return runner;
}

/** Links this machine's harmless tools into `binDir`, the rest of a sandbox's PATH after the stand-ins. */
export function linkHarmlessTools(binDir: string): void {
  for (const tool of HARMLESS_TOOLS) {
    const target = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'].map((d) => join(d, tool)).find((p) => existsSync(p));
    if (target && !existsSync(join(binDir, tool))) symlinkSync(target, join(binDir, tool));
  }
}
