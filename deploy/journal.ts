// The write-ahead journal of apply: per action (keyed by `planHash:actionId`) a status, and per step inside it
// intent → UPID → outcome, written BEFORE the step is sent, so a restart after kill -9 knows exactly what may have
// reached Proxmox. The audit trail lives in the same store (deploy/audit.ts). Nothing secret is written: every text
// passes through deploy/redact.ts.
import { appendAudit, listAudit, verifyAuditChain, type AuditEntry, type AuditInput, type ChainCheck } from './audit.ts';
import { openApplyDb, type Db } from './db.ts';
import { safeJson, safeText } from './redact.ts';

export type ActionStatus = 'running' | 'done' | 'waiting' | 'failed' | 'reverted' | 'refused';
export type StepPhase = 'intent' | 'upid' | 'done' | 'failed';

export interface ActionRecord {
  planHash: string;
  actionId: string;
  planId: string;
  status: ActionStatus;
  detail: string;
  startedAt: string;
  finishedAt: string | null;
  /** JSON of the target's fingerprint after the action finished, or null when it could not be read. */
  postFingerprint: string | null;
}

export interface StepRecord {
  step: string;
  phase: StepPhase;
  upid: string | null;
  detail: string;
  updatedAt: string;
}

export interface SnapshotRecord {
  planHash: string;
  vmid: number;
  name: string;
  kind: 'snapshot' | 'vzdump';
  ref: string;
  takenAt: string;
}

export const journalKey = (planHash: string, actionId: string): string => `${planHash}:${actionId}`;

interface ActionRow {
  plan_hash: string;
  action_id: string;
  plan_id: string;
  status: ActionStatus;
  detail: string;
  started_at: string;
  finished_at: string | null;
  post_fingerprint: string | null;
}

export class Journal {
  constructor(
    readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  static open(path: string, now: () => number = Date.now): Journal {
    return new Journal(openApplyDb(path), now);
  }

  private stamp(): string {
    return new Date(this.now()).toISOString();
  }

  actionRecord(planHash: string, actionId: string): ActionRecord | undefined {
    const row = this.db.prepare('SELECT * FROM actions WHERE key = ?').get(journalKey(planHash, actionId)) as ActionRow | undefined;
    return row && toAction(row);
  }

  actionRecords(planHash: string): ActionRecord[] {
    const rows = this.db.prepare('SELECT * FROM actions WHERE plan_hash = ? ORDER BY started_at, action_id').all(planHash) as ActionRow[];
    return rows.map(toAction);
  }

  beginAction(planHash: string, planId: string, actionId: string): void {
    this.db
      .prepare(
        `INSERT INTO actions (key, plan_hash, action_id, plan_id, status, detail, started_at) VALUES (?, ?, ?, ?, 'running', '', ?)
         ON CONFLICT(key) DO UPDATE SET status = 'running', finished_at = NULL`,
      )
      .run(journalKey(planHash, actionId), planHash, actionId, planId, this.stamp());
  }

  finishAction(planHash: string, actionId: string, status: Exclude<ActionStatus, 'running'>, detail: string, postFingerprint?: unknown): void {
    this.db
      .prepare('UPDATE actions SET status = ?, detail = ?, finished_at = ?, post_fingerprint = ? WHERE key = ?')
      .run(status, safeText(detail), this.stamp(), postFingerprint === undefined ? null : safeJson(postFingerprint), journalKey(planHash, actionId));
  }

  steps(planHash: string, actionId: string): Map<string, StepRecord> {
    const rows = this.db
      .prepare('SELECT step, phase, upid, detail, updated_at FROM action_steps WHERE key = ?')
      .all(journalKey(planHash, actionId)) as Array<{ step: string; phase: StepPhase; upid: string | null; detail: string; updated_at: string }>;
    return new Map(rows.map((row) => [row.step, { step: row.step, phase: row.phase, upid: row.upid, detail: row.detail, updatedAt: row.updated_at }]));
  }

  /** Marks a step as about to be sent; must be durable before the request leaves. */
  stepIntent(planHash: string, actionId: string, step: string, detail: unknown): void {
    this.writeStep(planHash, actionId, step, 'intent', null, safeJson(detail));
  }

  stepUpid(planHash: string, actionId: string, step: string, upid: string): void {
    this.db
      .prepare("UPDATE action_steps SET phase = 'upid', upid = ?, updated_at = ? WHERE key = ? AND step = ?")
      .run(upid, this.stamp(), journalKey(planHash, actionId), step);
  }

  stepOutcome(planHash: string, actionId: string, step: string, phase: 'done' | 'failed', detail: string): void {
    this.db
      .prepare('UPDATE action_steps SET phase = ?, detail = ?, updated_at = ? WHERE key = ? AND step = ?')
      .run(phase, safeText(detail), this.stamp(), journalKey(planHash, actionId), step);
  }

  private writeStep(planHash: string, actionId: string, step: string, phase: StepPhase, upid: string | null, detail: string): void {
    this.db
      .prepare(
        `INSERT INTO action_steps (key, step, phase, upid, detail, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(key, step) DO UPDATE SET phase = excluded.phase, upid = excluded.upid, detail = excluded.detail, updated_at = excluded.updated_at`,
      )
      .run(journalKey(planHash, actionId), step, phase, upid, detail, this.stamp());
  }

  recordSnapshot(planHash: string, vmid: number, name: string, kind: SnapshotRecord['kind'], ref: string): void {
    this.db
      .prepare('INSERT OR REPLACE INTO snapshots (plan_hash, vmid, name, kind, ref, taken_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(planHash, vmid, name, kind, ref, this.stamp());
  }

  snapshot(planHash: string, vmid: number, name: string): SnapshotRecord | undefined {
    const row = this.db.prepare('SELECT * FROM snapshots WHERE plan_hash = ? AND vmid = ? AND name = ?').get(planHash, vmid, name) as
      | { plan_hash: string; vmid: number; name: string; kind: SnapshotRecord['kind']; ref: string; taken_at: string }
      | undefined;
    return row && { planHash: row.plan_hash, vmid: row.vmid, name: row.name, kind: row.kind, ref: row.ref, takenAt: row.taken_at };
  }

  audit(input: AuditInput): AuditEntry {
    return appendAudit(this.db, new Date(this.now()), input);
  }

  auditEntries(filter: { planId?: string } = {}): AuditEntry[] {
    return listAudit(this.db, filter);
  }

  verifyAuditChain(): ChainCheck {
    return verifyAuditChain(this.db);
  }

  close(): void {
    this.db.close();
  }
}

function toAction(row: ActionRow): ActionRecord {
  return {
    planHash: row.plan_hash,
    actionId: row.action_id,
    planId: row.plan_id,
    status: row.status,
    detail: row.detail,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    postFingerprint: row.post_fingerprint,
  };
}
