// The Proxmox VE API as Jarvis uses it: one typed interface, implemented by the HTTPS client (infra/proxmox/client.ts).
// Callers (scan, executors, status) depend on this interface only, so tests can pass any implementation in.
// Responses are validated with zod in the client (infra/proxmox/schemas.ts); these are the validated shapes.

export type PveValue = string | number;
export type PveParams = Record<string, string | number | boolean | string[] | undefined>;

export interface ClusterResource {
  id: string;
  type: string;
  node?: string;
  vmid?: number;
  name?: string;
  status?: string;
  tags?: string;
  template?: number;
  lock?: string;
  uptime?: number;
  cpu?: number;
  maxcpu?: number;
  mem?: number;
  maxmem?: number;
  disk?: number;
  maxdisk?: number;
  storage?: string;
  plugintype?: string;
  content?: string;
  shared?: number;
}

/** GET /nodes/{node}/time: the node's time zone and clock. */
export interface NodeTime {
  timezone: string;
  time: number;
  localtime?: number;
}

export interface NodeStatus {
  cpu: number;
  memory: { total: number; used: number; free: number };
  uptime: number;
  pveversion: string;
  loadavg?: string[];
  rootfs?: { total: number; used: number; avail: number };
}

export interface VmCurrentStatus {
  vmid: number;
  status: 'running' | 'stopped';
  qmpstatus?: string;
  name?: string;
  uptime?: number;
  agent?: number;
  lock?: string;
  tags?: string;
}

export interface SnapshotInfo {
  name: string;
  description?: string;
  parent?: string;
  snaptime?: number;
  vmstate?: number;
  /**
   * Set while the snapshot is half made: `prepare` from the moment a create starts until it commits, `delete` from
   * the moment a delete starts until it is gone. A task that died leaves it behind (pve-guest-common
   * src/PVE/AbstractConfig.pm __snapshot_prepare / snapshot_delete; listed by qemu-server snapshot_list).
   */
  snapstate?: string;
}

export interface NetworkIface {
  iface: string;
  type: string;
  /** 1 when the interface is up (IFF_UP, pve-common ProcFSTools get_active_network_interfaces); absent when down. */
  active?: number;
  /** 1 when /etc/network/interfaces has an `auto` (or `allow-*`) line for it; absent otherwise. */
  autostart?: number;
  method?: string;
  cidr?: string;
  address?: string;
  netmask?: string;
  gateway?: string;
  bridge_ports?: string;
  bridge_vlan_aware?: number;
  /** Open vSwitch: `OVSBridge`, `OVSPort`, `OVSIntPort`, `OVSBond`; an OVS bridge lists its ports in `ovs_ports`. */
  ovs_type?: string;
  ovs_ports?: string;
  ovs_bridge?: string;
  'vlan-raw-device'?: string;
  'vlan-id'?: number;
  comments?: string;
  /** 1 for a physical NIC; a VLAN or alias copies its raw device's value (none for a bridge or bond). */
  exists?: number;
}

/** GET /nodes/{node}/network: the interfaces as staged (interfaces.new when there is one) and the staged diff. */
export interface NetworkListing {
  interfaces: NetworkIface[];
  /** `diff -u /etc/network/interfaces /etc/network/interfaces.new` (pve-common INotify.pm); absent when nothing is staged. */
  changes?: string;
}

export interface DiskInfo {
  devpath: string;
  size: number;
  model?: string;
  serial?: string;
  wwn?: string;
  health?: string;
  used?: string;
  gpt?: number;
  /** The first /dev/disk/by-id/{ata,scsi,nvme}-… link of the disk (pve-storage src/PVE/Diskmanage.pm). */
  by_id_link?: string;
}

export interface ZfsPoolSummary {
  name: string;
  size: number;
  alloc: number;
  free: number;
  frag?: number;
  dedup?: number;
  health: string;
}

export interface ZfsPoolDetail {
  name: string;
  state: string;
  status?: string;
  action?: string;
  scan?: string;
  errors?: string;
  children?: Array<{ name: string; state?: string; msg?: string; children?: Array<{ name: string; state?: string; msg?: string }> }>;
}

export interface StorageConfig {
  storage: string;
  type: string;
  content?: string;
  path?: string;
  pool?: string;
  nodes?: string;
  shared?: number;
  disable?: number;
  'prune-backups'?: string;
  digest?: string;
  [key: string]: unknown;
}

export interface StorageStatus {
  storage: string;
  type: string;
  content?: string;
  active?: number;
  enabled?: number;
  shared?: number;
  total?: number;
  used?: number;
  avail?: number;
  used_fraction?: number;
}

/** One volume of a storage (GET /nodes/{node}/storage/{storage}/content). */
export interface StorageVolume {
  volid: string;
  content: string;
  format?: string;
  size?: number;
  vmid?: number;
  /** Unix seconds (backup archives carry it). */
  ctime?: number;
}

export interface FirewallRule {
  pos: number;
  type: string;
  action: string;
  enable?: number;
  source?: string;
  dest?: string;
  proto?: string;
  dport?: string;
  sport?: string;
  iface?: string;
  macro?: string;
  log?: string;
  comment?: string;
  digest?: string;
  ipversion?: number;
}

export type FirewallLevel = { level: 'cluster' } | { level: 'node' } | { level: 'vm'; vmid: number };

export interface BackupJob {
  id: string;
  schedule?: string;
  storage?: string;
  mode?: string;
  compress?: string;
  vmid?: string;
  all?: number;
  enabled?: number;
  'prune-backups'?: Record<string, number> | string;
  comment?: string;
  type?: string;
  /** Unix seconds of the job's next run, in the list only (pve-manager PVE/API2/Backup.pm computes it from `schedule`). */
  'next-run'?: number;
  [key: string]: unknown;
}

export interface TaskSummary {
  upid: string;
  node: string;
  pid?: number;
  pstart?: number;
  starttime: number;
  endtime?: number;
  type: string;
  id?: string;
  user: string;
  status?: string;
}

export interface TaskStatus {
  upid: string;
  status: 'running' | 'stopped';
  exitstatus?: string;
  type: string;
  id?: string;
  user?: string;
  starttime: number;
  node: string;
  pid?: number;
}

export interface TaskLogLine {
  n: number;
  t: string;
}

export interface AgentExecStatus {
  exited: number;
  exitcode?: number;
  'out-data'?: string;
  'err-data'?: string;
  signal?: number;
}

/** Outcome of a task-starting call that Jarvis followed to the end. */
export interface TaskResult {
  upid: string;
  exitstatus: string;
  ok: boolean;
  logTail: string[];
  durationMs: number;
}

export interface TaskListQuery {
  typefilter?: string;
  errors?: boolean;
  since?: number;
  until?: number;
  vmid?: number;
  limit?: number;
  source?: 'archive' | 'active' | 'all';
}

export interface ProxmoxApi {
  readonly node: string;
  version(): Promise<{ version: string; release: string; repoid: string }>;
  clusterResources(type?: 'vm' | 'storage' | 'node'): Promise<ClusterResource[]>;
  clusterOptions(): Promise<Record<string, unknown>>;
  nodeStatus(): Promise<NodeStatus>;
  nodeTime(): Promise<NodeTime>;
  permissions(path?: string): Promise<Record<string, Record<string, number>>>;

  vmConfig(vmid: number): Promise<{ config: Record<string, PveValue>; digest: string }>;
  vmStatus(vmid: number): Promise<VmCurrentStatus>;
  /** POST /nodes/{node}/qemu; returns the UPID. */
  createVm(params: PveParams): Promise<string>;
  /** POST …/config (async); returns a UPID or null when it finished within background_delay. */
  updateVmConfig(vmid: number, params: PveParams): Promise<string | null>;
  /** PUT …/config (sync). */
  setVmConfig(vmid: number, params: PveParams): Promise<void>;
  deleteVm(vmid: number, params?: PveParams): Promise<string>;
  vmAction(vmid: number, action: 'start' | 'stop' | 'shutdown' | 'reboot', params?: PveParams): Promise<string>;
  resizeDisk(vmid: number, disk: string, size: string): Promise<string | null>;
  listSnapshots(vmid: number): Promise<SnapshotInfo[]>;
  createSnapshot(vmid: number, snapname: string, description?: string): Promise<string>;
  deleteSnapshot(vmid: number, snapname: string): Promise<string>;
  rollbackSnapshot(vmid: number, snapname: string): Promise<string>;

  agentPing(vmid: number): Promise<void>;
  /** Starts a command in the guest; returns its pid. */
  agentExec(vmid: number, command: string[], inputData?: string): Promise<number>;
  agentExecStatus(vmid: number, pid: number): Promise<AgentExecStatus>;
  agentNetworkInterfaces(vmid: number): Promise<unknown[]>;

  listNetwork(): Promise<NetworkListing>;
  createNetwork(params: PveParams): Promise<void>;
  updateNetwork(iface: string, params: PveParams): Promise<void>;
  applyNetwork(): Promise<string>;
  revertNetwork(): Promise<void>;

  listDisks(): Promise<DiskInfo[]>;
  listZfsPools(): Promise<ZfsPoolSummary[]>;
  zfsPoolDetail(name: string): Promise<ZfsPoolDetail>;
  createZfsPool(params: PveParams): Promise<string>;

  listStorage(): Promise<StorageConfig[]>;
  createStorage(params: PveParams): Promise<void>;
  updateStorage(storage: string, params: PveParams): Promise<void>;
  nodeStorageStatus(): Promise<StorageStatus[]>;
  /** Volumes of one storage, optionally of one content type (`import`, `snippets`, `backup`…) and one guest. */
  storageContent(storage: string, filter?: { content?: string; vmid?: number }): Promise<StorageVolume[]>;

  listDirMappings(): Promise<Array<{ id: string; map: string[]; description?: string }>>;
  createDirMapping(params: PveParams): Promise<void>;

  firewallOptions(at: FirewallLevel): Promise<Record<string, PveValue>>;
  setFirewallOptions(at: FirewallLevel, params: PveParams): Promise<void>;
  firewallRules(at: FirewallLevel): Promise<FirewallRule[]>;
  createFirewallRule(at: FirewallLevel, params: PveParams): Promise<void>;
  updateFirewallRule(at: FirewallLevel, pos: number, params: PveParams): Promise<void>;
  deleteFirewallRule(at: FirewallLevel, pos: number, digest?: string): Promise<void>;
  firewallGroups(): Promise<Array<{ group: string; comment?: string; digest?: string }>>;
  firewallGroupRules(group: string): Promise<FirewallRule[]>;
  createFirewallGroup(params: PveParams): Promise<void>;
  createFirewallGroupRule(group: string, params: PveParams): Promise<void>;
  firewallIpsets(): Promise<Array<{ name: string; comment?: string; digest?: string }>>;
  firewallIpsetEntries(name: string): Promise<Array<{ cidr: string; nomatch?: number; comment?: string }>>;
  createFirewallIpset(params: PveParams): Promise<void>;
  addFirewallIpsetEntry(name: string, params: PveParams): Promise<void>;
  firewallAliases(): Promise<Array<{ name: string; cidr: string; comment?: string; digest?: string }>>;
  createFirewallAlias(params: PveParams): Promise<void>;
  updateFirewallAlias(name: string, params: PveParams): Promise<void>;

  listBackupJobs(): Promise<BackupJob[]>;
  createBackupJob(params: PveParams): Promise<void>;
  updateBackupJob(id: string, params: PveParams): Promise<void>;
  notBackedUp(): Promise<Array<{ vmid: number; type: string; name?: string }>>;
  vzdump(params: PveParams): Promise<string>;

  listTasks(query?: TaskListQuery): Promise<TaskSummary[]>;
  taskStatus(upid: string): Promise<TaskStatus>;
  taskLog(upid: string, opts?: { start?: number; limit?: number }): Promise<TaskLogLine[]>;
  /** Follows a UPID to completion with backoff; never throws on task failure (ok=false carries exit status + log tail). */
  waitForTask(upid: string, opts?: { timeoutMs?: number; onProgress?: (line: string) => void }): Promise<TaskResult>;
}
