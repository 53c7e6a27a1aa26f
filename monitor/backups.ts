// Backup facts derived from what collect() read: per-VM outcomes, failed tasks, job coverage. Pure.
import type { TaskSummary } from '../infra/proxmox/api.ts';
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

/** Every guest that failed in the task had a good backup since: the failure is history. */
export function recoveredSince(failed: FailedBackupTask, outcomes: readonly BackupOutcome[]): boolean {
  const at = failed.task.endtime ?? failed.task.starttime;
  return failed.vmids.length > 0 && failed.vmids.every((vmid) => outcomes.some((o) => o.vmid === vmid && o.ok && o.at > at));
}
