// zod schemas for the answers of the Proxmox calls in api.ts. Lenient where PVE is (extra keys pass, numbers that
// some endpoints send as strings and booleans sent as true/false are coerced to numbers), strict on the fields
// Jarvis relies on. The parsed values have the shapes declared in api.ts.
import { z } from 'zod';
import type * as Api from './api.ts';

/** `data[3].vmid: expected number, received string` — the field path from the `data` root. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path
    .map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`))
    .join('');
  return `data${path}: ${issue.message}`;
}

const numeric = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i;

/** A number, or a numeric string as some PVE endpoints send. */
const num = z.union([
  z.number(),
  z
    .string()
    .regex(numeric, 'expected a number')
    .transform((text) => Number(text)),
]);
/** PVE flags arrive as 0/1, "0"/"1" or true/false depending on the endpoint; Jarvis sees 0/1. */
const flag = z.union([num, z.boolean().transform((value) => (value ? 1 : 0))]);
const text = z.string();
/** Config values: strings or numbers (a boolean is sent by a few endpoints and kept as 0/1). */
const pveValue = z.union([z.string(), z.number(), z.boolean().transform((value) => (value ? 1 : 0))]);

export const upid = z.string().regex(/^UPID:[A-Za-z0-9][A-Za-z0-9-]*:/, 'expected a task id (UPID:node:…)');
export const upidOrNull = z.union([upid, z.null()]);
export const nothing = z.unknown();

export const version = z.looseObject({ version: text, release: text, repoid: text });

export const clusterResources: z.ZodType<Api.ClusterResource[]> = z.array(
  z.looseObject({
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

export const nodeStatus: z.ZodType<Api.NodeStatus> = z.looseObject({
  cpu: num,
  memory: z.looseObject({ total: num, used: num, free: num }),
  uptime: num,
  pveversion: text,
  loadavg: z.array(z.union([text, z.number().transform(String)])).optional(),
  rootfs: z.looseObject({ total: num, used: num, avail: num }).optional(),
});

export const permissions = z.record(z.string(), z.record(z.string(), flag));

export const vmConfig = z
  .record(z.string(), pveValue)
  .refine((config) => typeof config.digest === 'string', { message: 'expected a "digest" string in the config' })
  .transform(({ digest, ...config }) => ({ config, digest: String(digest) }));

export const vmStatus: z.ZodType<Api.VmCurrentStatus> = z.looseObject({
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
  z.looseObject({
    name: text,
    description: text.optional(),
    parent: text.optional(),
    snaptime: num.optional(),
    vmstate: flag.optional(),
  }),
);

export const agentExec = z.looseObject({ pid: num });
export const agentExecStatus: z.ZodType<Api.AgentExecStatus> = z.looseObject({
  exited: flag,
  exitcode: num.optional(),
  'out-data': text.optional(),
  'err-data': text.optional(),
  signal: num.optional(),
});
export const agentInterfaces = z.looseObject({ result: z.array(z.unknown()) });

export const network: z.ZodType<Api.NetworkIface[]> = z.array(
  z.looseObject({
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
    comments: text.optional(),
    exists: flag.optional(),
    pending: z.record(z.string(), z.unknown()).optional(),
  }),
);

export const disks: z.ZodType<Api.DiskInfo[]> = z.array(
  z.looseObject({
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
  z.looseObject({
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
const vdev: z.ZodType<VdevIn> = z.looseObject({
  name: text,
  state: text.optional(),
  msg: text.optional(),
  get children() {
    return z.array(vdev).optional();
  },
});

export const zfsPoolDetail: z.ZodType<Api.ZfsPoolDetail> = z.looseObject({
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
  z.looseObject({
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
  z.looseObject({
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
  z.looseObject({ id: text, map: z.array(text), description: text.optional() }),
);

export const storageContent: z.ZodType<Api.StorageVolume[]> = z.array(
  z.looseObject({ volid: text, content: text, format: text.optional(), size: num.optional(), vmid: num.optional() }),
);

export const firewallOptions = z.record(z.string(), pveValue);

export const firewallRules: z.ZodType<Api.FirewallRule[]> = z.array(
  z.looseObject({
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
  z.looseObject({ group: text, comment: text.optional(), digest: text.optional() }),
);
export const firewallIpsets = z.array(z.looseObject({ name: text, comment: text.optional(), digest: text.optional() }));
export const firewallIpsetEntries = z.array(
  z.looseObject({ cidr: text, nomatch: flag.optional(), comment: text.optional() }),
);
export const firewallAliases = z.array(
  z.looseObject({ name: text, cidr: text, comment: text.optional(), digest: text.optional() }),
);

export const backupJobs: z.ZodType<Api.BackupJob[]> = z.array(
  z.looseObject({
    id: text,
    schedule: text.optional(),
    storage: text.optional(),
    mode: text.optional(),
    compress: z.union([text, z.number().transform(String)]).optional(),
    vmid: z.union([text, z.number().transform(String)]).optional(),
    all: flag.optional(),
    enabled: flag.optional(),
    'prune-backups': z.union([text, z.record(z.string(), num)]).optional(),
    comment: text.optional(),
    type: text.optional(),
  }),
);

export const notBackedUp = z.array(z.looseObject({ vmid: num, type: text, name: text.optional() }));

export const tasks: z.ZodType<Api.TaskSummary[]> = z.array(
  z.looseObject({
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

export const taskStatus: z.ZodType<Api.TaskStatus> = z.looseObject({
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

export const taskLog: z.ZodType<Api.TaskLogLine[]> = z.array(z.looseObject({ n: num, t: text }));
