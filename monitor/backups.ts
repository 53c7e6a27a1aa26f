// Backup facts derived from what collect() read: per-VM outcomes, failed tasks, job coverage. Pure.
import type { BackupJob, TaskSummary } from '../infra/proxmox/api.ts';
import type { Collected } from './collect.ts';
import type { BackupOutcome } from './types.ts';
import { outcomesOfTask, parseVzdumpLog, taskFinished, taskSucceeded } from './vzdump-log.ts';

/** All per-VM outcomes of the finished vzdump tasks read, newest first. */
export function backupOutcomes(collected: Collected): BackupOutcome[] {
  if (!collected.tasks.known) return [];
  const out: BackupOutcome[] = [];
  for (const task of collected.tasks.value) {
    const log = collected.taskLogs[task.upid];
    out.push(...outcomesOfTask(task, log?.known ? log.value : undefined));
  }
  return out.sort((a, b) => b.at - a.at);
}

export interface FailedBackupTask {
  task: TaskSummary;
  /** VMs that failed in it (from the task id or its log); empty when the log could not be read and no id is set. */
  vmids: number[];
  jobId?: string;
  errorLine: string;
  durationSeconds?: number;
  logTail: string[];
  /** Why the log is missing, when it is. */
  logUnknown?: string;
}

export function failedBackupTasks(collected: Collected, tailLines = 12): FailedBackupTask[] {
  if (!collected.tasks.known) return [];
  return collected.tasks.value
    .filter((task) => taskFinished(task) && !taskSucceeded(task.status))
    .sort((a, b) => b.starttime - a.starttime)
    .map((task) => {
      const log = collected.taskLogs[task.upid];
      const lines = log?.known ? log.value : undefined;
      const facts = lines ? parseVzdumpLog(lines) : undefined;
      const vmids = outcomesOfTask(task, lines)
        .filter((outcome) => !outcome.ok)
        .map((outcome) => outcome.vmid);
      return {
        task,
        vmids,
        jobId: facts?.jobId,
        errorLine: facts?.errorLine ?? task.status ?? 'unknown error',
        durationSeconds: task.endtime !== undefined ? task.endtime - task.starttime : undefined,
        logTail: lines ? lines.slice(-tailLines).map((l) => l.t) : [],
        logUnknown: log && !log.known ? log.reason : log ? undefined : 'log not read',
      };
    });
}

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
