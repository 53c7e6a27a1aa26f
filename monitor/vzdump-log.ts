// Reading vzdump task logs. A scheduled job over several guests is ONE task with no `id` (PVE sets the task id only
// when a single guest is backed up), so which VMs it covered and which of them failed is only in its log. As
// pve-manager PVE/VZDump.pm writes it (exec_backup, exec_backup_task; lines through debugmsg, "INFO: "/"ERROR: "):
//   INFO: starting new backup job: vzdump 100 300 400 --mode snapshot --storage local
//   INFO: Starting Backup of VM 100 (qemu)
//   INFO: Finished Backup of VM 100 (00:00:42)
//   ERROR: Backup of VM 300 failed - unable to create temporary directory '…' at /usr/share/perl5/PVE/VZDump.pm line 1048.
//   INFO: Failed at 2026-05-04 02:31:07
//   INFO: Starting Backup of VM 400 (qemu)
//   ERROR: Backup of VM 400 failed - vma_queue_write: write error - No space left on device
//   INFO: Backup job finished with errors
//   TASK ERROR: job errors
// A guest can fail BEFORE its "Starting Backup" line: exec_backup_task dies first for "unable to find VM" (a job that
// names a deleted guest), the max-backup limit, the HA stop-mode refusal and "unable to create temporary directory".
// Only its ERROR line names it then. The header lists the guests of a job that names them; one the log never reaches
// (the job died first) failed too.
import type { TaskLogLine, TaskSummary } from '../infra/proxmox/api.ts';
import type { BackupOutcome } from './types.ts';

export interface VzdumpLogFacts {
  jobId?: string;
  /** Guests the header names (`vzdump 100 300 …`); empty for `--all` and `--pool` jobs. */
  selected: number[];
  /** Guests the log names (started or failed), in log order. */
  named: number[];
  /** Guests the run started, in log order. */
  started: number[];
  finished: number[];
  /** vmid → the error text after `failed - `, in log order (a guest may fail before it starts). */
  failed: Map<number, string>;
  /** The most telling error line of the whole log, when there is one. */
  errorLine?: string;
}

const JOB_ID = /--job-id[= ](\S+)/;
const HEADER = /starting new backup job: vzdump((?:\s+\d+)*)/;
const STARTING = /Starting Backup of VM (\d+)\b/;
const FINISHED = /Finished Backup of VM (\d+)\b/;
const VM_FAILED = /Backup of VM (\d+) failed - (.*)$/;
const ERROR_LINE = /^(TASK ERROR:|ERROR:|command .* failed)/;
/** Perl's `die` without a trailing newline appends where it died; it says nothing to the owner. */
const PERL_LOCATION = / at \/usr\/share\/perl5\/\S+ line \d+\.?$/;

export function parseVzdumpLog(lines: readonly TaskLogLine[]): VzdumpLogFacts {
  const facts: VzdumpLogFacts = { selected: [], named: [], started: [], finished: [], failed: new Map() };
  const name = (vmid: number): void => {
    if (!facts.named.includes(vmid)) facts.named.push(vmid);
  };
  let firstVmError: string | undefined;
  let lastError: string | undefined;
  for (const { t } of lines) {
    const text = t.trim();
    const job = JOB_ID.exec(text);
    if (job && !facts.jobId && text.includes('vzdump')) facts.jobId = job[1]!.replace(/^['"]|['"]$/g, '');
    const header = HEADER.exec(text);
    if (header && facts.selected.length === 0) facts.selected = header[1]!.split(/\s+/).filter(Boolean).map(Number);
    const start = STARTING.exec(text);
    if (start) {
      facts.started.push(Number(start[1]));
      name(Number(start[1]));
    }
    const finish = FINISHED.exec(text);
    if (finish) facts.finished.push(Number(finish[1]));
    const fail = VM_FAILED.exec(text);
    if (fail) {
      facts.failed.set(Number(fail[1]), fail[2]!.replace(PERL_LOCATION, '').trim());
      name(Number(fail[1]));
      firstVmError ??= text.replace(PERL_LOCATION, '');
    }
    if (ERROR_LINE.test(text)) lastError = text;
  }
  // The per-VM line says what went wrong; `TASK ERROR: job errors` only says that something did.
  facts.errorLine = firstVmError ?? lastError;
  return facts;
}

/** PVE task status: `OK`, `WARNINGS: n` (finished, with warnings) or the error text; undefined while running. */
export const taskSucceeded = (status: string | undefined): boolean => status === 'OK' || /^WARNINGS: \d+$/.test(status ?? '');
export const taskFinished = (task: TaskSummary): boolean => task.status !== undefined && task.endtime !== undefined;

/** The vmid a task names (`id` is set when a single guest was backed up). */
export function taskVmid(task: TaskSummary): number | undefined {
  return task.id && /^\d+$/.test(task.id) ? Number(task.id) : undefined;
}

/** Tasks whose log is needed: every failure (error line, tail) and every multi-guest run (which VMs it covered). */
export function needsLog(task: TaskSummary): boolean {
  return taskFinished(task) && (!taskSucceeded(task.status) || taskVmid(task) === undefined);
}

/**
 * Per-VM outcomes of one finished vzdump task, from its summary and (when read) its log: every guest the log names
 * (started or failed, in log order), then those the header selected that the run never reached.
 */
export function outcomesOfTask(task: TaskSummary, log: readonly TaskLogLine[] | undefined): BackupOutcome[] {
  if (!taskFinished(task)) return [];
  const ok = taskSucceeded(task.status);
  const at = task.endtime ?? task.starttime;
  const durationSeconds = task.endtime !== undefined ? task.endtime - task.starttime : undefined;
  const facts = log ? parseVzdumpLog(log) : undefined;
  const base = { upid: task.upid, at, durationSeconds, jobId: facts?.jobId };
  const single = taskVmid(task);
  const named = facts?.named ?? [];
  // A guest the header selected but the log never reached was not backed up when the job failed; when the task
  // succeeded it was skipped on purpose (another node's guest, no permission), so it has no outcome.
  const unreached = facts && !ok ? facts.selected.filter((vmid) => !named.includes(vmid)) : [];
  const vmids = named.length > 0 || unreached.length > 0 ? [...named, ...unreached] : single !== undefined ? [single] : [];
  return vmids.map((vmid) => {
    const vmError = facts?.failed.get(vmid);
    // A guest that started but never finished in a failed run failed with the task.
    const vmOk = vmError === undefined && (ok || (facts?.finished.includes(vmid) ?? false));
    return {
      ...base,
      vmid,
      ok: vmOk,
      error: vmOk ? undefined : (vmError ?? facts?.errorLine ?? task.status),
    };
  });
}
