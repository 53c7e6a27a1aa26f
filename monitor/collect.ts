// Reads everything a status snapshot and the watchers need, through the ports only (ProxmoxApi, TailnetApi, host
// facts). Independent reads start together; the few that depend on an answer (task logs, pool detail, VM agent flag)
// start as soon as that answer arrives, so the whole read costs one dependent round trip. A part that cannot be read
// is `unknown` with the reason, never guessed.
import type {
  BackupJob,
  ClusterResource,
  NodeStatus,
  ProxmoxApi,
  StorageStatus,
  TaskLogLine,
  TaskSummary,
  VmCurrentStatus,
  ZfsPoolDetail,
  ZfsPoolSummary,
} from '../infra/proxmox/api.ts';
import type { TailnetApi, TailnetDevice, TailnetPolicy } from '../infra/tailscale/api.ts';
import { UnreachableError } from '../lib/errors.ts';
import { scrubSecrets } from '../lib/secret.ts';
import type { LiveDataset, LiveSnapshotPolicy } from '../planner/state.ts';
import { known, unknown, type Fact } from '../planner/state.ts';
import { needsLog } from './vzdump-log.ts';

export interface HostFacts {
  datasets: LiveDataset[];
  snapshotPolicies: LiveSnapshotPolicy[];
}

export interface MonitorPorts {
  proxmox: ProxmoxApi;
  tailnet?: TailnetApi;
  /** Datasets and snapshot policies from the host shell (infra/facts/host.ts); the Proxmox API has no datasets. */
  hostFacts?: () => Promise<HostFacts>;
}

export interface Collected {
  node: string;
  /** Unix seconds from which the vzdump task history was read. */
  tasksSince: number;
  nodeStatus: Fact<NodeStatus>;
  resources: Fact<ClusterResource[]>;
  storageStatus: Fact<StorageStatus[]>;
  backupJobs: Fact<BackupJob[]>;
  notBackedUp: Fact<Array<{ vmid: number; type: string; name?: string }>>;
  tasks: Fact<TaskSummary[]>;
  /** Logs of failed and multi-guest vzdump tasks, by UPID. */
  taskLogs: Record<string, Fact<TaskLogLine[]>>;
  zfsPools: Fact<ZfsPoolSummary[]>;
  /** Detail (status, action, errors) of pools that are not ONLINE. */
  zfsDetails: Record<string, Fact<ZfsPoolDetail>>;
  /** Current status of running VMs (for the agent flag). */
  vmStatuses: Record<number, Fact<VmCurrentStatus>>;
  tailnet?: { devices: Fact<TailnetDevice[]>; policy: Fact<TailnetPolicy> };
  hostFacts?: Fact<HostFacts>;
  /** Set when the node could not be reached at all: the client's message (URL and reason). */
  unreachable?: string;
  proxmoxRequests: number;
}

export interface CollectOptions {
  /** Unix milliseconds; the task history is read from `now - historyHours`. */
  now: number;
  historyHours: number;
  /** Most task logs read per collection (newest first). */
  maxTaskLogs?: number;
  /** Most VMs whose current status is read for the agent flag. */
  maxVmStatuses?: number;
  /** Lines of a task log read (PVE's default is 50). */
  taskLogLines?: number;
}

const reasonOf = (error: unknown): string => scrubSecrets(error instanceof Error ? error.message : String(error));

export async function collect(ports: MonitorPorts, options: CollectOptions): Promise<Collected> {
  const api = ports.proxmox;
  let requests = 0;
  let unreachable: string | undefined;
  const read = async <T>(call: () => Promise<T>): Promise<Fact<T>> => {
    requests += 1;
    try {
      return known(await call());
    } catch (error) {
      if (error instanceof UnreachableError) unreachable ??= reasonOf(error);
      return unknown(reasonOf(error));
    }
  };
  const readOther = async <T>(call: () => Promise<T>): Promise<Fact<T>> => {
    try {
      return known(await call());
    } catch (error) {
      return unknown(reasonOf(error));
    }
  };

  const tasksSince = Math.floor(options.now / 1000 - options.historyHours * 3600);
  const taskLogs: Collected['taskLogs'] = {};
  const zfsDetails: Collected['zfsDetails'] = {};
  const vmStatuses: Collected['vmStatuses'] = {};

  const tasksRead = read(() => api.listTasks({ typefilter: 'vzdump', since: tasksSince, limit: 500, source: 'all' }));
  const logsRead = tasksRead.then(async (tasks) => {
    if (!tasks.known) return;
    const wanted = tasks.value
      .filter(needsLog)
      .sort((a, b) => b.starttime - a.starttime)
      .slice(0, options.maxTaskLogs ?? 30);
    await Promise.all(
      wanted.map(async (task) => {
        taskLogs[task.upid] = await read(() => api.taskLog(task.upid, { start: 0, limit: options.taskLogLines ?? 1000 }));
      }),
    );
  });
  const poolsRead = read(() => api.listZfsPools());
  const detailsRead = poolsRead.then(async (pools) => {
    if (!pools.known) return;
    await Promise.all(
      pools.value
        .filter((pool) => pool.health !== 'ONLINE')
        .map(async (pool) => {
          zfsDetails[pool.name] = await read(() => api.zfsPoolDetail(pool.name));
        }),
    );
  });
  const resourcesRead = read(() => api.clusterResources());
  const statusesRead = resourcesRead.then(async (resources) => {
    if (!resources.known) return;
    const running = resources.value
      .filter((r) => r.type === 'qemu' && r.status === 'running' && r.vmid !== undefined && (r.node ?? api.node) === api.node)
      .slice(0, options.maxVmStatuses ?? 50);
    await Promise.all(
      running.map(async (r) => {
        vmStatuses[r.vmid!] = await read(() => api.vmStatus(r.vmid!));
      }),
    );
  });

  const [nodeStatus, resources, storageStatus, backupJobs, notBackedUp, tasks, zfsPools, devices, policy, hostFacts] =
    await Promise.all([
      read(() => api.nodeStatus()),
      resourcesRead,
      read(() => api.nodeStorageStatus()),
      read(() => api.listBackupJobs()),
      read(() => api.notBackedUp()),
      tasksRead,
      poolsRead,
      ports.tailnet ? readOther(() => ports.tailnet!.listDevices()) : undefined,
      ports.tailnet ? readOther(() => ports.tailnet!.getPolicy()) : undefined,
      ports.hostFacts ? readOther(ports.hostFacts) : undefined,
      logsRead,
      detailsRead,
      statusesRead,
    ]);

  return {
    node: api.node,
    tasksSince,
    nodeStatus,
    resources,
    storageStatus,
    backupJobs,
    notBackedUp,
    tasks,
    taskLogs,
    zfsPools,
    zfsDetails,
    vmStatuses,
    tailnet: devices && policy ? { devices, policy } : undefined,
    hostFacts,
    unreachable,
    proxmoxRequests: requests,
  };
}
