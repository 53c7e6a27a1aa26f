// The desired-state spec: one zod schema for every YAML file under specs/ (what a VM boots: schema-boot.ts).
// Field names follow Proxmox's own (vmid, cores, scsihw, policy_in, keep-daily…) so a spec reads like the PVE docs;
// `safetyGuards.managementAccessCidrs` keeps the architecture document's name. Every object is strict: a typo in a key
// is an error, never silently ignored. Format rules that are hard constraints (tags, firewall addresses, lock-out)
// are guardrails (planner/spec/guardrails.ts) so they report a rule id; the schema checks shape and types.
import { z } from 'zod';
import { cloudInitSchema, imageSchema, VM_OS } from './schema-boot.ts';
import { segmentationSchema } from './schema-segments.ts';

export { VM_OS, type CloudInitSpec, type ImageSpec, type VmOs } from './schema-boot.ts';
export { segmentationSchema, segmentSchema, type SegmentSpec } from './schema-segments.ts';

export const PHASES = ['phase0', 'phase1', 'phase2'] as const;
export type Phase = (typeof PHASES)[number];
/** Numeric phase at which an item is introduced (0, 1 or 2). Phases are cumulative. */
export const phaseNumber = z.number().int().min(0).max(2);

const cidrLike = z.string().min(1);
const iface = z.string().regex(/^[a-z][a-z0-9_]{1,20}$/i, 'must be an interface name such as vmbr0 or enp3s0');

export const bridgeSchema = z.strictObject({
  iface: z.string().regex(/^vmbr\d+$/, 'must be a Linux bridge name vmbrN'),
  phase: phaseNumber.default(0),
  /** lan = physical uplink; services / iot = internal-only (no physical port). */
  role: z.enum(['lan', 'services', 'iot']),
  comments: z.string().max(200).optional(),
  /** Physical port(s) of the bridge; must be empty for internal-only bridges. */
  bridge_ports: z.array(iface).default([]),
  cidr: cidrLike.optional(),
  gateway: z.string().optional(),
  autostart: z.boolean().default(true),
  bridge_vlan_aware: z.boolean().default(false),
});
export type BridgeSpec = z.infer<typeof bridgeSchema>;

export const nicSchema = z.strictObject({
  model: z.string().default('virtio'),
  bridge: z.string().min(1),
  firewall: z.boolean().default(true),
  macaddr: z
    .string()
    .regex(/^[0-9A-F]{2}(:[0-9A-F]{2}){5}$/i)
    .optional(),
});
export type NicSpec = z.infer<typeof nicSchema>;

export const diskSchema = z.strictObject({
  storage: z.string().min(1),
  /** Size in GiB. */
  size: z.number().int().positive(),
  cache: z.string().default('none'),
  discard: z.boolean().default(true),
  ssd: z.boolean().default(true),
  iothread: z.boolean().default(true),
});
export type DiskSpec = z.infer<typeof diskSchema>;

export const tailscaleGuestSchema = z.strictObject({
  phase: phaseNumber.default(0),
  hostname: z.string().regex(/^[a-z0-9-]{1,63}$/i),
  advertiseRoutes: z.array(cidrLike).default([]),
  acceptRoutes: z.boolean().default(false),
  /** Set only when the route approval through the Tailscale API is wanted in this phase. */
  approveRoutes: z.boolean().default(false),
  ssh: z.boolean().default(false),
  /** Funnel/Serve publish services to the internet: forbidden by the Tailscale-only rule. Only `false` is accepted by the guardrail. */
  funnel: z.boolean().default(false),
});

export const stackSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case compose project name'),
  description: z.string().optional(),
  /** Published ports as HOST:CONTAINER strings, LAN only (never a router port-forward). */
  ports: z.array(z.string()).default([]),
});

export const dockerSchema = z.strictObject({
  phase: phaseNumber.default(0),
  compose: z.boolean().default(true),
  root: z.literal('/opt/naas').default('/opt/naas'),
  owner: z.string().default('root'),
  group: z.string().default('docker'),
  stacks: z.array(stackSchema).default([]),
});

export const homeAssistantSchema = z.strictObject({
  /** Mosquitto on the VM: the IOT segment may reach 1883 too (phase 2 segmentation). */
  mqtt: z.boolean().default(false),
});

export const provisionSchema = z.strictObject({
  /** How Jarvis reaches the guest: the QEMU guest agent or SSH (a host pin is then required in the environment). */
  via: z.enum(['agent', 'ssh']).default('agent'),
  tailscale: tailscaleGuestSchema.optional(),
  docker: dockerSchema.optional(),
  homeAssistant: homeAssistantSchema.optional(),
});
export type ProvisionSpec = z.infer<typeof provisionSchema>;

/** Fields a later phase may change on an existing VM (reattachments, re-tiering). */
export const vmOverrideSchema = z.strictObject({
  net: z.array(nicSchema).min(1).optional(),
  tags: z.array(z.string()).optional(),
  cores: z.number().int().optional(),
  memory: z.number().int().optional(),
  provision: provisionSchema.optional(),
});
export type VmOverride = z.infer<typeof vmOverrideSchema>;

export const firewallRuleSchema = z.strictObject({
  type: z.enum(['in', 'out', 'forward', 'group']).default('in'),
  action: z.string().min(2).max(20),
  enable: z.boolean().default(true),
  source: z.string().optional(),
  dest: z.string().optional(),
  proto: z.string().optional(),
  dport: z.union([z.string(), z.number().int()]).transform(String).optional(),
  sport: z.union([z.string(), z.number().int()]).transform(String).optional(),
  iface: z.string().optional(),
  macro: z.string().optional(),
  log: z.enum(['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug', 'nolog']).optional(),
  comment: z.string().max(200).optional(),
});
export type FirewallRuleSpec = z.infer<typeof firewallRuleSchema>;

const policy = z.enum(['ACCEPT', 'REJECT', 'DROP']);

export const vmFirewallSchema = z.strictObject({
  phase: phaseNumber.optional(),
  options: z
    .strictObject({
      enable: z.boolean().optional(),
      policy_in: policy.optional(),
      policy_out: policy.optional(),
      dhcp: z.boolean().optional(),
      macfilter: z.boolean().optional(),
      ipfilter: z.boolean().optional(),
    })
    .default({}),
  rules: z.array(firewallRuleSchema).default([]),
});

export const vmSchema = z.strictObject({
  vmid: z.number().int().min(100).max(999_999_999),
  name: z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'must be a DNS label (lower-case letters, digits, -)'),
  phase: phaseNumber.default(0),
  role: z.enum(['edge-gateway', 'firewall-router', 'monitoring', 'app-host', 'home-assistant', 'pbs']),
  description: z.string().max(8192).optional(),
  ostype: z.enum(['l26', 'other']).default('l26'),
  bios: z.enum(['seabios', 'ovmf']).default('seabios'),
  cores: z.number().int().min(1),
  sockets: z.number().int().min(1).default(1),
  /** MiB. */
  memory: z.number().int().min(16),
  scsihw: z.string().default('virtio-scsi-single'),
  disks: z.array(diskSchema).min(1),
  net: z.array(nicSchema).min(1),
  agent: z.boolean().default(true),
  onboot: z.boolean().default(true),
  /** VM must be running (started after create). */
  running: z.boolean().default(true),
  tags: z.array(z.string()).default([]),
  /** CPU/memory hotplug lets Proxmox apply cores/memory changes without a reboot. */
  hotplug: z.array(z.enum(['network', 'disk', 'usb', 'memory', 'cpu'])).default(['network', 'disk', 'usb']),
  /** Required (planner/spec/boot-input.ts says so, located): a VM without an OS never answers its guest agent. */
  os: z.enum(VM_OS).optional(),
  image: imageSchema.optional(),
  cloudInit: cloudInitSchema.optional(),
  /** How long guest steps wait for the VM's guest agent after a create, start or reboot (a first cloud-init boot installs it). */
  agentWaitSeconds: z.number().int().min(10).max(7200).default(600),
  provision: provisionSchema.optional(),
  firewall: vmFirewallSchema.optional(),
  /** Later phases' changes to this VM, keyed by phase. */
  overrides: z.strictObject({ phase1: vmOverrideSchema.optional(), phase2: vmOverrideSchema.optional() }).optional(),
});
export type VmSpec = z.infer<typeof vmSchema>;

export const zfsPoolSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i),
  phase: phaseNumber.default(1),
  raidlevel: z.enum(['single', 'mirror', 'raid10', 'raidz', 'raidz2', 'raidz3']),
  /** Stable device names; /dev/sdX may change between boots. */
  devices: z.array(z.string().min(1)).min(1),
  ashift: z.number().int().min(9).max(16).default(12),
  compression: z.enum(['on', 'off', 'gzip', 'lz4', 'lzjb', 'zle', 'zstd']).default('lz4'),
});
export type ZfsPoolSpec = z.infer<typeof zfsPoolSchema>;

export const datasetSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_.-]*(\/[a-z0-9][a-z0-9_.-]*)+$/i, 'must be POOL/DATASET'),
  phase: phaseNumber.default(1),
  optional: z.boolean().default(false),
  properties: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).default({}),
});
export type DatasetSpec = z.infer<typeof datasetSchema>;

export const retentionSchema = z.strictObject({
  'keep-last': z.number().int().min(0).optional(),
  'keep-hourly': z.number().int().min(0).optional(),
  'keep-daily': z.number().int().min(0).optional(),
  'keep-weekly': z.number().int().min(0).optional(),
  'keep-monthly': z.number().int().min(0).optional(),
  'keep-yearly': z.number().int().min(0).optional(),
});
export type Retention = z.infer<typeof retentionSchema>;

export const snapshotPolicySchema = z.strictObject({
  dataset: z.string(),
  phase: phaseNumber.default(1),
  /** Done by sanoid on the host; `daily` means sanoid takes and prunes daily snapshots. */
  frequency: z.enum(['hourly', 'daily']).default('daily'),
  retention: retentionSchema,
});

export const pveStorageSchema = z.strictObject({
  storage: z.string().regex(/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i),
  phase: phaseNumber.default(1),
  type: z.enum(['dir', 'zfspool', 'nfs', 'pbs']),
  path: z.string().optional(),
  pool: z.string().optional(),
  content: z.array(z.enum(['images', 'rootdir', 'backup', 'iso', 'vztmpl', 'snippets', 'import'])).min(1),
  'prune-backups': retentionSchema.optional(),
  /** For pbs: PBS datastore; left disabled until PBS exists. */
  server: z.string().optional(),
  datastore: z.string().optional(),
  disable: z.boolean().default(false),
});
export type PveStorageSpec = z.infer<typeof pveStorageSchema>;

export const migrationSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]*$/),
  phase: phaseNumber.default(1),
  kind: z.enum(['plex-media', 'docker-appdata', 'backup-target']),
  vmid: z.number().int().optional(),
  /** Source path inside the guest (or a storage id for backup-target). */
  from: z.string(),
  /** Destination dataset (or storage id for backup-target). */
  to: z.string(),
  /** How the guest reaches the host dataset. */
  via: z.enum(['virtiofs', 'nfs', 'storage']).default('virtiofs'),
  /** Where the dataset appears inside the guest. */
  mountpoint: z.string().optional(),
  /** Stacks stopped during switch-over. */
  stacks: z.array(z.string()).default([]),
  /** Estimated data size in GiB, used for the downtime estimate. */
  sizeGiB: z.number().positive().optional(),
});
export type MigrationSpec = z.infer<typeof migrationSchema>;

const backupJobOverrideSchema = z.strictObject({
  storage: z.string().optional(),
  schedule: z.string().min(1).max(128).optional(),
  vmid: z.array(z.number().int()).optional(),
  'prune-backups': retentionSchema.optional(),
});

export const backupJobSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]{1,49}$/),
  phase: phaseNumber.default(0),
  /** Proxmox calendar event, e.g. `02:30` or `mon..fri 22:00`. */
  schedule: z.string().min(1).max(128),
  storage: z.string(),
  mode: z.enum(['snapshot', 'suspend', 'stop']).default('snapshot'),
  compress: z.enum(['0', '1', 'gzip', 'lzo', 'zstd']).default('zstd'),
  vmid: z.array(z.number().int()).optional(),
  all: z.boolean().optional(),
  enabled: z.boolean().default(true),
  'prune-backups': retentionSchema,
  comment: z.string().max(512).optional(),
  /** The same job in a later phase (e.g. moved to tank/backups). */
  overrides: z
    .strictObject({
      phase1: backupJobOverrideSchema.optional(),
      phase2: backupJobOverrideSchema.optional(),
    })
    .optional(),
});
export type BackupJobSpec = z.infer<typeof backupJobSchema>;

export const firewallGroupSchema = z.strictObject({
  group: z.string().regex(/^[A-Za-z][A-Za-z0-9\-_]+$/).max(18),
  comment: z.string().optional(),
  rules: z.array(firewallRuleSchema).default([]),
});
export const ipsetSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9\-_]+$/).max(64),
  comment: z.string().optional(),
  cidrs: z.array(cidrLike).min(1),
});
export const aliasSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9\-_]+$/).max(64),
  cidr: cidrLike,
  comment: z.string().optional(),
});

export const clusterFirewallSchema = z.strictObject({
  phase: phaseNumber.optional(),
  options: z
    .strictObject({
      enable: z.boolean().optional(),
      policy_in: policy.optional(),
      policy_out: policy.optional(),
      policy_forward: z.enum(['ACCEPT', 'DROP']).optional(),
    })
    .default({}),
  rules: z.array(firewallRuleSchema).default([]),
  groups: z.array(firewallGroupSchema).default([]),
  ipsets: z.array(ipsetSchema).default([]),
  aliases: z.array(aliasSchema).default([]),
});

export const nodeFirewallSchema = z.strictObject({
  phase: phaseNumber.optional(),
  options: z.strictObject({ enable: z.boolean().optional() }).default({}),
  rules: z.array(firewallRuleSchema).default([]),
});

export const firewallSchema = z.strictObject({
  cluster: clusterFirewallSchema.optional(),
  node: nodeFirewallSchema.optional(),
  segmentation: segmentationSchema.optional(),
});

export const tailnetSchema = z.strictObject({
  /** Tailnet name, or `-` for the credentials' default tailnet. */
  tailnet: z.string().default('-'),
  /** Remote access is Tailscale-only; Funnel must stay off everywhere. */
  funnel: z.boolean().default(false),
});

export const safetyGuardsSchema = z.strictObject({
  managementAccessCidrs: z.array(cidrLike).min(1),
  tailscaleManagement: z
    .strictObject({ expected: z.boolean().default(true), cidr: cidrLike.default('100.64.0.0/10') })
    .default({ expected: true, cidr: '100.64.0.0/10' }),
  allowHostNetworkChanges: z.boolean().default(false),
  snapshotBeforeRisk: z.boolean().default(true),
  /** Warn when a backup target's storage is above this usage (percent). */
  backupSpaceWarningPercent: z.number().int().min(1).max(100).default(80),
  /** Commit-confirm window for firewall and network changes. */
  confirmWindowSeconds: z.number().int().min(5).max(600).default(60),
});
export type SafetyGuards = z.infer<typeof safetyGuardsSchema>;

export const specSchema = z.strictObject({
  apiVersion: z.literal('jarvis/v1'),
  kind: z.literal('HomelabSpec'),
  /** The site file whose values `!site <name>` references read (planner/spec/site.ts), relative to this spec. */
  site: z.string().min(1).optional(),
  metadata: z.strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    /** The highest phase this file describes. */
    maxPhase: phaseNumber,
    /** A firewall-only wave touches nothing but the firewall. */
    scope: z.enum(['full', 'firewall']).default('full'),
  }),
  node: z.strictObject({
    name: z.string(),
    /** Storage of the phase-0 SSD (VM disks) and of its backups. */
    ssdStorage: z.string().default('local-lvm'),
    ssdBackupStorage: z.string().default('local'),
    /** File storage (dir, nfs…) that keeps the downloaded cloud images (`import`) and cloud-init vendor data (`snippets`). */
    imageStorage: z.string().default('local'),
  }),
  safetyGuards: safetyGuardsSchema,
  network: z.strictObject({ bridges: z.array(bridgeSchema).default([]) }).default({ bridges: [] }),
  vms: z.array(vmSchema).default([]),
  storage: z
    .strictObject({
      zfs: z
        .strictObject({
          pools: z.array(zfsPoolSchema).default([]),
          datasets: z.array(datasetSchema).default([]),
          snapshots: z.array(snapshotPolicySchema).default([]),
        })
        .optional(),
      pve: z.array(pveStorageSchema).default([]),
    })
    .optional(),
  migrations: z.array(migrationSchema).default([]),
  backups: z
    .strictObject({
      jobs: z.array(backupJobSchema).default([]),
      /** PBS when enabled later; vzdump jobs stay as the fallback. */
      pbs: z.strictObject({ enabled: z.boolean().default(false), storage: z.string().optional() }).optional(),
    })
    .optional(),
  firewall: firewallSchema.optional(),
  tailscale: tailnetSchema.optional(),
});
export type Spec = z.infer<typeof specSchema>;
