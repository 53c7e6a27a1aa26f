// Proxmox / Tailscale API shapes → the live-state model (planner/state.ts). Pure; one function per source.
import type {
  BackupJob,
  ClusterResource,
  DiskInfo,
  FirewallRule,
  NetworkIface,
  NetworkListing,
  StorageConfig,
  ZfsPoolDetail,
  ZfsPoolSummary,
} from '../../infra/proxmox/api.ts';
import type { TailnetDevice, TailnetPolicy } from '../../infra/tailscale/api.ts';
import { parsePropertyString } from '../../lib/pve-formats.ts';
import type {
  LiveBackupJob,
  LiveBridge,
  LiveDisk,
  LiveFirewallRule,
  LiveStorage,
  LiveTailnet,
  LiveZfsPool,
  VmResource,
} from '../state.ts';
import { tagSet } from '../pve-values.ts';
import { stagedInterfaces } from './network-changes.ts';

const splitList = (value: string | undefined, separator = /[,;\s]+/): string[] =>
  (value ?? '').split(separator).map((s) => s.trim()).filter(Boolean);

export function vmResources(resources: ClusterResource[]): VmResource[] {
  return resources
    .filter((r) => r.type === 'qemu' && r.vmid !== undefined)
    .map((r) => ({
      vmid: r.vmid!,
      name: r.name ?? '',
      node: r.node ?? '',
      status: r.status ?? 'unknown',
      tags: tagSet(r.tags),
      ...(r.lock ? { lock: r.lock } : {}),
      template: r.template === 1,
      ...(r.uptime !== undefined ? { uptime: r.uptime } : {}),
      ...(r.maxmem !== undefined ? { maxmem: r.maxmem } : {}),
      ...(r.maxdisk !== undefined ? { maxdisk: r.maxdisk } : {}),
    }));
}

/** Storage usage from /cluster/resources (type storage, this node). */
export function storageUsage(resources: ClusterResource[], node: string): LiveStorage[] {
  return resources
    .filter((r) => r.type === 'storage' && r.storage && (!r.node || r.node === node))
    .map((r) => ({
      storage: r.storage!,
      type: r.plugintype ?? 'unknown',
      content: splitList(r.content),
      disable: false,
      ...(r.disk !== undefined ? { used: r.disk } : {}),
      ...(r.maxdisk !== undefined ? { total: r.maxdisk } : {}),
    }));
}

export function pruneRecord(value: Record<string, number> | string | undefined): Record<string, number> | undefined {
  if (value === undefined || value === '') return undefined;
  const raw = typeof value === 'string' ? parsePropertyString(value) : value;
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
}

export function storages(configs: StorageConfig[], usage: LiveStorage[]): LiveStorage[] {
  return configs.map((c) => {
    const used = usage.find((u) => u.storage === c.storage);
    const prune = pruneRecord(c['prune-backups']);
    return {
      storage: c.storage,
      type: c.type,
      content: splitList(c.content).sort(),
      ...(c.path ? { path: c.path } : {}),
      ...(c.pool ? { pool: c.pool } : {}),
      disable: c.disable === 1,
      ...(prune ? { 'prune-backups': prune } : {}),
      ...(used?.used !== undefined ? { used: used.used } : {}),
      ...(used?.total !== undefined ? { total: used.total } : {}),
    };
  });
}

/**
 * The ports of a bridge that connect it to something else. An Open vSwitch bridge lists its ports in `ovs_ports`
 * (pve-common src/PVE/Network/Interfaces.pm), internal ports included: those (OVSIntPort, e.g. a tagged management
 * interface) are the host's own addresses on the bridge, what a VLAN interface is on a Linux bridge, not ports.
 */
function portsOf(bridge: NetworkIface, all: NetworkIface[]): string[] {
  if (bridge.type !== 'OVSBridge') return splitList(bridge.bridge_ports);
  const internal = new Set(all.filter((i) => i.type === 'OVSIntPort').map((i) => i.iface));
  return splitList(bridge.ovs_ports).filter((port) => !internal.has(port));
}

export function bridges(listing: NetworkListing): LiveBridge[] {
  const staged = stagedInterfaces(listing.changes);
  return listing.interfaces
    .filter((i) => i.type === 'bridge' || i.type === 'OVSBridge')
    .map((i) => ({
      iface: i.iface,
      type: i.type,
      // `active` is "up" (IFF_UP), not "applied": a bridge without an `auto` line stays down after an apply.
      active: i.active === 1,
      autostart: i.autostart === 1,
      bridge_ports: portsOf(i, listing.interfaces),
      ...(i.cidr ? { cidr: i.cidr } : {}),
      ...(i.gateway ? { gateway: i.gateway } : {}),
      ...(i.comments ? { comments: i.comments.trim() } : {}),
      // Staged, not applied: the list shows interfaces.new, and only the envelope's `changes` diff tells the two apart.
      pending: staged.has(i.iface),
      ...(staged.get(i.iface) === 'new' ? { stagedNew: true } : {}),
    }))
    .sort((a, b) => a.iface.localeCompare(b.iface));
}

export function disks(list: DiskInfo[]): LiveDisk[] {
  return list.map((d) => ({
    devpath: d.devpath,
    byId: d.by_id_link ? [d.by_id_link.replace(/^\/dev\/disk\/by-id\//, '')] : [],
    size: d.size,
    ...(d.model ? { model: d.model } : {}),
    ...(d.serial ? { serial: d.serial } : {}),
    ...(d.used ? { used: d.used } : {}),
    ...(d.health ? { health: d.health } : {}),
  }));
}

type Vdev = { name: string; children?: Vdev[] };

/** Sections `zpool status` prints beside the pool's own tree; ZFS.pm puts them next to the pool's root entry. */
const VDEV_SECTIONS = ['logs', 'cache', 'spares', 'special', 'dedup'] as const;

/** Device names under a vdev (`/dev/disk/by-id/` dropped: `zpool status -P` prints full paths). */
function leaves(vdev: Vdev): string[] {
  if (!vdev.children?.length) return [vdev.name.replace(/^\/dev\/disk\/by-id\//, '')];
  return vdev.children.flatMap(leaves);
}

/** PVE's raidlevel names for a pool's data vdevs (`mirror-0` → mirror, two mirrors → raid10, `raidz1-0` → raidz). */
function layoutOf(vdevs: Vdev[]): string | undefined {
  if (vdevs.length === 0) return undefined;
  const kinds = vdevs.map((vdev) => (vdev.children?.length ? vdev.name.replace(/-\d+$/, '') : 'disk'));
  const kind = kinds[0]!;
  if (kinds.some((other) => other !== kind)) return [...new Set(kinds)].join('+');
  if (kind === 'disk') return vdevs.length === 1 ? 'single' : 'stripe';
  if (kind === 'mirror') return vdevs.length === 1 ? 'mirror' : 'raid10';
  if (kind === 'raidz1') return 'raidz';
  const draid = /^draid(\d)/.exec(kind);
  if (draid) return draid[1] === '1' ? 'draid' : `draid${draid[1]}`;
  return kind;
}

/**
 * A pool's layout and devices from its detail. pve-storage src/PVE/API2/Disks/ZFS.pm turns `zpool status -P` into a
 * tree whose top level holds the pool's root entry (named after the pool, with the data vdevs below it) and, beside
 * it, one entry per section: `logs`, `cache`, `spares`, `special`, `dedup`.
 */
export function zfsPool(summary: ZfsPoolSummary, detail: ZfsPoolDetail | undefined): LiveZfsPool {
  const top: Vdev[] = detail?.children ?? [];
  const root = top.find((vdev) => vdev.name === summary.name);
  const data = root ? (root.children ?? []) : top.filter((vdev) => !(VDEV_SECTIONS as readonly string[]).includes(vdev.name));
  const raidlevel = layoutOf(data);
  const sections: Partial<Record<(typeof VDEV_SECTIONS)[number], string[]>> = {};
  for (const name of VDEV_SECTIONS) {
    const section = top.find((vdev) => vdev.name === name);
    if (section?.children?.length) sections[name] = section.children.flatMap(leaves);
  }
  return {
    name: summary.name,
    health: summary.health,
    size: summary.size,
    alloc: summary.alloc,
    free: summary.free,
    devices: data.flatMap(leaves),
    ...(raidlevel ? { raidlevel } : {}),
    ...sections,
  };
}

export function firewallRules(rules: FirewallRule[]): LiveFirewallRule[] {
  return [...rules]
    .sort((a, b) => a.pos - b.pos)
    .map((r) => {
      const out: LiveFirewallRule = { pos: r.pos, type: r.type, action: r.action, enable: r.enable === 1 };
      for (const key of ['source', 'dest', 'proto', 'dport', 'sport', 'iface', 'macro', 'log', 'comment'] as const) {
        const value = r[key];
        if (value !== undefined && value !== '') out[key] = String(value);
      }
      return out;
    });
}

export function backupJobs(jobs: BackupJob[]): LiveBackupJob[] {
  return jobs
    .filter((j) => j.type === undefined || j.type === 'vzdump')
    .map((j) => ({
      id: j.id,
      schedule: j.schedule ?? '',
      storage: j.storage ?? '',
      mode: j.mode ?? 'snapshot',
      ...(j.compress !== undefined ? { compress: String(j.compress) } : {}),
      vmid: splitList(j.vmid).map(Number).sort((a, b) => a - b),
      all: j.all === 1,
      enabled: j.enabled === undefined ? true : Number(j.enabled) === 1,
      'prune-backups': pruneRecord(j['prune-backups']) ?? { 'keep-all': 1 },
      ...(j.comment ? { comment: j.comment } : {}),
    }));
}

export function dirMappings(list: Array<{ id: string; map: string[] }>, node: string): Array<{ id: string; path: string }> {
  return list.flatMap((m) => {
    const entry = m.map.map((item) => parsePropertyString(item)).find((p) => p.node === node);
    return entry?.path ? [{ id: m.id, path: entry.path }] : [];
  });
}

export function tailnet(devices: TailnetDevice[], policy: TailnetPolicy): LiveTailnet {
  return {
    devices: devices.map((d) => ({
      nodeId: d.nodeId,
      hostname: d.hostname,
      name: d.name,
      addresses: d.addresses,
      online: d.connectedToControl ?? false,
      authorized: d.authorized,
      advertisedRoutes: [...d.advertisedRoutes].sort(),
      enabledRoutes: [...d.enabledRoutes].sort(),
      ...(d.expires ? { expires: d.expires } : {}),
      keyExpiryDisabled: d.keyExpiryDisabled,
      ...(d.lastSeen ? { lastSeen: d.lastSeen } : {}),
    })),
    funnelTargets: (policy.nodeAttrs ?? []).filter((a) => a.attr.includes('funnel')).flatMap((a) => a.target),
  };
}
