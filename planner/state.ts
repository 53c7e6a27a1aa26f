// The live-state model: what a scan saw, normalised just enough to diff against a spec.
// Anything the scan could not reach is `unknown` with the reason; it is never guessed.

export type Fact<T> = { known: true; value: T } | { known: false; reason: string };

export const known = <T>(value: T): Fact<T> => ({ known: true, value });
export const unknown = <T>(reason: string): Fact<T> => ({ known: false, reason });

/** One guest from /cluster/resources. */
export interface VmResource {
  vmid: number;
  name: string;
  node: string;
  status: string;
  tags: string[];
  lock?: string;
  template: boolean;
  uptime?: number;
  maxmem?: number;
  maxdisk?: number;
}

/** A VM the spec names, with its config as Proxmox returns it (values are strings or numbers). */
export interface LiveVm {
  vmid: number;
  node: string;
  status: string;
  lock?: string;
  /** Raw config keys (net0, scsi0, tags…), `digest` removed and kept apart. */
  config: Record<string, string | number>;
  digest: string;
  snapshots?: string[];
}

export interface LiveBridge {
  iface: string;
  type: string;
  active: boolean;
  autostart: boolean;
  bridge_ports: string[];
  cidr?: string;
  gateway?: string;
  comments?: string;
  /** Staged in interfaces.new and not applied yet. */
  pending: boolean;
  /** The whole bridge is new in interfaces.new (created, never applied). */
  stagedNew?: boolean;
}

export interface LiveStorage {
  storage: string;
  type: string;
  content: string[];
  path?: string;
  pool?: string;
  disable: boolean;
  'prune-backups'?: Record<string, number>;
  /** From /cluster/resources: bytes. */
  used?: number;
  total?: number;
}

export interface LiveDisk {
  devpath: string;
  /** /dev/disk/by-id names that point at devpath, when known. */
  byId: string[];
  size: number;
  model?: string;
  serial?: string;
  used?: string;
  health?: string;
}

export interface LiveZfsPool {
  name: string;
  health: string;
  size: number;
  alloc: number;
  free: number;
  /** Devices of the data vdevs. */
  devices: string[];
  /** single, stripe, mirror, raid10, raidz, raidz2, raidz3, draid… (PVE's raidlevel names). */
  raidlevel?: string;
  /** Devices of the log, cache, spare, special and dedup sections. */
  logs?: string[];
  cache?: string[];
  spares?: string[];
  special?: string[];
  dedup?: string[];
}

export interface LiveDataset {
  name: string;
  properties: Record<string, string>;
  mountpoint?: string;
  newestSnapshot?: { name: string; creation: number };
}

export interface LiveSnapshotPolicy {
  dataset: string;
  frequency: 'hourly' | 'daily';
  retention: Record<string, number>;
}

export interface LiveFirewallRule {
  pos: number;
  type: string;
  action: string;
  enable: boolean;
  source?: string;
  dest?: string;
  proto?: string;
  dport?: string;
  sport?: string;
  iface?: string;
  macro?: string;
  log?: string;
  comment?: string;
}

export interface LiveFirewall {
  cluster: {
    options: Record<string, string | number>;
    rules: LiveFirewallRule[];
    groups: Array<{ group: string; comment?: string; rules: LiveFirewallRule[] }>;
    ipsets: Array<{ name: string; comment?: string; cidrs: string[] }>;
    aliases: Array<{ name: string; cidr: string; comment?: string }>;
    digest?: string;
  };
  node: { options: Record<string, string | number>; rules: LiveFirewallRule[] };
  vms: Record<number, { options: Record<string, string | number>; rules: LiveFirewallRule[] }>;
}

export interface LiveBackupJob {
  id: string;
  schedule: string;
  storage: string;
  mode: string;
  compress?: string;
  vmid: number[];
  all: boolean;
  enabled: boolean;
  'prune-backups': Record<string, number>;
  comment?: string;
}

export interface LiveTailnetDevice {
  nodeId: string;
  hostname: string;
  name: string;
  addresses: string[];
  online: boolean;
  authorized: boolean;
  advertisedRoutes: string[];
  enabledRoutes: string[];
  expires?: string;
  keyExpiryDisabled: boolean;
  lastSeen?: string;
}

export interface LiveTailnet {
  devices: LiveTailnetDevice[];
  /** Policy-file nodeAttrs targets granted the `funnel` attribute. */
  funnelTargets: string[];
}

/** In-guest facts read through the guest agent or SSH. */
export interface GuestFacts {
  tailscale?: { installed: boolean; joined: boolean; hostname?: string; advertisedRoutes: string[]; funnel: boolean };
  docker?: { installed: boolean; compose: boolean };
  naasLayout?: { present: boolean; stacks: string[] };
  mounts?: Array<{ target: string; source: string; fstype: string }>;
  homeAssistant?: { running: boolean };
  /** netcat-openbsd, which the in-guest connection checks use (`nc -z`). */
  netcat?: boolean;
  /** The routes in Jarvis's netplan routes file (empty when there is none). */
  jarvisRoutes?: Array<{ to: string; via: string }>;
}

/** A volume on a file storage as PVE lists it (GET /nodes/{node}/storage/{storage}/content). */
export interface LiveVolume {
  volid: string;
  content: string;
  size?: number;
}

/** The node's package sources as apt reads them. */
export interface LiveAptSources {
  /**
   * Files with an enabled enterprise.proxmox.com repository apt has no credentials for (no subscription key set, so
   * no /etc/apt/auth.conf.d entry): it answers 401 and `apt-get update` fails.
   */
  unauthorizedFiles: string[];
  /** An enabled pve-no-subscription repository is configured. */
  noSubscription: boolean;
  /** The Debian codename of the node's PVE repositories (trixie on PVE 9). */
  suite: string;
}

export interface LiveState {
  node: string;
  pveVersion?: string;
  resources: Fact<{ vms: VmResource[]; storages: LiveStorage[] }>;
  /** Keyed by vmid; only VMs the spec names, and only those that exist. */
  vms: Record<number, LiveVm>;
  /** VMs that exist (in /cluster/resources) but whose config could not be read, with the reason. */
  vmReadFailures?: Record<number, string>;
  network: Fact<LiveBridge[]>;
  storages: Fact<LiveStorage[]>;
  disks: Fact<LiveDisk[]>;
  zfsPools: Fact<LiveZfsPool[]>;
  /** From the host shell: datasets are not in the API. */
  zfsDatasets: Fact<LiveDataset[]>;
  snapshotPolicies: Fact<LiveSnapshotPolicy[]>;
  /** Directory mappings (/cluster/mapping/dir) used for virtiofs. */
  dirMappings: Fact<Array<{ id: string; path: string }>>;
  firewall: Fact<LiveFirewall>;
  backupJobs: Fact<LiveBackupJob[]>;
  tailnet: Fact<LiveTailnet>;
  guests: Record<number, Fact<GuestFacts>>;
  /** `import` and `snippets` volumes on the node's file storages (cloud images kept for VM creation, vendor data). */
  storageContent?: Fact<LiveVolume[]>;
  /** Checksum lists published beside images, read on the node (which downloads them), by URL: file name → hex sum. */
  publishedSums?: Record<string, Fact<Record<string, string>>>;
  /** Read only when the plan has a host step that installs packages. */
  aptSources?: Fact<LiveAptSources>;
  /** Whether the guest agent answers, for `os: none` VMs that run (the owner's install is done when it does). */
  agentAnswers?: Record<number, Fact<boolean>>;
  /** The router gate, observed from a guest on the LAN (phase 2): does the router route yet? */
  routerGate?: Fact<{ ready: boolean; detail: string }>;
}
