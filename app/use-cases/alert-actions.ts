// What an alert's buttons do through the services port: "Show log" (a Proxmox task's log tail) and "Snooze".
import { qualifiedId, type Requester, type ServiceRefusal, type TaskLog } from '../../commands/services.ts';
import { UnreachableError } from '../../lib/errors.ts';
import { AlertStore } from '../../monitor/alert-store.ts';
import { refusal, type UseCaseContext } from './context.ts';

/** How much of a task log "Show log" posts: the end is where vzdump says what went wrong. */
const TASK_LOG_TAIL = 30;
const UPID = /^UPID:[A-Za-z0-9][A-Za-z0-9.-]*:[0-9A-Fa-f]{8}:[0-9A-Fa-f]{8}:[0-9A-Fa-f]{8}:[^:\s]*:[^:\s]*:[^:\s]+:$/;

/** `/jarvis log <UPID>`: the task's status and the last lines of its log. */
export async function taskLogTail(ctx: UseCaseContext, upid: string): Promise<TaskLog | ServiceRefusal> {
  if (!UPID.test(upid)) return { ok: false, code: 'invalid', message: `"${upid}" is not a Proxmox task id (UPID:node:…)` };
  try {
    const [status, lines] = await Promise.all([ctx.lab.ports.pve.taskStatus(upid), ctx.lab.ports.pve.taskLog(upid, { start: 0, limit: 10_000 })]);
    const text = lines.sort((a, b) => a.n - b.n).map((line) => line.t);
    return { upid, status: status.status === 'running' ? 'running' : (status.exitstatus ?? 'unknown'), lines: text.slice(-TASK_LOG_TAIL), total: text.length };
  } catch (error) {
    if (error instanceof UnreachableError) return refusal(error);
    return { ok: false, code: 'not-found', message: `task ${upid}: ${(error as Error).message}` };
  }
}

/** `/jarvis snooze <alertKey> [hours]`: no alert for the key until then, recorded in the audit trail. */
export function snoozeAlert(ctx: UseCaseContext, key: string, hours: number, requester: Requester): { ok: true; key: string; until: string } {
  const now = Date.now();
  const until = now + hours * 3_600_000;
  const store = AlertStore.open(ctx.dataDir);
  try {
    store.snooze(key, until, now);
  } finally {
    store.close();
  }
  ctx.journal.audit({ kind: 'alert.snoozed', actor: qualifiedId(requester), data: { key, hours, until: new Date(until).toISOString() } });
  return { ok: true, key, until: new Date(until).toISOString() };
}
