// vzdump backup jobs (/cluster/backup), and the space warning for jobs that store on the phase-0 SSD.
import { canonicalJson } from '../hash.ts';
import type { DesiredBackupJob } from '../desired-state.ts';
import type { LiveBackupJob } from '../state.ts';
import { change, draft, type DiffContext, type DraftAction } from './types.ts';

const pruneText = (prune: Record<string, number | undefined>) =>
  Object.entries(prune)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/** The job as PVE parameters (only keys Jarvis manages). */
function jobParams(job: DesiredBackupJob): Record<string, string | number> {
  const params: Record<string, string | number> = {
    schedule: job.schedule,
    storage: job.storage,
    mode: job.mode,
    compress: job.compress,
    enabled: job.enabled ? 1 : 0,
    'prune-backups': pruneText(job['prune-backups']),
  };
  if (job.vmid) params.vmid = [...job.vmid].sort((a, b) => a - b).join(',');
  if (job.all) params.all = 1;
  if (job.comment) params.comment = job.comment;
  return params;
}

function liveParams(job: LiveBackupJob): Record<string, string | number> {
  const params: Record<string, string | number> = {
    schedule: job.schedule,
    storage: job.storage,
    mode: job.mode,
    compress: job.compress ?? '0',
    enabled: job.enabled ? 1 : 0,
    'prune-backups': pruneText(job['prune-backups']),
  };
  if (job.vmid.length) params.vmid = job.vmid.join(',');
  if (job.all) params.all = 1;
  if (job.comment) params.comment = job.comment;
  return params;
}

const GIB = 1024 ** 3;

/**
 * One run of the job writes at most the disks of its VMs (vzdump compresses, so usually much less): when even that
 * is more than the target storage has free, the plan says the backups may not fit.
 */
function capacityWarning(ctx: DiffContext, job: DesiredBackupJob, actionId?: string): void {
  const usage = ctx.state.resources.known ? ctx.state.resources.value.storages.find((s) => s.storage === job.storage) : undefined;
  if (usage?.used === undefined || !usage.total) return;
  const vms = ctx.desired.vms.filter((vm) => job.all || job.vmid?.includes(vm.vmid));
  const diskGiB = vms.reduce((sum, vm) => sum + vm.disks.reduce((n, d) => n + d.size, 0), 0);
  const freeGiB = (usage.total - usage.used) / GIB;
  if (diskGiB <= freeGiB) return;
  ctx.warnings.push({
    code: 'backup-space',
    message: `backup job ${job.id}: one run writes up to ${diskGiB} GiB (the disks of VM ${vms.map((vm) => vm.vmid).join(', ')}, before compression) and ${job.storage} has ${freeGiB.toFixed(1)} GiB free: the backups may not fit`,
    ...(actionId ? { actionId } : {}),
  });
}

function spaceWarning(ctx: DiffContext, job: DesiredBackupJob, actionId?: string): void {
  capacityWarning(ctx, job, actionId);
  if (job.storage !== ctx.desired.ssdBackupStorage) return;
  const usage = ctx.state.resources.known ? ctx.state.resources.value.storages.find((s) => s.storage === job.storage) : undefined;
  const percent = usage?.used !== undefined && usage.total ? Math.round((usage.used / usage.total) * 100) : undefined;
  const threshold = ctx.desired.guards.backupSpaceWarningPercent;
  const level = percent === undefined ? 'usage unknown' : `${percent}% used${percent >= threshold ? `, above the ${threshold}% threshold` : ''}`;
  ctx.warnings.push({
    code: 'backup-on-ssd',
    message: `backup job ${job.id} stores on ${job.storage}, the phase-0 SSD (${level}); keeping ${pruneText(job['prune-backups'])} of ${job.vmid?.length ?? 'all'} VMs can fill the disk the VMs run on`,
    ...(actionId ? { actionId } : {}),
  });
}

export function diffBackups(ctx: DiffContext): DraftAction[] {
  const out: DraftAction[] = [];
  for (const job of ctx.desired.backupJobs) {
    if (!ctx.state.backupJobs.known) {
      ctx.unknowns.push({ what: `backup job ${job.id}`, reason: ctx.state.backupJobs.reason });
      spaceWarning(ctx, job);
      continue;
    }
    const want = jobParams(job);
    const requires = [`storage:${job.storage}`, ...(job.vmid ?? []).map((vmid) => `vm:${vmid}`)];
    const current = ctx.state.backupJobs.value.find((j) => j.id === job.id);
    if (!current) {
      const id = `backup.job.create:${job.id}`;
      out.push(
        draft({
          id,
          type: 'backup.job.create',
          kind: 'create',
          channel: 'pve',
          target: `backup/${job.id}`,
          targetKey: 'backup',
          changes: Object.entries(want).map(([k, v]) => change(k, null, v)),
          params: { channel: 'pve', requests: [{ method: 'POST', path: '/cluster/backup', params: { id: job.id, ...want }, async: false }] },
          facts: { undo: job.id },
          requires,
        }),
      );
      spaceWarning(ctx, job, id);
      continue;
    }
    const have = liveParams(current);
    const keys = [...new Set([...Object.keys(want), ...Object.keys(have)])].filter((k) => canonicalJson(want[k]) !== canonicalJson(have[k]));
    if (keys.length === 0) {
      spaceWarning(ctx, job);
      continue;
    }
    const id = `backup.job.update:${job.id}`;
    const params: Record<string, string | number> = {};
    const removed: string[] = [];
    for (const k of keys) {
      if (want[k] === undefined) removed.push(k);
      else params[k] = want[k]!;
    }
    if (removed.length) params.delete = removed.join(',');
    out.push(
      draft({
        id,
        type: 'backup.job.update',
        kind: 'update',
        channel: 'pve',
        target: `backup/${job.id}`,
        targetKey: 'backup',
        changes: keys.map((k) => change(k, have[k], want[k])),
        params: { channel: 'pve', requests: [{ method: 'PUT', path: `/cluster/backup/${job.id}`, params, async: false }] },
        facts: { undo: keys.map((k) => `${k}=${have[k] ?? '(unset)'}`).join(', ') },
        requires,
      }),
    );
    spaceWarning(ctx, job, id);
  }
  return out;
}
