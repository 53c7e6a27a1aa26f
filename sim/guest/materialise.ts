// The scenario's state made real in the sandboxes, and the sandboxes' state read back into the lab: a guest's facts
// (Tailscale, Docker, the /opt/naas layout, mounts) seeded at its first use, the node's pools, datasets and sanoid
// policies, `qm` on the node working on the lab's VM configs, a joined `tailscale` showing up in the tailnet.
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { renderSanoidSection } from '../../infra/facts/sanoid-conf.ts';
import { imageBySha256 } from '../internet.ts';
import type { SimLab } from '../lab.ts';
import { readTailscaleNode, seedDocker, seedDataset, seedMount, seedPackages, seedPool, seedTailscale, seedUnit } from './seed.ts';

/** virtiofs shares: a mapping's tag, mounted in a guest, shows the host sandbox's directory (like the real device). */
export function linkSharedDirectories(lab: SimLab, guestRoot: string, hostRoot: string): void {
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

/** Scenario facts of a guest, written into its sandbox once (the OS itself comes from its boot disk). */
export function materialiseGuest(root: string, facts: Facts): void {
  mkdirSync(root, { recursive: true });
  const ts = obj(facts.tailscale);
  if (ts?.installed === true) {
    seedTailscale(root, { hostname: String(ts.hostname ?? ''), advertiseRoutes: strings(ts.advertisedRoutes), joined: ts.joined === true });
  }
  const docker = obj(facts.docker);
  if (docker?.installed === true) seedDocker(root, docker.compose === true);
  const homeAssistant = obj(facts.homeAssistant);
  if (homeAssistant?.running === true) seedUnit(root, 'hassos-supervisor', { enabled: true, active: true });
  // Add-ons the owner installed from the add-on store (e.g. core_mosquitto, the MQTT broker on 1883).
  for (const addon of strings(homeAssistant?.addons)) {
    mkdirSync(join(root, '.shim', 'state', 'addons'), { recursive: true });
    writeFileSync(join(root, '.shim', 'state', 'addons', addon), '');
  }
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
    // `running`: the projects that are up, with the ports they publish.
    const running = obj(layout.running) ?? {};
    for (const stack of strings(layout.stacks)) {
      const file = join(root, naas, 'stacks', stack, 'compose.yaml');
      const ports = strings(running[stack]);
      const services = running[stack] === undefined ? '{}' : `\n  ${stack}:\n    image: ${stack}\n${ports.length ? `    ports:\n${ports.map((p) => `      - "${p}"\n`).join('')}` : ''}`;
      if (!existsSync(file)) writeFileSync(file, `name: ${stack}\nservices: ${services}\n`);
      if (running[stack] !== undefined) {
        mkdirSync(join(root, '.shim', 'state', 'docker', 'projects'), { recursive: true });
        writeFileSync(join(root, '.shim', 'state', 'docker', 'projects', stack), '');
      }
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

export function materialiseHost(lab: SimLab, root: string): void {
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
export function writeQmConfigs(lab: SimLab, root: string): number {
  const dir = join(root, '.shim', 'state', 'qm');
  mkdirSync(dir, { recursive: true });
  for (const vm of lab.vms.values()) {
    const lines = Object.entries(vm.config).filter(([key]) => key !== 'digest').map(([key, value]) => `${key}: ${value}`);
    writeFileSync(join(dir, `${vm.vmid}.conf`), `${lines.join('\n')}\n`);
  }
  // What `qm disk import` checks and allocates against: the storages and the volumes that exist.
  writeFileSync(join(dir, 'storages'), [...lab.storages.values()].map((s) => `${s.storage}\t${s.type}\t${s.content}\n`).join(''));
  writeFileSync(join(dir, 'volumes'), lab.volumes.map((v) => `${v.volid}\n`).join(''));
  const ops = join(dir, 'ops');
  return existsSync(ops) ? statSync(ops).size : 0;
}

/**
 * What `qm disk import` and `qm set` did on the node becomes part of the lab's VM configs and volumes. An imported
 * volume holds what the file held (recognised by the SHA-256 the stand-in took of it), at the image's virtual size.
 */
export function applyQmOps(lab: SimLab, root: string, from: number): void {
  const ops = join(root, '.shim', 'state', 'qm', 'ops');
  if (!existsSync(ops)) return;
  const text = readFileSync(ops).subarray(from).toString('utf8');
  for (const line of text.split('\n').filter(Boolean)) {
    const [op, vmidText, key, value, bytes, sha256] = line.split('\t');
    const vm = lab.vms.get(Number(vmidText));
    if (!vm || !key || value === undefined) continue;
    if (op === 'import') {
      const image = imageBySha256(sha256 ?? '');
      const size = image ? image.virtualSizeGiB * GIB : Math.max(1, Math.ceil(Number(bytes ?? 0) / GIB)) * GIB;
      lab.volumes.push({ volid: value, vmid: vm.vmid, size, format: 'raw', content: 'images', ctime: Math.floor(Date.now() / 1000), ...(image ? { image } : {}) });
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
export function syncTailnet(lab: SimLab, vmid: number, root: string): void {
  const node = readTailscaleNode(root);
  if (!node) return;
  const guest = (lab.guests[vmid] ??= { facts: {} });
  const before = obj(guest.facts.tailscale);
  guest.facts.tailscale = { installed: true, joined: node.joined, hostname: node.hostname, advertisedRoutes: node.advertisedRoutes, funnel: before?.funnel === true };
  if (node.joined && node.hostname) lab.tailnet.upsertDevice({ hostname: node.hostname, advertisedRoutes: node.advertisedRoutes });
}
