// One apply at a time per data dir: a single row in the apply store names the holder {pid, host, who, planId, since}.
// A holder on this host whose process is gone (or whose pid now belongs to another process) is recovered at once,
// so a kill -9 never leaves the lab locked. The freeze flag (a change freeze set by an admin) lives here too.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Journal } from './journal.ts';
import { safeText } from './redact.ts';

export interface LockHolder {
  pid: number;
  host: string;
  /** Exactly who holds it (a qualified id such as `discord:1234`, or `cli:<login>`): compared as a whole, never as a prefix. */
  who: string;
  planId: string;
  since: string;
  /** Why, when the holder said (`/jarvis lock <reason>`). */
  reason?: string;
}

export interface ApplyLock {
  readonly holder: LockHolder;
  release(): void;
}

export type LockAttempt =
  | { acquired: true; lock: ApplyLock; recoveredFrom?: LockHolder }
  | { acquired: false; holder: LockHolder; message: string };

export interface FreezeState {
  who: string;
  why: string;
  since: string;
}

/** Process start time from /proc (clock ticks since boot); undefined where /proc is not available. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); fields are counted after the command name, which may itself contain spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function processAlive(pid: number, recordedStart: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const startNow = processStartTime(pid);
  return recordedStart === null || startNow === undefined || startNow === recordedStart;
}

interface LockRow {
  pid: number;
  host: string;
  who: string;
  plan_id: string;
  since: string;
  proc_start: string | null;
  reason: string | null;
}

const toHolder = (row: LockRow): LockHolder => ({ pid: row.pid, host: row.host, who: row.who, planId: row.plan_id, since: row.since, ...(row.reason ? { reason: row.reason } : {}) });

export function describeHolder(holder: LockHolder): string {
  return `${holder.who} (pid ${holder.pid} on ${holder.host}) is applying plan ${holder.planId} since ${holder.since}`;
}

export function readLockHolder(journal: Journal): LockHolder | undefined {
  const row = journal.db.prepare('SELECT * FROM apply_lock WHERE id = 1').get() as LockRow | undefined;
  return row && toHolder(row);
}

export function acquireApplyLock(journal: Journal, request: { who: string; planId: string; now: () => number; reason?: string }): LockAttempt {
  const db = journal.db;
  const me = { pid: process.pid, host: hostname(), start: processStartTime(process.pid) ?? null };
  const attempt = db.transaction((): LockAttempt => {
    const row = db.prepare('SELECT * FROM apply_lock WHERE id = 1').get() as LockRow | undefined;
    let recoveredFrom: LockHolder | undefined;
    if (row) {
      const holder = toHolder(row);
      // Another host's pid cannot be checked from here: that lock stands until its holder releases it.
      const alive = row.host !== me.host || processAlive(row.pid, row.proc_start);
      if (alive) return { acquired: false, holder, message: `another apply holds the lock: ${describeHolder(holder)}` };
      recoveredFrom = holder;
      db.prepare('DELETE FROM apply_lock WHERE id = 1').run();
    }
    const since = new Date(request.now()).toISOString();
    const who = safeText(request.who);
    const reason = request.reason === undefined ? undefined : safeText(request.reason);
    db.prepare('INSERT INTO apply_lock (id, pid, host, who, plan_id, since, proc_start, reason) VALUES (1, ?, ?, ?, ?, ?, ?, ?)').run(
      me.pid,
      me.host,
      who,
      request.planId,
      since,
      me.start,
      reason ?? null,
    );
    const holder: LockHolder = { pid: me.pid, host: me.host, who, planId: request.planId, since, ...(reason ? { reason } : {}) };
    const lock: ApplyLock = {
      holder,
      release: () => {
        db.prepare('DELETE FROM apply_lock WHERE id = 1 AND pid = ? AND host = ? AND plan_id = ? AND since = ?').run(
          holder.pid,
          holder.host,
          holder.planId,
          holder.since,
        );
      },
    };
    return recoveredFrom ? { acquired: true, lock, recoveredFrom } : { acquired: true, lock };
  });
  const result = attempt.immediate();
  if (result.acquired && result.recoveredFrom) {
    journal.audit({ kind: 'lock.recovered', planId: request.planId, actor: request.who, data: { deadHolder: result.recoveredFrom } });
  }
  return result;
}

export function freezeState(journal: Journal): FreezeState | undefined {
  return journal.db.prepare('SELECT who, why, since FROM freeze WHERE id = 1').get() as FreezeState | undefined;
}

export function freeze(journal: Journal, who: string, why: string, now: () => number): FreezeState {
  const state = { who: safeText(who), why: safeText(why), since: new Date(now()).toISOString() };
  journal.db.prepare('INSERT OR REPLACE INTO freeze (id, who, why, since) VALUES (1, ?, ?, ?)').run(state.who, state.why, state.since);
  journal.audit({ kind: 'freeze.on', actor: who, data: { why } });
  return state;
}

/** Lifts the freeze; returns the freeze that was lifted, if any. */
export function unfreeze(journal: Journal, who: string): FreezeState | undefined {
  const previous = freezeState(journal);
  if (!previous) return undefined;
  journal.db.prepare('DELETE FROM freeze WHERE id = 1').run();
  journal.audit({ kind: 'freeze.off', actor: who, data: { frozenBy: previous.who, why: previous.why, since: previous.since } });
  return previous;
}
