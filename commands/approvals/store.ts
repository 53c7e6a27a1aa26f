// The approval store: one SQLite file (approvals.db in JARVIS_DATA_DIR) with the plans shown for approval — each with
// the whole plan exactly as it was shown, which is what apply runs — the plan messages they were posted as, the votes,
// the platform event ids already handled, and long button arguments. The decisions are in state-machine.ts.
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';

/** See the diagram in state-machine.ts. */
export type PlanState = 'pending' | 'awaiting-confirmation' | 'approved' | 'applying' | 'applied' | 'failed' | 'rejected' | 'expired' | 'superseded';

export interface PlanRow {
  plan_id: string;
  plan_hash: string;
  phase: string;
  max_risk: string;
  requested_by: string;
  channel_key: string;
  state: PlanState;
  created_at: number;
  expires_at: number;
  confirm_deadline: number | null;
  registered_seq: number;
  /** planContent of the plan as it was shown (null for plans registered before Jarvis kept it). */
  content: string | null;
  content_hash: string | null;
}

export interface VoteRow {
  approver: string;
  authorized_as: string;
  via: 'reaction' | 'button' | 'text' | 'typed-confirmation';
  at: number;
}

export class ApprovalStore {
  readonly db: Database.Database;

  constructor(dbPath: string) {
    this.db = new Database(dbPath);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS approval_plans (
        plan_id TEXT PRIMARY KEY, plan_hash TEXT NOT NULL, phase TEXT NOT NULL, max_risk TEXT NOT NULL,
        requested_by TEXT NOT NULL, channel_key TEXT NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL, confirm_deadline INTEGER, registered_seq INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS approval_messages (message_key TEXT PRIMARY KEY, plan_id TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS approval_votes (
        plan_id TEXT NOT NULL, approver TEXT NOT NULL, authorized_as TEXT NOT NULL, via TEXT NOT NULL, at INTEGER NOT NULL,
        PRIMARY KEY (plan_id, approver));
      CREATE TABLE IF NOT EXISTS approval_events (event_key TEXT PRIMARY KEY, at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS button_args (token TEXT PRIMARY KEY, value TEXT NOT NULL, at INTEGER NOT NULL);`);
    // Stores made before the plan content was kept get the columns; their plans cannot be applied (beginApply says so).
    const columns = new Set((this.db.prepare('PRAGMA table_info(approval_plans)').all() as Array<{ name: string }>).map((c) => c.name));
    for (const column of ['content', 'content_hash']) {
      if (!columns.has(column)) this.db.exec(`ALTER TABLE approval_plans ADD COLUMN ${column} TEXT`);
    }
  }

  close(): void {
    this.db.close();
  }

  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  plan(planId: string): PlanRow | undefined {
    return this.db.prepare('SELECT * FROM approval_plans WHERE plan_id = ?').get(planId) as PlanRow | undefined;
  }

  planForMessage(messageKey: string): PlanRow | undefined {
    const link = this.db.prepare('SELECT plan_id FROM approval_messages WHERE message_key = ?').get(messageKey) as { plan_id: string } | undefined;
    return link && this.plan(link.plan_id);
  }

  /** The channel's plans in these states, newest first. */
  plansInChannel(channelKey: string, states: readonly PlanState[]): PlanRow[] {
    const marks = states.map(() => '?').join(',');
    return this.db
      .prepare(`SELECT * FROM approval_plans WHERE channel_key = ? AND state IN (${marks}) ORDER BY registered_seq DESC`)
      .all(channelKey, ...states) as PlanRow[];
  }

  latestInChannel(channelKey: string): PlanRow | undefined {
    return this.db.prepare('SELECT * FROM approval_plans WHERE channel_key = ? ORDER BY registered_seq DESC LIMIT 1').get(channelKey) as PlanRow | undefined;
  }

  insertPlan(row: Omit<PlanRow, 'registered_seq' | 'state' | 'confirm_deadline'>): void {
    const seq = (this.db.prepare('SELECT COALESCE(MAX(registered_seq), 0) + 1 AS next FROM approval_plans').get() as { next: number }).next;
    this.db
      .prepare(
        `INSERT INTO approval_plans (plan_id, plan_hash, phase, max_risk, requested_by, channel_key, state, created_at, expires_at, confirm_deadline, registered_seq, content, content_hash)
         VALUES (@plan_id, @plan_hash, @phase, @max_risk, @requested_by, @channel_key, 'pending', @created_at, @expires_at, NULL, @seq, @content, @content_hash)`,
      )
      .run({ ...row, seq });
  }

  setState(planId: string, state: PlanState): void {
    this.db.prepare('UPDATE approval_plans SET state = ? WHERE plan_id = ?').run(state, planId);
  }

  /** Moves the plan from `from` to `to` only if it is still in `from`; true when it moved. */
  moveState(planId: string, from: PlanState, to: PlanState): boolean {
    return this.db.prepare('UPDATE approval_plans SET state = ? WHERE plan_id = ? AND state = ?').run(to, planId, from).changes === 1;
  }

  awaitConfirmation(planId: string, deadline: number): void {
    this.db.prepare(`UPDATE approval_plans SET state = 'awaiting-confirmation', confirm_deadline = ? WHERE plan_id = ?`).run(deadline, planId);
  }

  /** The confirmation window lapsed: the votes lapse with it and the plan is pending again. */
  reopen(planId: string): void {
    this.db.prepare('DELETE FROM approval_votes WHERE plan_id = ?').run(planId);
    this.db.prepare(`UPDATE approval_plans SET state = 'pending', confirm_deadline = NULL WHERE plan_id = ?`).run(planId);
  }

  linkMessage(messageKey: string, planId: string): void {
    this.db.prepare('INSERT OR REPLACE INTO approval_messages VALUES (?, ?)').run(messageKey, planId);
  }

  /** Every plan in this state, oldest first. */
  plansInState(state: PlanState): PlanRow[] {
    return this.db.prepare('SELECT * FROM approval_plans WHERE state = ? ORDER BY registered_seq').all(state) as PlanRow[];
  }

  votes(planId: string): VoteRow[] {
    return this.db.prepare('SELECT approver, authorized_as, via, at FROM approval_votes WHERE plan_id = ? ORDER BY at, approver').all(planId) as VoteRow[];
  }

  hasVote(planId: string, approver: string): boolean {
    return this.db.prepare('SELECT 1 FROM approval_votes WHERE plan_id = ? AND approver = ?').get(planId, approver) !== undefined;
  }

  addVote(planId: string, vote: VoteRow): void {
    this.db.prepare('INSERT INTO approval_votes VALUES (?, ?, ?, ?, ?)').run(planId, vote.approver, vote.authorized_as, vote.via, vote.at);
  }

  /** Records a platform event id; false when it was recorded before (a replay or a retry). */
  recordEvent(eventKey: string, at: number): boolean {
    return this.db.prepare('INSERT OR IGNORE INTO approval_events VALUES (?, ?)').run(eventKey, at).changes === 1;
  }

  forgetEvent(eventKey: string): void {
    this.db.prepare('DELETE FROM approval_events WHERE event_key = ?').run(eventKey);
  }

  shortenButtonArg(value: string, at: number): string {
    const token = createHash('sha256').update(value).digest('base64url').slice(0, 16);
    this.db.prepare('INSERT OR IGNORE INTO button_args VALUES (?, ?, ?)').run(token, value, at);
    return token;
  }

  expandButtonArg(token: string): string | undefined {
    return (this.db.prepare('SELECT value FROM button_args WHERE token = ?').get(token) as { value: string } | undefined)?.value;
  }
}
