// An in-memory Proxmox VE node for engine unit tests: the subset of the API apply uses (ApplyPve), with VM configs
// and digests, snapshots, tasks with UPIDs, logs and durations, firewall rules and a request log. Faults are set per
// test through the hooks. Integration tests use the real simulator (sim/) instead.
import { createHash } from 'node:crypto';
import type {
  AgentExecStatus,
  BackupJob,
  ClusterResource,
  FirewallLevel,
  FirewallRule,
  NetworkIface,
  NetworkListing,
  SnapshotInfo,
  StorageConfig,
  StorageVolume,
  TaskResult,
  TaskSummary,
  VmCurrentStatus,
  ZfsPoolSummary,
} from '../../../infra/proxmox/api.ts';
import { PveError } from '../../../infra/proxmox/errors.ts';
import { JarvisError } from '../../../lib/errors.ts';
import type { PveRequest } from '../../../planner/plan.ts';
import type { ApplyPve } from '../../../deploy/types.ts';

export interface FakeVm {
  config: Record<string, string | number>;
  status: 'running' | 'stopped';
  snapshots: SnapshotInfo[];
  /** False for VMs on storage without snapshot support (raw on dir/LVM). */
  canSnapshot: boolean;
}

interface FakeTask {
  upid: string;
  type: string;
  id: string;
  status: 'running' | 'stopped';
  exitstatus?: string;
  log: string[];
  done: Promise<void>;
  started: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  params: Record<string, unknown>;
}

export interface FakePveOptions {
  taskMs?: number;
  /** Return an exit status to make the task of this request fail (e.g. 'command failed'). */
  failTask?: (request: RecordedRequest) => string | undefined;
  /** Throw to make the request fail before it takes effect (PveError) or as a lost answer (other errors). */
  beforeRequest?: (request: RecordedRequest) => void;
  /** Called after the request took effect and before its answer returns (throw to simulate a lost answer). */
  afterRequest?: (request: RecordedRequest) => void;
  /** True while the guest agent of a running VM does not answer yet (booting). */
  agentDown?: (vmid: number) => boolean;
  /** What a command run through the guest agent answers (default: exit 127, the guest has no such program). */
  guestExec?: (vmid: number, argv: string[]) => { code: number; stdout?: string; stderr?: string };
}

const NODE = 'proxmox';

export class FakePve implements ApplyPve {
  readonly node = NODE;
  readonly vms = new Map<number, FakeVm>();
  readonly network: NetworkIface[] = [{ iface: 'vmbr0', type: 'bridge', active: 1 }];
  readonly stagedNetwork = new Set<string>();
  readonly pools: ZfsPoolSummary[] = [];
  readonly storages: StorageConfig[] = [];
  readonly mappings: Array<{ id: string; map: string[] }> = [];
  readonly backupJobs: BackupJob[] = [];
  readonly volumes: StorageVolume[] = [];
  readonly firewall = new Map<string, { options: Record<string, string | number>; rules: FirewallRule[] }>();
  readonly tasks = new Map<string, FakeTask>();
  /** Every write, in order. */
  readonly requests: RecordedRequest[] = [];
  /** Every write that started a task, with start/end times, for parallelism checks. */
  readonly taskSpans: Array<{ upid: string; path: string; start: number; end?: number }> = [];
  private taskCounter = 0;

  constructor(readonly options: FakePveOptions = {}) {}

  addVm(vmid: number, vm: Partial<FakeVm> = {}): FakeVm {
    const entry: FakeVm = { config: { name: `vm${vmid}` }, status: 'stopped', snapshots: [], canSnapshot: true, ...vm };
    this.vms.set(vmid, entry);
    return entry;
  }

  digest(vmid: number): string {
    const vm = this.mustVm(vmid);
    return createHash('sha1').update(JSON.stringify(vm.config)).digest('hex');
  }

  maxParallelTasks(): number {
    const points = this.taskSpans.flatMap((span) => [
      { t: span.start, d: 1 },
      { t: span.end ?? Number.MAX_SAFE_INTEGER, d: -1 },
    ]);
    points.sort((a, b) => a.t - b.t || a.d - b.d);
    let current = 0;
    let max = 0;
    for (const point of points) {
      current += point.d;
      max = Math.max(max, current);
    }
    return max;
  }

  private fw(prefix: string): { options: Record<string, string | number>; rules: FirewallRule[] } {
    let level = this.firewall.get(prefix);
    if (!level) this.firewall.set(prefix, (level = { options: {}, rules: [] }));
    return level;
  }

  private levelPrefix(at: FirewallLevel): string {
    return at.level === 'cluster' ? '/cluster' : at.level === 'node' ? `/nodes/${NODE}` : `/nodes/${NODE}/qemu/${at.vmid}`;
  }

  private mustVm(vmid: number): FakeVm {
    const vm = this.vms.get(vmid);
    if (!vm) throw new PveError(500, `Configuration file 'nodes/${NODE}/qemu-server/${vmid}.conf' does not exist`, {}, `GET /nodes/${NODE}/qemu/${vmid}`);
    return vm;
  }

  private startTask(type: string, id: string, request: RecordedRequest, effect?: () => void, forcedFailure?: string): string {
    this.taskCounter += 1;
    const upid = `UPID:${NODE}:${this.taskCounter.toString(16).padStart(8, '0')}:00000000:00000000:${type}:${id}:root@pam!jarvis:`;
    const failure = forcedFailure ?? this.options.failTask?.(request);
    const span: { upid: string; path: string; start: number; end?: number } = { upid, path: request.path, start: performance.now() };
    this.taskSpans.push(span);
    const task: FakeTask = { upid, type, id, status: 'running', log: [`starting ${type} ${id}`], done: Promise.resolve(), started: Date.now() };
    task.done = new Promise((resolve) => {
      setTimeout(() => {
        if (failure) {
          task.log.push(`TASK ERROR: ${failure}`);
          task.exitstatus = failure;
        } else {
          effect?.();
          task.log.push('TASK OK');
          task.exitstatus = 'OK';
        }
        task.status = 'stopped';
        span.end = performance.now();
        resolve();
      }, this.options.taskMs ?? 0);
    });
    this.tasks.set(upid, task);
    return upid;
  }

  async request(method: PveRequest['method'], path: string, params: PveRequest['params']): Promise<unknown> {
    const request: RecordedRequest = { method, path, params: { ...params } };
    this.options.beforeRequest?.(request);
    this.requests.push(request);
    const answer = this.route(request);
    this.options.afterRequest?.(request);
    return answer;
  }

  private route(request: RecordedRequest): unknown {
    const { method, path, params } = request;
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === `/nodes/${NODE}/qemu`) {
      const vmid = Number(params.vmid);
      if (this.vms.has(vmid)) throw new PveError(500, `VM ${vmid} already exists`, {}, `${method} ${path}`);
      const config: Record<string, string | number> = {};
      for (const [key, value] of Object.entries(params)) if (key !== 'vmid' && key !== 'start') config[key] = value as string | number;
      this.addVm(vmid, { config });
      return this.startTask('qmcreate', String(vmid), request);
    }
    if ((m = /^\/nodes\/[^/]+\/qemu\/(\d+)\/config$/.exec(path))) {
      const vmid = Number(m[1]);
      const vm = this.mustVm(vmid);
      if (typeof params.digest === 'string' && params.digest !== this.digest(vmid)) {
        throw new PveError(500, 'detected modified configuration - file changed by other user? Try again.', {}, `${method} ${path}`);
      }
      for (const [key, value] of Object.entries(params)) {
        if (key === 'digest' || key === 'delete') continue;
        vm.config[key] = value as string | number;
      }
      if (typeof params.delete === 'string') for (const key of params.delete.split(',')) delete vm.config[key];
      return method === 'POST' ? this.startTask('qmconfig', String(vmid), request) : null;
    }
    if ((m = /^\/nodes\/[^/]+\/qemu\/(\d+)\/status\/(start|stop|shutdown|reboot)$/.exec(path))) {
      const vm = this.mustVm(Number(m[1]));
      const action = m[2]!;
      return this.startTask(`qm${action}`, m[1]!, request, () => {
        vm.status = action === 'start' || action === 'reboot' ? 'running' : 'stopped';
      });
    }
    if ((m = /^\/nodes\/[^/]+\/qemu\/(\d+)\/snapshot$/.exec(path)) && method === 'POST') {
      return this.snapshotTask(Number(m[1]), String(params.snapname), request);
    }
    if ((m = /^\/nodes\/[^/]+\/qemu\/(\d+)\/snapshot\/([^/]+)$/.exec(path)) && method === 'DELETE') {
      const vm = this.mustVm(Number(m[1]));
      const name = decodeURIComponent(m[2]!);
      return this.startTask('qmdelsnapshot', m[1]!, request, () => {
        vm.snapshots = vm.snapshots.filter((snapshot) => snapshot.name !== name);
      });
    }
    if (method === 'POST' && path === `/nodes/${NODE}/vzdump`) {
      return this.startTask('vzdump', String(params.vmid), request);
    }
    if (method === 'POST' && path === `/nodes/${NODE}/network`) {
      this.network.push({ iface: String(params.iface), type: String(params.type) });
      this.stagedNetwork.add(String(params.iface));
      return null;
    }
    if (method === 'PUT' && path === `/nodes/${NODE}/network`) {
      return this.startTask('srvreload', 'networking', request, () => {
        this.stagedNetwork.clear();
        for (const iface of this.network) iface.active = 1;
      });
    }
    if (method === 'DELETE' && path === `/nodes/${NODE}/network`) {
      this.network.splice(0, this.network.length, ...this.network.filter((iface) => !this.stagedNetwork.has(iface.iface)));
      this.stagedNetwork.clear();
      return null;
    }
    if ((m = /^(.*)\/firewall\/options$/.exec(path)) && method === 'PUT') {
      const level = this.fw(m[1]!);
      for (const [key, value] of Object.entries(params)) if (key !== 'digest') level.options[key] = value as string | number;
      return null;
    }
    if ((m = /^(.*)\/firewall\/rules$/.exec(path)) && method === 'POST') {
      const level = this.fw(m[1]!);
      const rule = { ...(params as Record<string, unknown>), pos: 0 } as unknown as FirewallRule;
      level.rules.unshift(rule);
      level.rules.forEach((r, pos) => (r.pos = pos));
      return null;
    }
    if ((m = /^(.*)\/firewall\/rules\/(\d+)$/.exec(path)) && method === 'DELETE') {
      const level = this.fw(m[1]!);
      level.rules.splice(Number(m[2]), 1);
      level.rules.forEach((r, pos) => (r.pos = pos));
      return null;
    }
    if (method === 'POST' && path === '/storage') {
      this.storages.push({ storage: String(params.storage), type: String(params.type) });
      return null;
    }
    if (method === 'POST' && path === '/cluster/backup') {
      this.backupJobs.push({ id: String(params.id), schedule: String(params.schedule ?? '') });
      return null;
    }
    if (method === 'POST' && path === `/nodes/${NODE}/disks/zfs`) {
      return this.startTask('zfscreate', String(params.name), request, () => {
        this.pools.push({ name: String(params.name), size: 1, alloc: 0, free: 1, health: 'ONLINE' });
      });
    }
    throw new PveError(501, `Method '${method} ${path}' not implemented in the fake`, {}, `${method} ${path}`);
  }

  private snapshotTask(vmid: number, name: string, request: RecordedRequest): string {
    const vm = this.mustVm(vmid);
    if (!vm.canSnapshot) return this.startTask('qmsnapshot', String(vmid), request, undefined, 'snapshot feature is not available');
    return this.startTask('qmsnapshot', String(vmid), request, () => {
      vm.snapshots.push({ name, snaptime: Math.floor(Date.now() / 1000) + vm.snapshots.length });
    });
  }

  // ---- reads -------------------------------------------------------------------------------------------------
  async clusterResources(): Promise<ClusterResource[]> {
    return [...this.vms.entries()].map(([vmid, vm]) => ({ id: `qemu/${vmid}`, type: 'qemu', vmid, node: NODE, status: vm.status }));
  }
  async vmConfig(vmid: number): Promise<{ config: Record<string, string | number>; digest: string }> {
    return { config: { ...this.mustVm(vmid).config }, digest: this.digest(vmid) };
  }
  async vmStatus(vmid: number): Promise<VmCurrentStatus> {
    return { vmid, status: this.mustVm(vmid).status };
  }
  async listSnapshots(vmid: number): Promise<SnapshotInfo[]> {
    return [...this.mustVm(vmid).snapshots, { name: 'current' }];
  }
  async createSnapshot(vmid: number, snapname: string, description?: string): Promise<string> {
    return (await this.request('POST', `/nodes/${NODE}/qemu/${vmid}/snapshot`, { snapname, ...(description ? { description } : {}) })) as string;
  }
  async deleteSnapshot(vmid: number, snapname: string): Promise<string> {
    return (await this.request('DELETE', `/nodes/${NODE}/qemu/${vmid}/snapshot/${snapname}`, {})) as string;
  }
  async vzdump(params: Record<string, unknown>): Promise<string> {
    return (await this.request('POST', `/nodes/${NODE}/vzdump`, params as PveRequest['params'])) as string;
  }
  async listTasks(query?: { vmid?: number; source?: string; typefilter?: string; since?: number }): Promise<TaskSummary[]> {
    return [...this.tasks.values()]
      .filter((task) => query?.source !== 'active' || task.status === 'running')
      .filter((task) => query?.vmid === undefined || task.id === String(query.vmid))
      .filter((task) => query?.typefilter === undefined || task.type === query.typefilter)
      .filter((task) => query?.since === undefined || Math.floor(task.started / 1000) >= query.since)
      .map((task) => ({ upid: task.upid, node: NODE, starttime: Math.floor(task.started / 1000), type: task.type, id: task.id, user: 'root@pam', status: task.exitstatus }));
  }
  async waitForTask(upid: string, opts?: { timeoutMs?: number; onProgress?: (line: string) => void }): Promise<TaskResult> {
    const task = this.tasks.get(upid);
    if (!task) throw new PveError(500, `no such task '${upid}'`, {}, `GET /nodes/${NODE}/tasks/${upid}/status`);
    const started = Date.now();
    if (opts?.timeoutMs !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), opts.timeoutMs)));
      const outcome = await Promise.race([task.done, timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') throw new JarvisError('task-timeout', `Proxmox task ${upid} still running after ${opts.timeoutMs} ms; it was not cancelled and may still finish`);
    }
    await task.done;
    for (const line of task.log) opts?.onProgress?.(line);
    return { upid, exitstatus: task.exitstatus ?? 'unknown', ok: task.exitstatus === 'OK', logTail: task.log.slice(-20), durationMs: Date.now() - started };
  }
  /** Staged bridges appear in the list and, as on PVE, in the `changes` diff of interfaces against interfaces.new. */
  async listNetwork(): Promise<NetworkListing> {
    const added = [...this.stagedNetwork].flatMap((iface) => [`+auto ${iface}`, `+iface ${iface} inet manual`, '+']);
    return {
      interfaces: this.network.map((iface) => ({ ...iface })),
      ...(added.length ? { changes: ['--- /etc/network/interfaces', '+++ /etc/network/interfaces.new', `@@ -1,0 +1,${added.length} @@`, ...added, ''].join('\n') } : {}),
    };
  }
  async revertNetwork(): Promise<void> {
    await this.request('DELETE', `/nodes/${NODE}/network`, {});
  }
  async listZfsPools(): Promise<ZfsPoolSummary[]> {
    return [...this.pools];
  }
  async listStorage(): Promise<StorageConfig[]> {
    return [...this.storages];
  }
  async listDirMappings(): Promise<Array<{ id: string; map: string[] }>> {
    return [...this.mappings];
  }
  async storageContent(storage: string, filter: { content?: string; vmid?: number } = {}): Promise<StorageVolume[]> {
    return this.volumes.filter((v) => v.volid.startsWith(`${storage}:`) && (filter.content === undefined || v.content === filter.content) && (filter.vmid === undefined || v.vmid === filter.vmid));
  }
  /** As qemu-server answers: a running VM with the agent on answers unless the test says its agent is not up yet. */
  async agentPing(vmid: number): Promise<void> {
    const vm = this.mustVm(vmid);
    const call = `POST /nodes/${NODE}/qemu/${vmid}/agent/ping`;
    if (vm.status !== 'running') throw new PveError(500, `VM ${vmid} is not running`, {}, call);
    if (this.options.agentDown?.(vmid)) throw new PveError(500, 'QEMU guest agent is not running', {}, call);
  }
  private readonly execs = new Map<number, { code: number; stdout?: string; stderr?: string }>();
  /** Commands run through the guest agent, in order. */
  readonly guestCommands: Array<{ vmid: number; argv: string[] }> = [];
  async agentExec(vmid: number, command: string[]): Promise<number> {
    await this.agentPing(vmid);
    this.guestCommands.push({ vmid, argv: [...command] });
    const pid = this.execs.size + 1;
    this.execs.set(pid, this.options.guestExec?.(vmid, command) ?? { code: 127, stderr: `${command[0]}: not found` });
    return pid;
  }
  async agentExecStatus(_vmid: number, pid: number): Promise<AgentExecStatus> {
    const result = this.execs.get(pid)!;
    return { exited: 1, exitcode: result.code, 'out-data': result.stdout ?? '', 'err-data': result.stderr ?? '' };
  }
  async firewallRules(at: FirewallLevel): Promise<FirewallRule[]> {
    return this.fw(this.levelPrefix(at)).rules.map((rule) => ({ ...rule }));
  }
  async firewallGroups(): Promise<Array<{ group: string }>> {
    return [];
  }
  async firewallGroupRules(): Promise<FirewallRule[]> {
    return [];
  }
  async firewallIpsets(): Promise<Array<{ name: string }>> {
    return [];
  }
  async firewallIpsetEntries(): Promise<Array<{ cidr: string }>> {
    return [];
  }
  async firewallAliases(): Promise<Array<{ name: string; cidr: string }>> {
    return [];
  }
  async listBackupJobs(): Promise<BackupJob[]> {
    return [...this.backupJobs];
  }
}
