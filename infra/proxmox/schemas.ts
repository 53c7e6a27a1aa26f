// zod schemas for the answers of the Proxmox calls in api.ts. Lenient where PVE is, strict on the fields Jarvis relies
// on; the parsed values have the shapes declared in api.ts. What real nodes send, and these schemas accept:
// - extra keys (kept);
// - numbers as strings ("vlan-id": "10", "active": "1") and strings as numbers (a Perl scalar last used as a number);
// - flags as 0/1, "0"/"1" or true/false (Jarvis sees 0/1);
// - an optional value left out OR sent as `null`: a Perl `undef` that reached the JSON encoder, e.g. `exists` of a
//   VLAN whose raw device is a bridge (pve-common src/PVE/Network/Interfaces.pm copies the bridge's undefined
//   `exists`). Both mean "not set"; a `null` in a field Jarvis requires is still an error naming the field.
import { z } from 'zod';
import type * as Api from './api.ts';

/**
 * `data[3].vmid: expected number, received string` — the field path from the `data` root, or from the envelope when
 * the schema reads the whole answer (`root` empty).
 */
export function describeIssue(issue: z.core.$ZodIssue, root = 'data'): string {
  const path = issue.path
    .map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`))
    .join('');
  return `${root ? `${root}${path}` : path.replace(/^\./, '')}: ${issue.message}`;
}

const numeric = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i;

/** A number, or a numeric string as some PVE endpoints send. */
const num = z.preprocess((value) => (typeof value === 'string' && numeric.test(value.trim()) ? Number(value) : value), z.number());
/** PVE flags arrive as 0/1, "0"/"1" or true/false depending on the endpoint; Jarvis sees 0/1. */
const flag = z.preprocess(
  (value) => (typeof value === 'boolean' ? (value ? 1 : 0) : typeof value === 'string' && numeric.test(value.trim()) ? Number(value) : value),
  z.number(),
);
/** A string; a number is taken as its decimal text (a serial, a name or a comment of digits only). */
const text = z.preprocess((value) => (typeof value === 'number' ? String(value) : value), z.string());
/** Config values: strings or numbers (a boolean is sent by a few endpoints and kept as 0/1). */
const pveValue = z.union([z.string(), z.number(), z.boolean().transform((value) => (value ? 1 : 0))]);

/**
 * An object of a PVE answer: extra keys pass, and an optional key sent as `null` is read as absent. Which keys are
 * optional is decided on first use, so a shape may refer to the schema being defined (nested vdevs).
 */
export function pveObject<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  let optionalKeys: Set<string> | undefined;
  const withoutNullOptionals = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    optionalKeys ??= new Set(Object.keys(shape).filter((key) => (shape[key] as z.ZodType).safeParse(undefined).success));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) if (item !== null || !optionalKeys.has(key)) out[key] = item;
    return out;
  };
  return z.preprocess(withoutNullOptionals, z.looseObject(shape));
}

export const upid = z.string().regex(/^UPID:[A-Za-z0-9][A-Za-z0-9-]*:/, 'expected a task id (UPID:node:…)');
export const upidOrNull = z.union([upid, z.null()]);
export const nothing = z.unknown();

export const version = pveObject({ version: text, release: text, repoid: text });

export const clusterResources: z.ZodType<Api.ClusterResource[]> = z.array(
  pveObject({
    id: text,
    type: text,
    node: text.optional(),
    vmid: num.optional(),
    name: text.optional(),
    status: text.optional(),
    tags: text.optional(),
    template: flag.optional(),
    lock: text.optional(),
    uptime: num.optional(),
    cpu: num.optional(),
    maxcpu: num.optional(),
    mem: num.optional(),
    maxmem: num.optional(),
    disk: num.optional(),
    maxdisk: num.optional(),
    storage: text.optional(),
    plugintype: text.optional(),
    content: text.optional(),
    shared: flag.optional(),
  }),
);

export const record = z.record(z.string(), z.unknown());

export const nodeTime: z.ZodType<Api.NodeTime> = pveObject({ timezone: text, time: num, localtime: num.optional() });

export const nodeStatus: z.ZodType<Api.NodeStatus> = pveObject({
  cpu: num,
  memory: pveObject({ total: num, used: num, free: num }),
  uptime: num,
  pveversion: text,
  loadavg: z.array(text).optional(),
  rootfs: pveObject({ total: num, used: num, avail: num }).optional(),
});

export const permissions = z.record(z.string(), z.record(z.string(), flag));

export const vmConfig = z
  .record(z.string(), pveValue)
  .refine((config) => typeof config.digest === 'string', { message: 'expected a "digest" string in the config' })
  .transform(({ digest, ...config }) => ({ config, digest: String(digest) }));

export const vmStatus: z.ZodType<Api.VmCurrentStatus> = pveObject({
  vmid: num,
  status: z.enum(['running', 'stopped']),
  qmpstatus: text.optional(),
  name: text.optional(),
  uptime: num.optional(),
  agent: flag.optional(),
  lock: text.optional(),
  tags: text.optional(),
});

export const snapshots: z.ZodType<Api.SnapshotInfo[]> = z.array(
  pveObject({
    name: text,
    description: text.optional(),
    parent: text.optional(),
    snaptime: num.optional(),
    vmstate: flag.optional(),
    snapstate: text.optional(),
  }),
);

export const agentExec = pveObject({ pid: num });
export const agentExecStatus: z.ZodType<Api.AgentExecStatus> = pveObject({
  exited: flag,
  exitcode: num.optional(),
  'out-data': text.optional(),
  'err-data': text.optional(),
  signal: num.optional(),
});
export const agentInterfaces = pveObject({ result: z.array(z.unknown()) });

const networkIface = pveObject({
  iface: text,
  type: text,
  active: flag.optional(),
  autostart: flag.optional(),
  method: text.optional(),
  cidr: text.optional(),
  address: text.optional(),
  netmask: text.optional(),
  gateway: text.optional(),
  bridge_ports: text.optional(),
  bridge_vlan_aware: flag.optional(),
  ovs_type: text.optional(),
  ovs_ports: text.optional(),
  ovs_bridge: text.optional(),
  'vlan-raw-device': text.optional(),
  'vlan-id': num.optional(),
  comments: text.optional(),
  exists: flag.optional(),
});

/** The whole envelope: PVE adds the diff of /etc/network/interfaces against interfaces.new as `changes`. */
export const networkListing: z.ZodType<Api.NetworkListing> = pveObject({
  data: z.array(networkIface),
  changes: text.optional(),
}).transform(({ data, changes }) => ({ interfaces: data, ...(changes ? { changes } : {}) }));

export const disks: z.ZodType<Api.DiskInfo[]> = z.array(
  pveObject({
    devpath: text,
    size: num,
    model: text.optional(),
    serial: text.optional(),
    wwn: text.optional(),
    health: text.optional(),
    used: text.optional(),
    gpt: flag.optional(),
    by_id_link: text.optional(),
  }),
);

export const zfsPools: z.ZodType<Api.ZfsPoolSummary[]> = z.array(
  pveObject({
    name: text,
    size: num,
    alloc: num,
    free: num,
    frag: num.optional(),
    dedup: num.optional(),
    health: text,
  }),
);

interface VdevIn {
  name: string;
  state?: string;
  msg?: string;
  children?: VdevIn[];
}
const vdev: z.ZodType<VdevIn> = pveObject({
  name: text,
  state: text.optional(),
  msg: text.optional(),
  get children() {
    return z.array(vdev).optional();
  },
});

export const zfsPoolDetail: z.ZodType<Api.ZfsPoolDetail> = pveObject({
  name: text,
  state: text,
  status: text.optional(),
  action: text.optional(),
  scan: text.optional(),
  errors: text.optional(),
  children: z.array(vdev).optional(),
});

/** `prune-backups` is an object in GET answers and a property string in requests; Jarvis compares the string form. */
const pruneBackups = z.union([
  text,
  z.record(z.string(), num).transform((keep) =>
    Object.entries(keep)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, count]) => `${key}=${count}`)
      .join(','),
  ),
]);

export const storageConfigs: z.ZodType<Api.StorageConfig[]> = z.array(
  pveObject({
    storage: text,
    type: text,
    content: text.optional(),
    path: text.optional(),
    pool: text.optional(),
    nodes: text.optional(),
    shared: flag.optional(),
    disable: flag.optional(),
    'prune-backups': pruneBackups.optional(),
    digest: text.optional(),
  }),
);

export const storageStatus: z.ZodType<Api.StorageStatus[]> = z.array(
  pveObject({
    storage: text,
    type: text,
    content: text.optional(),
    active: flag.optional(),
    enabled: flag.optional(),
    shared: flag.optional(),
    total: num.optional(),
    used: num.optional(),
    avail: num.optional(),
    used_fraction: num.optional(),
  }),
);

export const dirMappings = z.array(
  pveObject({ id: text, map: z.array(text), description: text.optional() }),
);

export const storageContent: z.ZodType<Api.StorageVolume[]> = z.array(
  pveObject({ volid: text, content: text, format: text.optional(), size: num.optional(), vmid: num.optional(), ctime: num.optional() }),
);

export const firewallOptions = z.record(z.string(), pveValue);

export const firewallRules: z.ZodType<Api.FirewallRule[]> = z.array(
  pveObject({
    pos: num,
    type: text,
    action: text,
    enable: flag.optional(),
    source: text.optional(),
    dest: text.optional(),
    proto: text.optional(),
    dport: text.optional(),
    sport: text.optional(),
    iface: text.optional(),
    macro: text.optional(),
    log: text.optional(),
    comment: text.optional(),
    digest: text.optional(),
    ipversion: num.optional(),
  }),
);

export const firewallGroups = z.array(
  pveObject({ group: text, comment: text.optional(), digest: text.optional() }),
);
export const firewallIpsets = z.array(pveObject({ name: text, comment: text.optional(), digest: text.optional() }));
export const firewallIpsetEntries = z.array(
  pveObject({ cidr: text, nomatch: flag.optional(), comment: text.optional() }),
);
export const firewallAliases = z.array(
  pveObject({ name: text, cidr: text, comment: text.optional(), digest: text.optional() }),
);

export const backupJobs: z.ZodType<Api.BackupJob[]> = z.array(
  pveObject({
    id: text,
    schedule: text.optional(),
    storage: text.optional(),
    mode: text.optional(),
    compress: text.optional(),
    vmid: text.optional(),
    all: flag.optional(),
    enabled: flag.optional(),
    'prune-backups': z.union([text, z.record(z.string(), num)]).optional(),
    comment: text.optional(),
    type: text.optional(),
    'next-run': num.optional(),
  }),
);

export const notBackedUp = z.array(pveObject({ vmid: num, type: text, name: text.optional() }));

export const tasks: z.ZodType<Api.TaskSummary[]> = z.array(
  pveObject({
    upid: text,
    node: text,
    pid: num.optional(),
    pstart: num.optional(),
    starttime: num,
    endtime: num.optional(),
    type: text,
    id: text.optional(),
    user: text,
    status: text.optional(),
  }),
);

export const taskStatus: z.ZodType<Api.TaskStatus> = pveObject({
  upid: text,
  status: z.enum(['running', 'stopped']),
  exitstatus: text.optional(),
  type: text,
  id: text.optional(),
  user: text.optional(),
  starttime: num,
  node: text,
  pid: num.optional(),
});

export const taskLog: z.ZodType<Api.TaskLogLine[]> = z.array(pveObject({ n: num, t: text }));
