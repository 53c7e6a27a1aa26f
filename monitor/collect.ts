// Reads everything a status snapshot and the watchers need, through the ports only (ProxmoxApi, TailnetApi, host
// facts). Independent reads start together; the few that depend on an answer (task logs, pool detail, VM agent flag)
// start as soon as that answer arrives, so the whole read costs one dependent round trip. A part that cannot be read
// is `unknown` with the reason, never guessed. When Proxmox itself cannot be read (unreachable, TLS pin mismatch, a
// rejected token, missing privileges, or the whole collection outlasting its deadline) `unreadable` says why: the
// watchers turn it into a critical alert and status into a critical headline, never into silence.
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
import { PveError } from '../infra/proxmox/errors.ts';
import { UnreachableError } from '../lib/errors.ts';
import { scrubSecrets } from '../lib/secret.ts';
import type { LiveDataset, LiveSnapshotPolicy } from '../planner/state.ts';
import { known, unknown, type Fact } from '../planner/state.ts';
import { parsePropertyString } from '../lib/pve-formats.ts';
import { jobCovers } from './backup-jobs.ts';
import { needsLog, outcomesOfTask } from './vzdump-log.ts';

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

/** Why Proxmox could not be read, and what the owner can do about it. */
export interface Unreadable {
  reason: string;
  fix: string;
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
  /**
   * Creation time (Unix seconds, the config's `meta: ctime=` qemu-server writes on create) of the guests a backup
   * job covers that have no backup in the history read: a guest newer than its job's first run is not late yet.
   */
  createdAt: Record<number, Fact<number | undefined>>;
  tailnet?: { devices: Fact<TailnetDevice[]>; policy: Fact<TailnetPolicy> };
  hostFacts?: Fact<HostFacts>;
  /**
   * Set when Proxmox could not be read: the first such reason (the client's message, which names the URL or the
   * call). Unreachable, a TLS pin mismatch and a request timeout are UnreachableErrors; a rejected token is 401 and
   * missing privileges 403; a collection past its deadline is named as such.
   */
  unreadable?: Unreadable;
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
  /** Most VM configs read for a creation time. */
  maxVmConfigs?: number;
  /** Lines of a task log read (PVE's default is 50). */
  taskLogLines?: number;
  /** The whole collection ends by then: reads still running are `unknown` and the lab `unreadable` (default 120 s). */
  deadlineMs?: number;
}

/** How long a collection may take before Jarvis calls the lab unreadable (each request also has its own timeout). */
export const COLLECT_DEADLINE_MS = 120_000;

const reasonOf = (error: unknown): string => scrubSecrets(error instanceof Error ? error.message : String(error));

const DOCTOR = '; `jarvis doctor` checks the whole setup';

/**
 * The errors that mean Jarvis cannot read Proxmox at all (as opposed to one part being absent or malformed), with
 * the fix for each; undefined for any other error.
 */
function blindness(error: unknown): Unreadable | undefined {
  const reason = reasonOf(error);
  if (error instanceof PveError && error.status === 401) {
    return { reason, fix: `the API token was rejected: check PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET, and that the token still exists and has not expired${DOCTOR}` };
  }
  if (error instanceof PveError && error.status === 403) {
    return { reason, fix: `the API token lacks a privilege this read needs: give its role the privileges the README lists (lib/privileges.ts)${DOCTOR}` };
  }
  if (!(error instanceof UnreachableError)) return undefined;
  if (error.code === 'tls-pin-mismatch' || error.code === 'tls-untrusted') {
    return { reason, fix: `the node's certificate is not the one PROXMOX_FINGERPRINT (or PROXMOX_CA_FILE) names: if it was renewed on purpose, pin the new one${DOCTOR}` };
  }
  if (error.code === 'pve-timeout') return { reason, fix: `the node did not answer in time: check its load and the network to it${DOCTOR}` };
  return { reason, fix: `check that the node is up and that PROXMOX_URL reaches it from here${DOCTOR}` };
}

const knownLog = (log: Fact<TaskLogLine[]> | undefined): TaskLogLine[] | undefined => (log?.known ? log.value : undefined);

/** `meta: creation-qemu=10.0.2,ctime=1733380000` → 1733380000; undefined for guests made before PVE wrote it. */
function creationTime(meta: unknown): number | undefined {
  if (typeof meta !== 'string') return undefined;
  const ctime = parsePropertyString(meta).ctime;
  return ctime && /^\d+$/.test(ctime) ? Number(ctime) : undefined;
}

export async function collect(ports: MonitorPorts, options: CollectOptions): Promise<Collected> {
  const api = ports.proxmox;
  let requests = 0;
  let unreadable: Unreadable | undefined;
  const deadlineMs = options.deadlineMs ?? COLLECT_DEADLINE_MS;
  let timer: NodeJS.Timeout | undefined;
  // One deadline for the whole collection: every read races it, so a hung request cannot hang a watcher round.
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`the collection did not finish within ${deadlineMs >= 10_000 ? `${Math.round(deadlineMs / 1000)} s` : `${deadlineMs} ms`}`), deadlineMs);
    timer.unref();
  });
  const race = async <T>(call: () => Promise<T>, onError: (error: unknown) => void): Promise<Fact<T>> => {
    const attempt = (async (): Promise<Fact<T>> => {
      try {
        return known(await call());
      } catch (error) {
        onError(error);
        return unknown(reasonOf(error));
      }
    })();
    return Promise.race([
      attempt,
      deadline.then((why): Fact<T> => {
        unreadable ??= { reason: why, fix: `the node answers too slowly: check its load and the network to it${DOCTOR}` };
        return unknown(`not read: ${why}`);
      }),
    ]);
  };
  const read = <T>(call: () => Promise<T>): Promise<Fact<T>> => {
    requests += 1;
    return race(call, (error) => {
      unreadable ??= blindness(error);
    });
  };
  const readOther = <T>(call: () => Promise<T>): Promise<Fact<T>> => race(call, () => undefined);

  const tasksSince = Math.floor(options.now / 1000 - options.historyHours * 3600);
  const taskLogs: Collected['taskLogs'] = {};
  const zfsDetails: Collected['zfsDetails'] = {};
  const vmStatuses: Collected['vmStatuses'] = {};
  const createdAt: Collected['createdAt'] = {};

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

  const jobsRead = read(() => api.listBackupJobs());
  // Only guests with no backup at all in the history need their age: in steady state this reads nothing.
  const creationRead = Promise.all([tasksRead, logsRead, resourcesRead, jobsRead]).then(async ([tasks, , resources, jobs]) => {
    if (!tasks.known || !resources.known || !jobs.known) return;
    const backedUp = new Set(tasks.value.flatMap((task) => outcomesOfTask(task, knownLog(taskLogs[task.upid])).map((o) => o.vmid)));
    const waiting = resources.value
      .filter((r) => r.type === 'qemu' && r.vmid !== undefined && (r.node ?? api.node) === api.node && !backedUp.has(r.vmid))
      .filter((r) => jobs.value.some((job) => jobCovers(job, r.vmid!)))
      .slice(0, options.maxVmConfigs ?? 50);
    await Promise.all(
      waiting.map(async (r) => {
        const config = await read(() => api.vmConfig(r.vmid!));
        createdAt[r.vmid!] = config.known ? known(creationTime(config.value.config.meta)) : unknown(config.reason);
      }),
    );
  });

  const [nodeStatus, resources, storageStatus, backupJobs, notBackedUp, tasks, zfsPools, devices, policy, hostFacts] =
    await Promise.all([
      read(() => api.nodeStatus()),
      resourcesRead,
      read(() => api.nodeStorageStatus()),
      jobsRead,
      read(() => api.notBackedUp()),
      tasksRead,
      poolsRead,
      ports.tailnet ? readOther(() => ports.tailnet!.listDevices()) : undefined,
      ports.tailnet ? readOther(() => ports.tailnet!.getPolicy()) : undefined,
      ports.hostFacts ? readOther(ports.hostFacts) : undefined,
      logsRead,
      detailsRead,
      statusesRead,
      creationRead,
    ]).finally(() => clearTimeout(timer));

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
    createdAt,
    tailnet: devices && policy ? { devices, policy } : undefined,
    hostFacts,
    unreadable,
    proxmoxRequests: requests,
  };
}
