// Backup jobs as the monitor reads them: which guests a job selects, and when a guest may first expect a backup.
import type { BackupJob } from '../infra/proxmox/api.ts';
import { calendarInterval } from '../lib/calendar-event.ts';

/** `all guests`, `all except 101`, `100,300`, `pool media`. */
export function jobSelection(job: BackupJob): string {
  if (job.all) return job.exclude ? `all except ${String(job.exclude)}` : 'all guests';
  if (job.vmid) return String(job.vmid);
  if (job.pool) return `pool ${String(job.pool)}`;
  return 'nothing';
}

/** Does the job select this VM? (Pool membership is not read: a pool job is reported as not known to cover it.) */
export function jobCovers(job: BackupJob, vmid: number): boolean {
  if (job.enabled === 0) return false;
  const list = (value: unknown): number[] =>
    String(value ?? '')
      .split(/[,\s]+/)
      .filter(Boolean)
      .map(Number);
  if (job.all) return !list(job.exclude).includes(vmid);
  return list(job.vmid).includes(vmid);
}

/**
 * When a guest created at `createdAt` (Unix seconds, from its config's `meta: ctime=`) gets its first backup from
 * `job`: the job's next run, as long as the guest is younger than one interval of the job's schedule (so no run it
 * should have been part of has passed yet). Undefined when the job cannot say, or the guest is older than that.
 */
export function firstBackupDue(job: BackupJob, createdAt: number, now: number): number | undefined {
  const nextRun = job['next-run'];
  if (nextRun === undefined || nextRun <= now || !job.schedule) return undefined;
  const interval = calendarInterval(job.schedule, now);
  return interval !== undefined && now - createdAt < interval ? nextRun : undefined;
}
