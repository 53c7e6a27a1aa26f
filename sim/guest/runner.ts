// The simulator's guests and node shell: commands run for real, as the guest agent or SSH would run them, but in a
// sandbox per machine (JARVIS_ROOT under a temp dir) with PATH = the recording stand-ins (sim/guest/shims) and a
// short list of harmless tools. A sandbox starts from the scenario's facts (lab.guests[vmid].facts, lab.hostFacts,
// lab.zpools); after that the stand-ins' state is the truth, and a `tailscale up` shows up in the sim's tailnet.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderSanoidSection } from '../../infra/facts/sanoid-conf.ts';
import type { GuestExecResult, SimLab } from '../lab.ts';
import {
  readTailscaleNode,
  seedBaseSystem,
  seedDataset,
  seedDocker,
  seedMount,
  seedPackages,
  seedPool,
  seedTailscale,
  seedUnit,
} from './seed.ts';

export const SHIMS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), 'shims');

/** Real tools a sandboxed script may call besides the stand-ins: file and text utilities, nothing that reaches out. */
const HARMLESS_TOOLS = [
  'bash', 'sh', 'timeout', 'env', 'cat', 'cp', 'mv', 'ln', 'rm', 'rmdir', 'mkdir', 'ls', 'find', 'sort', 'xargs', 'comm',
  'sha256sum', 'stat', 'chmod', 'chown', 'install', 'touch', 'readlink', 'dirname', 'basename', 'head', 'tail', 'grep',
  'sed', 'awk', 'tr', 'cut', 'wc', 'date', 'sleep', 'id', 'xz', 'mktemp', 'printf', 'echo', 'test', 'true', 'false',
  'tee', 'cksum', 'hostname', 'uname', 'cmp', 'diff',
];

/** A runaway script in the simulator is killed after this, whatever it asked for. */
const HARD_LIMIT_MS = 60 * 60 * 1000;

export interface RunIo {
  /** Text, or a stream piped in as it arrives (an SSH channel: EOF when the client closes its side). */
  stdin?: string | NodeJS.ReadableStream;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

export interface SimShellRunner {
  /** Plug into the lab: `lab.guestExec = runner.guestExec`. */
  guestExec(vmid: number, argv: string[], input?: string): Promise<GuestExecResult>;
  /** Runs a command line on the simulated node (what its SSH server hands to the login shell). */
  hostExec(command: string, io?: RunIo): Promise<number>;
  readonly hostRoot: string;
  guestRoot(vmid: number): string;
  close(): Promise<void>;
}

export function createSimShellRunner(lab: SimLab, opts: { dir?: string } = {}): SimShellRunner {
  const base = opts.dir ?? mkdtempSync(join(tmpdir(), 'jarvis-sim-shell-'));
  const ownsBase = opts.dir === undefined;
  const binDir = join(base, 'bin');
  const guestsDir = join(base, 'guests');
  const hostRoot = join(base, 'host');
  mkdirSync(binDir, { recursive: true });
  mkdirSync(guestsDir, { recursive: true });
  linkHarmlessTools(binDir);
  const seededGuests = new Set<number>();
  let hostSeeded = false;
  const running = new Set<ReturnType<typeof spawn>>();

  const guestRoot = (vmid: number): string => join(guestsDir, String(vmid));

  function ensureGuest(vmid: number): string {
    const root = guestRoot(vmid);
    linkSharedDirectories(lab, root, hostRoot);
    if (!seededGuests.has(vmid)) {
      seededGuests.add(vmid);
      materialiseGuest(root, lab.guests[vmid]?.facts ?? {});
    }
    return root;
  }

  function ensureHost(): void {
    if (!hostSeeded) {
      hostSeeded = true;
      seedBaseSystem(hostRoot);
      materialiseHost(lab, hostRoot);
    }
    // Pools made through the API since the last command exist on the node's shell too.
    for (const pool of lab.zpools.values()) {
      if (!existsSync(join(hostRoot, '.shim', 'state', 'zpool', pool.name))) seedPool(hostRoot, { name: pool.name, size: pool.size, alloc: pool.alloc });
    }
    // `qm guest exec` reaches the sandboxes of running VMs.
    for (const vm of lab.vms.values()) if (vm.status === 'running') ensureGuest(vm.vmid);
  }

  function run(argv: string[], root: string, extraEnv: Record<string, string>, io: RunIo): Promise<number> {
    return new Promise((resolveRun) => {
      const child = spawn(argv[0]!, argv.slice(1), {
        cwd: root,
        env: { PATH: `${SHIMS_DIR}:${binDir}`, JARVIS_ROOT: root, HOME: root, LANG: 'C.UTF-8', ...extraEnv },
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

  return {
    hostRoot,
    guestRoot,
    async guestExec(vmid, argv, input) {
      const root = ensureGuest(vmid);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const exitcode = await run(argv, root, {}, { ...(input !== undefined ? { stdin: input } : {}), onStdout: (c) => out.push(c), onStderr: (c) => err.push(c) });
      syncTailnet(lab, vmid, root);
      return { exitcode, out: Buffer.concat(out).toString('utf8'), err: Buffer.concat(err).toString('utf8') };
    },
    async hostExec(command, io = {}) {
      ensureHost();
      const qmOps = writeQmConfigs(lab, hostRoot);
      const code = await run(['bash', '-c', command], hostRoot, { JARVIS_GUEST_ROOTS: guestsDir }, io);
      applyQmOps(lab, hostRoot, qmOps);
      for (const vmid of seededGuests) syncTailnet(lab, vmid, guestRoot(vmid));
      return code;
    },
    async close() {
      for (const child of running) child.kill('SIGKILL');
      if (ownsBase) rmSync(base, { recursive: true, force: true });
    },
  };
}

function linkHarmlessTools(binDir: string): void {
  for (const tool of HARMLESS_TOOLS) {
    const target = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'].map((d) => join(d, tool)).find((p) => existsSync(p));
    if (target && !existsSync(join(binDir, tool))) symlinkSync(target, join(binDir, tool));
  }
}

/** virtiofs shares: a mapping's tag, mounted in a guest, shows the host sandbox's directory (like the real device). */
function linkSharedDirectories(lab: SimLab, guestRoot: string, hostRoot: string): void {
  for (const mapping of lab.dirMappings.values()) {
    const path = /(?:^|,)path=([^,]+)/.exec(mapping.map.find((m) => m.includes(`node=${lab.node}`)) ?? mapping.map[0] ?? '')?.[1];
    if (!path) continue;
    const backing = join(guestRoot, '.shim', 'state', 'fs', mapping.id);
    if (existsSync(backing) || isSymlink(backing)) continue;
    mkdirSync(join(hostRoot, path), { recursive: true });
    mkdirSync(dirname(backing), { recursive: true });
    symlinkSync(join(hostRoot, path), backing);
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

type Facts = Record<string, unknown>;
const obj = (v: unknown): Facts | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Facts) : undefined);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function materialiseGuest(root: string, facts: Facts): void {
  mkdirSync(root, { recursive: true });
  seedBaseSystem(root, facts.os === 'haos' ? 'haos' : 'debian');
  const ts = obj(facts.tailscale);
  if (ts?.installed === true) {
    seedTailscale(root, { hostname: String(ts.hostname ?? ''), advertiseRoutes: strings(ts.advertisedRoutes), joined: ts.joined === true });
  }
  const docker = obj(facts.docker);
  if (docker?.installed === true) seedDocker(root, docker.compose === true);
  const homeAssistant = obj(facts.homeAssistant);
  if (homeAssistant?.running === true) seedUnit(root, 'hassos-supervisor', { enabled: true, active: true });
  // Mounts first: a layout under a mounted share lands on the host dataset, as it would for real.
  for (const mount of Array.isArray(facts.mounts) ? facts.mounts : []) {
    const m = obj(mount);
    if (m && typeof m.target === 'string' && typeof m.source === 'string') seedMount(root, { target: m.target, source: m.source, fstype: String(m.fstype ?? 'virtiofs') });
  }
  const layout = obj(facts.naasLayout);
  if (layout?.present === true) {
    const naas = typeof layout.root === 'string' ? layout.root : '/opt/naas';
    const gid = docker?.installed === true ? 989 : 0;
    const dirs: Array<[string, number]> = [[naas, 0o755], ...['stacks', 'appdata', 'logs'].map((d): [string, number] => [`${naas}/${d}`, 0o750])];
    for (const stack of strings(layout.stacks)) {
      for (const d of ['stacks', 'appdata', 'logs']) dirs.push([`${naas}/${d}/${stack}`, 0o750]);
    }
    for (const [dir, mode] of dirs) {
      mkdirSync(join(root, dir), { recursive: true });
      chmodSync(join(root, dir), mode);
      tryChown(join(root, dir), 0, gid);
    }
    for (const stack of strings(layout.stacks)) {
      const file = join(root, naas, 'stacks', stack, 'compose.yaml');
      if (!existsSync(file)) writeFileSync(file, `name: ${stack}\nservices: {}\n`);
    }
  }
}

/** Ownership as the real system would have it; outside root the simulator keeps the caller's ids. */
function tryChown(path: string, uid: number, gid: number): void {
  try {
    chownSync(path, uid, gid);
  } catch {
    // Not running as root: ownership cannot be simulated, modes still are.
  }
}

function materialiseHost(lab: SimLab, root: string): void {
  for (const pool of lab.zpools.values()) seedPool(root, { name: pool.name, size: pool.size, alloc: pool.alloc });
  const byDepth = [...lab.hostFacts.datasets].sort((a, b) => a.name.split('/').length - b.name.split('/').length);
  for (const dataset of byDepth) seedDataset(root, dataset.name, dataset.properties);
  const sections: string[] = [];
  for (const policy of lab.hostFacts.snapshotPolicies) {
    const dataset = String(policy.dataset);
    const retention = obj(policy.retention) ?? {};
    sections.push(
      renderSanoidSection({
        dataset,
        frequency: policy.frequency === 'hourly' ? 'hourly' : 'daily',
        retention: Object.fromEntries(Object.entries(retention).filter((e): e is [string, number] => typeof e[1] === 'number')),
      }),
    );
  }
  if (sections.length > 0) {
    seedPackages(root, ['sanoid']);
    seedUnit(root, 'sanoid.timer', { enabled: true, active: true });
    mkdirSync(join(root, 'etc', 'sanoid'), { recursive: true });
    writeFileSync(join(root, 'etc', 'sanoid', 'sanoid.conf'), `${sections.join('\n')}\n`);
  }
}

/** `qm config` on the node answers from the lab's VM configs; returns where the qm stand-in's journal ends now. */
function writeQmConfigs(lab: SimLab, root: string): number {
  const dir = join(root, '.shim', 'state', 'qm');
  mkdirSync(dir, { recursive: true });
  for (const vm of lab.vms.values()) {
    const lines = Object.entries(vm.config).filter(([key]) => key !== 'digest').map(([key, value]) => `${key}: ${value}`);
    writeFileSync(join(dir, `${vm.vmid}.conf`), `${lines.join('\n')}\n`);
  }
  const ops = join(dir, 'ops');
  return existsSync(ops) ? statSync(ops).size : 0;
}

/** What `qm disk import` and `qm set` did on the node becomes part of the lab's VM configs and volumes. */
function applyQmOps(lab: SimLab, root: string, from: number): void {
  const ops = join(root, '.shim', 'state', 'qm', 'ops');
  if (!existsSync(ops)) return;
  const text = readFileSync(ops).subarray(from).toString('utf8');
  for (const line of text.split('\n').filter(Boolean)) {
    const [op, vmidText, key, value, bytes] = line.split('\t');
    const vm = lab.vms.get(Number(vmidText));
    if (!vm || !key || value === undefined) continue;
    if (op === 'import') {
      const size = Math.max(1, Math.ceil(Number(bytes ?? 0) / GIB)) * GIB;
      lab.volumes.push({ volid: value, vmid: vm.vmid, size, format: 'raw', content: 'images', ctime: Math.floor(Date.now() / 1000) });
      vm.config[key] = value;
    } else if (op === 'set') {
      const volume = lab.volumes.find((v) => v.volid === value.split(',')[0]);
      for (const [slot, current] of Object.entries(vm.config)) if (/^unused\d+$/.test(slot) && current === volume?.volid) delete vm.config[slot];
      // qemu-server records the size of an attached volume in the drive string.
      vm.config[key] = volume && !/size=/.test(value) ? `${value},size=${Math.round(volume.size / GIB)}G` : value;
    }
  }
}

const GIB = 1024 ** 3;

/** A joined node appears in the sim's tailnet with its advertised routes; the guest's facts follow the stand-in. */
function syncTailnet(lab: SimLab, vmid: number, root: string): void {
  const node = readTailscaleNode(root);
  if (!node) return;
  const guest = (lab.guests[vmid] ??= { facts: {} });
  const before = obj(guest.facts.tailscale);
  guest.facts.tailscale = { installed: true, joined: node.joined, hostname: node.hostname, advertisedRoutes: node.advertisedRoutes, funnel: before?.funnel === true };
  if (node.joined && node.hostname) lab.tailnet.upsertDevice({ hostname: node.hostname, advertisedRoutes: node.advertisedRoutes });
}
