// The lab snapshot: a pure function of what collect() read, the clock and the thresholds. Headline first ("all good"
// or "N things need attention", each named), then one section per part of the lab.
import { known, unknown, type Fact } from '../planner/state.ts';
import { attentionOf, type Thresholds } from './attention.ts';
import { firstBackupDue, jobCovers, jobSelection } from './backup-jobs.ts';
import { backupOutcomes, failedBackupTasks, recoveredSince } from './backups.ts';
import type { Collected } from './collect.ts';
import type {
  BackupsSummary,
  DatasetStatus,
  DriftSummary,
  GateSummary,
  Level,
  NodeSummary,
  StatusReport,
  StorageSummary,
  TailnetSummary,
  VmBackupSummary,
  VmSummary,
  WatcherSummary,
  ZfsPoolStatus,
} from './types.ts';

export type { Thresholds } from './attention.ts';

export interface StatusInputs {
  /** Unix milliseconds. */
  now: number;
  thresholds: Thresholds;
  pendingPlans?: GateSummary['pendingPlans'];
  lock?: GateSummary['lock'];
  freeze?: GateSummary['freeze'];
  drift?: Fact<DriftSummary>;
  watchers?: WatcherSummary[];
  /** The guests the managed spec names; status lists them (and those a backup job selects) and counts the rest. */
  managedVmids?: readonly number[];
}

/** Storage usage at or above this is critical, whatever the warning threshold. */
const STORAGE_CRITICAL_PERCENT = 95;
const HOUR = 3600;

const round1 = (n: number): number => Math.round(n * 10) / 10;
const iso = (unixSeconds: number): string => new Date(unixSeconds * 1000).toISOString();
// The node's clock, not Jarvis's, stamps its tasks: a node a little ahead makes a task that just ended look like it
// ends in the future, which reads as "just now", never as a negative age.
const ageHours = (nowMs: number, unixSeconds: number): number => Math.max(0, round1((nowMs / 1000 - unixSeconds) / HOUR));
const splitList = (value: string | undefined, sep: RegExp): string[] => (value ? value.split(sep).filter(Boolean) : []);

function nodeSummary(c: Collected): Fact<NodeSummary> {
  if (!c.nodeStatus.known) return unknown(c.nodeStatus.reason);
  const s = c.nodeStatus.value;
  const nodeRow = c.resources.known ? c.resources.value.find((r) => r.type === 'node' && r.node === c.node) : undefined;
  return known({
    name: c.node,
    pveVersion: s.pveversion,
    cpu: s.cpu,
    cpus: nodeRow?.maxcpu,
    memory: { used: s.memory.used, total: s.memory.total },
    uptimeSeconds: s.uptime,
    loadavg: s.loadavg,
  });
}

function storageSummaries(c: Collected, t: Thresholds): Fact<StorageSummary[]> {
  if (!c.storageStatus.known) return unknown(c.storageStatus.reason);
  const critical = Math.max(t.storageWarnPercent, STORAGE_CRITICAL_PERCENT);
  return known(
    [...c.storageStatus.value]
      .sort((a, b) => a.storage.localeCompare(b.storage))
      .map((s) => {
        const notes: string[] = [];
        let level: Level = 'ok';
        const usedPercent = s.total ? round1(((s.used ?? 0) / s.total) * 100) : undefined;
        if (s.enabled !== 0 && s.active === 0) {
          level = 'critical';
          notes.push('enabled but not active');
        }
        if (usedPercent !== undefined && usedPercent >= critical) {
          level = 'critical';
          notes.push(`${usedPercent}% used (critical at ${critical}%)`);
        } else if (usedPercent !== undefined && usedPercent >= t.storageWarnPercent) {
          if (level === 'ok') level = 'warn';
          notes.push(`${usedPercent}% used (warning at ${t.storageWarnPercent}%)`);
        }
        return {
          storage: s.storage,
          type: s.type,
          content: splitList(s.content, /,/),
          active: s.active !== 0,
          used: s.used,
          total: s.total,
          usedPercent,
          level,
          notes,
        };
      }),
  );
}

function vmSummaries(c: Collected, inputs: StatusInputs): Fact<VmSummary[]> {
  if (!c.resources.known) return unknown(c.resources.reason);
  const jobs = c.backupJobs.known ? c.backupJobs.value : [];
  const managed = (vmid: number): boolean => inputs.managedVmids?.includes(vmid) === true || jobs.some((job) => jobCovers(job, vmid));
  return known(
    c.resources.value
      .filter((r) => (r.type === 'qemu' || r.type === 'lxc') && r.vmid !== undefined)
      .sort((a, b) => a.vmid! - b.vmid!)
      .map((r) => {
        const status = c.vmStatuses[r.vmid!];
        return {
          vmid: r.vmid!,
          name: r.name ?? `vm${r.vmid}`,
          status: r.status ?? 'unknown',
          uptimeSeconds: r.uptime,
          tags: splitList(r.tags, /[;,\s]+/),
          agent: status?.known ? status.value.agent === 1 : undefined,
          lock: r.lock,
          template: r.template === 1,
          cpu: r.cpu,
          memory: r.maxmem !== undefined ? { used: r.mem ?? 0, total: r.maxmem } : undefined,
          managed: managed(r.vmid!),
        };
      }),
  );
}

/** The earliest first backup a new guest gets from the jobs that select it (Unix seconds), if it is not late yet. */
function firstDue(c: Collected, jobs: Parameters<typeof firstBackupDue>[0][] | undefined, vmid: number, nowMs: number): number | undefined {
  const created = c.createdAt[vmid];
  if (!jobs || !created?.known || created.value === undefined) return undefined;
  const dues = jobs.filter((job) => jobCovers(job, vmid)).flatMap((job) => firstBackupDue(job, created.value!, nowMs / 1000) ?? []);
  return dues.length > 0 ? Math.min(...dues) : undefined;
}

function backupsSummary(c: Collected, vms: Fact<VmSummary[]>, inputs: StatusInputs): Fact<BackupsSummary> {
  if (!c.tasks.known) return unknown(`vzdump task history: ${c.tasks.reason}`);
  if (!vms.known) return unknown(`guest list: ${vms.reason}`);
  const t = inputs.thresholds;
  const windowHours = round1((inputs.now / 1000 - c.tasksSince) / HOUR);
  const outcomes = backupOutcomes(c);
  const jobs = c.backupJobs.known ? c.backupJobs.value : undefined;
  const perVm: VmBackupSummary[] = vms.value
    .filter((vm) => !vm.template)
    .map((vm) => {
      const mine = outcomes.filter((o) => o.vmid === vm.vmid);
      const last = mine[0];
      const lastGood = mine.find((o) => o.ok);
      const covering = jobs ? jobs.filter((job) => jobCovers(job, vm.vmid)).map((job) => job.id) : [];
      const summary: VmBackupSummary = {
        vmid: vm.vmid,
        name: vm.name,
        last: last && { at: iso(last.at), ageHours: ageHours(inputs.now, last.at), ok: last.ok, upid: last.upid, error: last.error },
        lastGood: lastGood && { at: iso(lastGood.at), ageHours: ageHours(inputs.now, lastGood.at), upid: lastGood.upid },
        jobs: covering,
        level: 'ok',
      };
      const goodAge = summary.lastGood?.ageHours;
      const due = goodAge === undefined && !last ? firstDue(c, jobs, vm.vmid, inputs.now) : undefined;
      if (last && !last.ok) {
        summary.level = 'critical';
        summary.note = `last backup failed: ${last.error ?? 'unknown error'}`;
      } else if (due !== undefined) {
        summary.firstBackupDue = iso(due);
        summary.note = `first backup due ${iso(due)}`;
      } else if (goodAge === undefined) {
        // Nothing seen in the window: critical only if the window is long enough to be sure.
        summary.level = windowHours >= t.backupCritHours ? 'critical' : 'warn';
        summary.note = `no successful backup in the last ${Math.round(windowHours)} h`;
      } else if (goodAge >= t.backupCritHours) {
        summary.level = 'critical';
        summary.note = `last good backup ${Math.round(goodAge)} h ago (critical after ${t.backupCritHours} h)`;
      } else if (goodAge >= t.backupWarnHours) {
        summary.level = 'warn';
        summary.note = `last good backup ${Math.round(goodAge)} h ago (warning after ${t.backupWarnHours} h)`;
      }
      return summary;
    });
  return known({
    windowHours,
    perVm,
    notCovered: c.notBackedUp.known ? c.notBackedUp.value.map((g) => ({ vmid: g.vmid, name: g.name, type: g.type })) : [],
    jobs: (jobs ?? []).map((job) => ({
      id: job.id,
      schedule: job.schedule,
      storage: job.storage,
      enabled: job.enabled !== 0,
      selection: jobSelection(job),
    })),
    failedTasks: failedBackupTasks(c).map((f) => {
      const at = f.task.endtime ?? f.task.starttime;
      return { upid: f.task.upid, vmids: f.vmids, at: iso(at), ageHours: ageHours(inputs.now, at), error: f.errorLine, jobId: f.jobId, recovered: recoveredSince(f, outcomes) };
    }),
  });
}

function zfsPoolStatuses(c: Collected, t: Thresholds): Fact<ZfsPoolStatus[]> {
  if (!c.zfsPools.known) return unknown(c.zfsPools.reason);
  return known(
    c.zfsPools.value.map((pool) => {
      const usedPercent = pool.size ? round1((pool.alloc / pool.size) * 100) : 0;
      const detail = c.zfsDetails[pool.name];
      let level: Level = pool.health === 'ONLINE' ? 'ok' : 'critical';
      if (level === 'ok' && usedPercent >= t.storageWarnPercent) level = usedPercent >= STORAGE_CRITICAL_PERCENT ? 'critical' : 'warn';
      const detailText = detail?.known ? [detail.value.status, detail.value.action].filter(Boolean).join(' ') : detail?.reason;
      return { name: pool.name, health: pool.health, size: pool.size, alloc: pool.alloc, usedPercent, level, detail: detailText || undefined };
    }),
  );
}

function datasetStatuses(c: Collected, inputs: StatusInputs): Fact<DatasetStatus[]> | undefined {
  if (!c.hostFacts) return undefined;
  if (!c.hostFacts.known) return unknown(c.hostFacts.reason);
  const policies = c.hostFacts.value.snapshotPolicies;
  return known(
    c.hostFacts.value.datasets.map((ds) => {
      const policy = policies.find((p) => p.dataset === ds.name);
      const snap = ds.newestSnapshot;
      const age = snap ? ageHours(inputs.now, snap.creation) : undefined;
      const stale = policy !== undefined && (age === undefined || age >= inputs.thresholds.snapshotMaxAgeHours);
      return {
        name: ds.name,
        newestSnapshot: snap && { name: snap.name, at: iso(snap.creation), ageHours: age! },
        policy: policy?.frequency,
        level: stale ? 'warn' : 'ok',
      };
    }),
  );
}

function tailnetSummary(c: Collected, inputs: StatusInputs): Fact<TailnetSummary> | undefined {
  if (!c.tailnet) return undefined;
  const { devices, policy } = c.tailnet;
  if (!devices.known) return unknown(`devices: ${devices.reason}`);
  if (!policy.known) return unknown(`policy file: ${policy.reason}`);
  const warnUntil = inputs.now + inputs.thresholds.keyExpiryWarnDays * 24 * HOUR * 1000;
  const keysExpiringSoon = devices.value
    .filter((d) => !d.keyExpiryDisabled && d.expires && Date.parse(d.expires) <= warnUntil)
    .map((d) => ({ hostname: d.hostname, expires: d.expires!, inDays: round1((Date.parse(d.expires!) - inputs.now) / 86_400_000) }));
  const routesAwaitingApproval = devices.value
    .map((d) => ({ hostname: d.hostname, routes: d.advertisedRoutes.filter((r) => !d.enabledRoutes.includes(r)) }))
    .filter((d) => d.routes.length > 0);
  const funnelTargets = (policy.value.nodeAttrs ?? []).filter((a) => a.attr.includes('funnel')).flatMap((a) => a.target);
  const list = devices.value.map((d) => ({
    hostname: d.hostname,
    online: d.connectedToControl === true,
    expires: d.expires,
    keyExpiryDisabled: d.keyExpiryDisabled,
    addresses: d.addresses,
  }));
  return known({
    devices: list,
    online: list.filter((d) => d.online).length,
    total: list.length,
    keysExpiringSoon,
    routesAwaitingApproval,
    funnelTargets,
  });
}

export function buildStatus(collected: Collected, inputs: StatusInputs): StatusReport {
  const vms = vmSummaries(collected, inputs);
  const body = {
    generatedAt: new Date(inputs.now).toISOString(),
    ...(collected.unreadable ? { unreadable: collected.unreadable } : {}),
    node: nodeSummary(collected),
    storages: storageSummaries(collected, inputs.thresholds),
    vms,
    backups: backupsSummary(collected, vms, inputs),
    zfsPools: zfsPoolStatuses(collected, inputs.thresholds),
    datasets: datasetStatuses(collected, inputs),
    tailnet: tailnetSummary(collected, inputs),
    gates: { lock: inputs.lock, freeze: inputs.freeze, pendingPlans: inputs.pendingPlans ?? [] },
    drift: inputs.drift,
    ...(inputs.watchers ? { watchers: inputs.watchers } : {}),
    proxmoxRequests: collected.proxmoxRequests,
  };
  const attention = attentionOf(body, inputs.thresholds);
  const level = attention.some((a) => a.level === 'critical') ? 'critical' : attention.length > 0 ? 'warn' : 'ok';
  const headline =
    attention.length === 0
      ? 'all good'
      : `${attention.length} thing${attention.length === 1 ? ' needs' : 's need'} attention: ${attention.map((a) => a.text).join('; ')}`;
  return { ...body, level, headline, attention };
}

export { renderStatusText } from './render-status.ts';
