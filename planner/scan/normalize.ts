// Proxmox / Tailscale API shapes → the live-state model (planner/state.ts). Pure; one function per source.
import type {
  BackupJob,
  ClusterResource,
  DiskInfo,
  FirewallRule,
  NetworkIface,
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

export function bridges(ifaces: NetworkIface[]): LiveBridge[] {
  return ifaces
    .filter((i) => i.type === 'bridge' || i.type === 'OVSBridge')
    .map((i) => ({
      iface: i.iface,
      type: i.type,
      active: i.active === 1,
      autostart: i.autostart === 1,
      bridge_ports: splitList(i.bridge_ports),
      ...(i.cidr ? { cidr: i.cidr } : {}),
      ...(i.gateway ? { gateway: i.gateway } : {}),
      ...(i.comments ? { comments: i.comments.trim() } : {}),
      // Staged, not applied: PVE lists interfaces.new, so a new bridge shows up before `PUT /network`, just not
      // active. (PVE puts the diff of other staged edits in the response's top-level `changes`; the simulator also
      // marks them per row in `pending`.)
      pending: (i.pending !== undefined && Object.keys(i.pending).length > 0) || i.active !== 1,
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

/** Leaf device names of a pool and its layout (`mirror-0` → mirror). */
export function zfsPool(summary: ZfsPoolSummary, detail: ZfsPoolDetail | undefined): LiveZfsPool {
  const devices: string[] = [];
  let raidlevel: string | undefined;
  // PVE nests the vdevs under a root entry named after the pool.
  type Vdev = { name: string; children?: Vdev[] };
  const top: Vdev[] = detail?.children ?? [];
  const vdevs = top.length === 1 && top[0]!.name === summary.name ? (top[0]!.children ?? []) : top;
  for (const child of vdevs) {
    if (child.children?.length) {
      raidlevel ??= child.name.replace(/-\d+$/, '');
      devices.push(...child.children.map((c) => c.name));
    } else {
      raidlevel ??= 'single';
      devices.push(child.name);
    }
  }
  return {
    name: summary.name,
    health: summary.health,
    size: summary.size,
    alloc: summary.alloc,
    free: summary.free,
    devices,
    ...(raidlevel ? { raidlevel } : {}),
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
