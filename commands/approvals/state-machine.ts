// The one approval state machine for Discord, Slack and the console, persisted in SQLite so that a restart, a
// platform retry or a gateway replay cannot approve twice or apply an expired plan.
//
//   pending ──approve (enough distinct approvers)──► approved ──beginApply──► applying ──► applied | failed
//      │   └─(critical, typed confirmation)──► awaiting-confirmation ──confirm <hash>──► approved
//      ├──reject──► rejected        ├──TTL──► expired        └──newer plan, same phase (or VM) and channel──► superseded
//   applying ──not-started (a target could not be read before the first write)──► approved again, for another try
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import type { Plan, Risk } from '../../planner/plan.ts';
import { qualifiedId, type ApprovalRecord, type Requester } from '../services.ts';
import { approvalScope, replanCommand, shortHash } from '../plan-labels.ts';
import { isApprover, matchingGroup, type ApprovalPolicy } from './policy.ts';

export type PlanState = 'pending' | 'awaiting-confirmation' | 'approved' | 'applying' | 'applied' | 'failed' | 'rejected' | 'expired' | 'superseded';

/** What the audit trail receives for every decision, refusals included (H6's journal writes it). */
export interface ApprovalAuditEvent {
  type: 'approval.registered' | 'approval.decision' | 'approval.apply-start' | 'approval.apply-end';
  at: string;
  planId: string;
  planHash?: string;
  actor?: string;
  via?: ApprovalRecord['via'];
  outcome: string;
  reason?: string;
}

/** Where a decision came from. `eventKey` is the platform's id of the event, for replays and retries. */
export interface ApprovalInput {
  actor: Requester;
  via: ApprovalRecord['via'];
  /** A message of Jarvis's (`platform:channel:message`), a plan id, or the channel's latest plan. */
  target: { messageKey: string } | { planId: string } | { channelKey: string };
  eventKey?: string;
}

export type Decision =
  /** Not about a plan message of Jarvis's, or an event already seen: nothing to answer. */
  | { outcome: 'ignored' }
  /** This actor's decision was already counted (double click, retry): nothing more happens. */
  | { outcome: 'duplicate'; planId: string }
  | { outcome: 'refused'; planId?: string; reason: RefusalReason; message: string }
  | { outcome: 'recorded'; planId: string; message: string }
  | { outcome: 'needs-confirmation'; planId: string; shortHash: string; message: string }
  | { outcome: 'approved'; planId: string; message: string }
  | { outcome: 'rejected'; planId: string; message: string };

export type RefusalReason =
  | 'not-approver'
  | 'self-approval'
  | 'no-plan'
  | 'expired'
  | 'superseded'
  | 'closed'
  | 'not-awaiting-confirmation'
  | 'wrong-hash'
  | 'confirmation-expired';

export interface PlanRecord {
  planId: string;
  planHash: string;
  shortHash: string;
  /** The plan's phase, or for a rollback/backup retry its scope (`vm.rollback:300`, see approvalScope). */
  phase: string;
  maxRisk: Risk | 'none';
  requestedBy: string;
  channelKey: string;
  state: PlanState;
  createdAt: number;
  expiresAt: number;
  confirmDeadline: number | null;
}

export interface ApprovalsOptions {
  /** SQLite file (in JARVIS_DATA_DIR) or ':memory:'. */
  dbPath: string;
  policy: ApprovalPolicy;
  audit: (event: ApprovalAuditEvent) => void;
  now?: () => number;
}

interface PlanRow {
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
}

const OPEN_STATES: readonly PlanState[] = ['pending', 'awaiting-confirmation'];

export class Approvals {
  readonly policy: ApprovalPolicy;
  readonly #db: Database.Database;
  readonly #audit: (event: ApprovalAuditEvent) => void;
  readonly #now: () => number;

  constructor(options: ApprovalsOptions) {
    this.policy = options.policy;
    this.#audit = options.audit;
    this.#now = options.now ?? Date.now;
    this.#db = new Database(options.dbPath);
    this.#db.pragma('journal_mode = WAL');
    this.#db.exec(`
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
  }

  close(): void {
    this.#db.close();
  }

  /**
   * A short, stable token for a button argument too long for the platform's id (a UPID in Discord's 100-character
   * custom id), kept here so a click after a restart still finds it.
   */
  shortenButtonArg(value: string): string {
    const token = createHash('sha256').update(value).digest('base64url').slice(0, 16);
    this.#db.prepare('INSERT OR IGNORE INTO button_args VALUES (?, ?, ?)').run(token, value, this.#now());
    return token;
  }

  /** The argument a token stands for, or undefined for a token Jarvis never made. */
  expandButtonArg(token: string): string | undefined {
    return (this.#db.prepare('SELECT value FROM button_args WHERE token = ?').get(token) as { value: string } | undefined)?.value;
  }

  /** Registers a plan shown for approval. A newer plan for the same phase supersedes open ones in the channel. */
  register(plan: Plan, channelKey: string): PlanRecord {
    const existing = this.#row(plan.id);
    if (existing) return toRecord(existing);
    const now = this.#now();
    const made = Date.parse(plan.createdAt);
    const createdAt = Number.isFinite(made) && made <= now ? made : now;
    this.#db.transaction(() => {
      const superseded = this.#db
        .prepare(`SELECT plan_id FROM approval_plans WHERE channel_key = ? AND phase = ? AND state IN ('pending','awaiting-confirmation','approved')`)
        .all(channelKey, approvalScope(plan)) as Array<{ plan_id: string }>;
      for (const { plan_id } of superseded) {
        this.#setState(plan_id, 'superseded');
        this.#audit({ type: 'approval.decision', at: iso(now), planId: plan_id, outcome: 'superseded', reason: `by ${plan.id}` });
      }
      const seq = (this.#db.prepare('SELECT COALESCE(MAX(registered_seq), 0) + 1 AS next FROM approval_plans').get() as { next: number }).next;
      this.#db
        .prepare(`INSERT INTO approval_plans VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, NULL, ?)`)
        .run(plan.id, plan.planHash, approvalScope(plan), plan.summary.maxRisk, plan.requestedBy, channelKey, createdAt, createdAt + this.policy.ttlMs, seq);
    })();
    this.#audit({ type: 'approval.registered', at: iso(now), planId: plan.id, planHash: plan.planHash, actor: plan.requestedBy, outcome: 'pending' });
    return toRecord(this.#row(plan.id) as PlanRow);
  }

  /** Binds a message Jarvis posted to a plan: only reactions and clicks on such messages count. */
  attachMessage(planId: string, messageKey: string): void {
    this.#db.prepare('INSERT OR REPLACE INTO approval_messages VALUES (?, ?)').run(messageKey, planId);
  }

  get(planId: string): PlanRecord | undefined {
    const row = this.#row(planId);
    return row && toRecord(this.#expireIfDue(row));
  }

  /** The most recent plan in a channel that still awaits a decision or its confirmation. */
  latestOpen(channelKey: string): PlanRecord | undefined {
    const row = this.#db
      .prepare(`SELECT * FROM approval_plans WHERE channel_key = ? AND state IN ('pending','awaiting-confirmation') ORDER BY registered_seq DESC LIMIT 1`)
      .get(channelKey) as PlanRow | undefined;
    return row && toRecord(this.#expireIfDue(row));
  }

  approvers(planId: string): string[] {
    return (this.#db.prepare('SELECT approver FROM approval_votes WHERE plan_id = ? ORDER BY at, approver').all(planId) as Array<{ approver: string }>).map((r) => r.approver);
  }

  approve(input: ApprovalInput): Decision {
    return this.#decide(input, 'approve', (row, actor) => {
      const who = qualifiedId(actor);
      if (this.#hasVote(row.plan_id, who)) return { outcome: 'duplicate', planId: row.plan_id };
      if (row.state !== 'pending') return this.#closed(row);
      if (!this.policy.requesterMayApprove && who === row.requested_by) {
        return refuse(row.plan_id, 'self-approval', `${actor.displayName} requested plan ${row.plan_id}; another approver must approve it`);
      }
      const authorizedAs = this.policy.approvers.has(who) ? 'id' : `group:${matchingGroup(this.policy, actor) ?? ''}`;
      this.#db.prepare('INSERT INTO approval_votes VALUES (?, ?, ?, ?, ?)').run(row.plan_id, who, authorizedAs, input.via, this.#now());
      const have = this.approvers(row.plan_id).length;
      const risk = row.max_risk as Risk | 'none';
      const needed = this.policy.required[risk];
      if (have < needed) {
        return { outcome: 'recorded', planId: row.plan_id, message: `${actor.displayName} approved plan ${row.plan_id} (${have}/${needed}); it needs another approver` };
      }
      if (risk === 'critical' && this.policy.criticalTypedConfirmation) {
        const hash = shortHash(row.plan_hash);
        this.#db.prepare(`UPDATE approval_plans SET state = 'awaiting-confirmation', confirm_deadline = ? WHERE plan_id = ?`).run(this.#now() + this.policy.confirmWindowMs, row.plan_id);
        const minutes = Math.round(this.policy.confirmWindowMs / 60_000);
        return { outcome: 'needs-confirmation', planId: row.plan_id, shortHash: hash, message: `Plan ${row.plan_id} is critical: type /jarvis confirm ${hash} within ${minutes} min to apply it` };
      }
      this.#setState(row.plan_id, 'approved');
      return { outcome: 'approved', planId: row.plan_id, message: `${actor.displayName} approved plan ${row.plan_id}` };
    });
  }

  reject(input: ApprovalInput): Decision {
    return this.#decide(input, 'reject', (row, actor) => {
      if (!OPEN_STATES.includes(row.state) && row.state !== 'approved') return this.#closed(row);
      this.#setState(row.plan_id, 'rejected');
      return { outcome: 'rejected', planId: row.plan_id, message: `${actor.displayName} rejected plan ${row.plan_id}; nothing will be applied` };
    }, (row, actor) => qualifiedId(actor) === row.requested_by);
  }

  /** The typed confirmation of a critical plan: the short hash, by an approver, within the window. */
  confirm(input: ApprovalInput, typedHash: string): Decision {
    return this.#decide(input, 'confirm', (row) => {
      if (row.state !== 'awaiting-confirmation') {
        return row.state === 'approved' || row.state === 'applying' ? { outcome: 'duplicate', planId: row.plan_id } : refuse(row.plan_id, 'not-awaiting-confirmation', `Plan ${row.plan_id} is ${row.state}, not awaiting a confirmation`);
      }
      if ((row.confirm_deadline ?? 0) < this.#now()) {
        // The window lapsed: the approvals lapse with it, a new ✅ opens a new window.
        this.#db.prepare('DELETE FROM approval_votes WHERE plan_id = ?').run(row.plan_id);
        this.#db.prepare(`UPDATE approval_plans SET state = 'pending', confirm_deadline = NULL WHERE plan_id = ?`).run(row.plan_id);
        return refuse(row.plan_id, 'confirmation-expired', `The confirmation window of plan ${row.plan_id} has passed; approve it again to reopen it`);
      }
      if (typedHash.toLowerCase() !== shortHash(row.plan_hash)) {
        return refuse(row.plan_id, 'wrong-hash', `${typedHash} is not the hash of plan ${row.plan_id}; nothing was applied`);
      }
      this.#setState(row.plan_id, 'approved');
      return { outcome: 'approved', planId: row.plan_id, message: `Confirmed: plan ${row.plan_id} will be applied` };
    });
  }

  /**
   * Called when apply starts: the plan must be approved, still fresh, and every approver still authorized. Moves
   * the plan to `applying` atomically, so only one apply can start.
   */
  beginApply(planId: string): { ok: true; approvals: ApprovalRecord[] } | { ok: false; reason: string } {
    const row = this.#row(planId);
    if (!row) return { ok: false, reason: `plan ${planId} was never shown for approval` };
    const current = this.#expireIfDue(row);
    if (current.state !== 'approved') return { ok: false, reason: `plan ${planId} is ${current.state}, not approved` };
    const votes = this.#db.prepare('SELECT approver, authorized_as, via, at FROM approval_votes WHERE plan_id = ?').all(planId) as Array<{ approver: string; authorized_as: string; via: ApprovalRecord['via']; at: number }>;
    // Group membership is checked when the vote is cast; here the group itself must still be an approver group.
    const revoked = votes.filter((vote) =>
      vote.authorized_as === 'id' ? !this.policy.approvers.has(vote.approver) : !this.policy.approverGroups.has(vote.authorized_as.slice('group:'.length)),
    );
    if (revoked.length) return { ok: false, reason: `${revoked.map((v) => v.approver).join(', ')} is no longer an approver` };
    if (votes.length < this.policy.required[current.max_risk as Risk | 'none']) return { ok: false, reason: `plan ${planId} lacks approvals` };
    const moved = this.#db.prepare(`UPDATE approval_plans SET state = 'applying' WHERE plan_id = ? AND state = 'approved'`).run(planId);
    if (moved.changes !== 1) return { ok: false, reason: `plan ${planId} is already being applied` };
    this.#audit({ type: 'approval.apply-start', at: iso(this.#now()), planId, planHash: current.plan_hash, outcome: 'applying' });
    const approvals = votes.map((vote) => ({ approver: vote.approver, planId, planHash: current.plan_hash, at: iso(vote.at), via: vote.via }));
    return { ok: true, approvals };
  }

  /** `not-started`: apply wrote nothing (a target could not be read), so the plan is approved again for another try. */
  finishApply(planId: string, outcome: 'applied' | 'failed' | 'not-started'): void {
    this.#setState(planId, outcome === 'not-started' ? 'approved' : outcome);
    this.#audit({ type: 'approval.apply-end', at: iso(this.#now()), planId, outcome });
  }

  #decide(
    input: ApprovalInput,
    kind: 'approve' | 'reject' | 'confirm',
    step: (row: PlanRow, actor: Requester) => Decision,
    alsoAllowed?: (row: PlanRow, actor: Requester) => boolean,
  ): Decision {
    const decision = this.#db.transaction((): Decision => {
      if (input.eventKey) {
        const fresh = this.#db.prepare('INSERT OR IGNORE INTO approval_events VALUES (?, ?)').run(input.eventKey, this.#now());
        if (fresh.changes === 0) return { outcome: 'ignored' };
      }
      const found = this.#find(input.target);
      if (!found) {
        // Reactions on other messages are not for Jarvis; a typed or clicked decision without a plan gets an answer.
        if ('messageKey' in input.target) return { outcome: 'ignored' };
        return refuse(undefined, 'no-plan', 'planId' in input.target ? `No plan ${input.target.planId} awaits a decision here` : 'No plan awaits a decision in this channel');
      }
      const row = this.#expireIfDue(found);
      const actor = input.actor;
      if (!isApprover(this.policy, actor) && !(alsoAllowed?.(row, actor) ?? false)) {
        return refuse(row.plan_id, 'not-approver', `${actor.displayName} is not an approver for this plan`);
      }
      if (row.state === 'expired') return refuse(row.plan_id, 'expired', `Plan ${row.plan_id} expired ${Math.round(this.policy.ttlMs / 60_000)} min after it was made; make a new one with ${replanCommand(row.phase)}`);
      if (row.state === 'superseded') return refuse(row.plan_id, 'superseded', `Plan ${row.plan_id} was replaced by a newer plan; approve the newest one`);
      return step(row, actor);
    })();
    if (decision.outcome !== 'ignored') {
      this.#audit({
        type: 'approval.decision',
        at: iso(this.#now()),
        planId: 'planId' in decision && decision.planId ? decision.planId : '-',
        actor: qualifiedId(input.actor),
        via: input.via,
        outcome: `${kind}:${decision.outcome}`,
        ...(decision.outcome === 'refused' && { reason: decision.reason }),
      });
    }
    return decision;
  }

  #closed(row: PlanRow): Decision {
    if (row.state === 'approved' || row.state === 'applying' || row.state === 'awaiting-confirmation') return { outcome: 'duplicate', planId: row.plan_id };
    return refuse(row.plan_id, 'closed', `Plan ${row.plan_id} is already ${row.state}`);
  }

  #find(target: ApprovalInput['target']): PlanRow | undefined {
    if ('planId' in target) return this.#row(target.planId);
    if ('messageKey' in target) {
      const link = this.#db.prepare('SELECT plan_id FROM approval_messages WHERE message_key = ?').get(target.messageKey) as { plan_id: string } | undefined;
      return link && this.#row(link.plan_id);
    }
    return this.#db
      .prepare(`SELECT * FROM approval_plans WHERE channel_key = ? ORDER BY registered_seq DESC LIMIT 1`)
      .get(target.channelKey) as PlanRow | undefined;
  }

  #row(planId: string): PlanRow | undefined {
    return this.#db.prepare('SELECT * FROM approval_plans WHERE plan_id = ?').get(planId) as PlanRow | undefined;
  }

  #hasVote(planId: string, approver: string): boolean {
    return this.#db.prepare('SELECT 1 FROM approval_votes WHERE plan_id = ? AND approver = ?').get(planId, approver) !== undefined;
  }

  #expireIfDue(row: PlanRow): PlanRow {
    if (row.expires_at > this.#now() || !['pending', 'awaiting-confirmation', 'approved'].includes(row.state)) return row;
    this.#setState(row.plan_id, 'expired');
    return { ...row, state: 'expired' };
  }

  #setState(planId: string, state: PlanState): void {
    this.#db.prepare('UPDATE approval_plans SET state = ? WHERE plan_id = ?').run(state, planId);
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

function refuse(planId: string | undefined, reason: RefusalReason, message: string): Decision {
  return { outcome: 'refused', ...(planId !== undefined && { planId }), reason, message };
}

function toRecord(row: PlanRow): PlanRecord {
  return {
    planId: row.plan_id,
    planHash: row.plan_hash,
    shortHash: shortHash(row.plan_hash),
    phase: row.phase,
    maxRisk: row.max_risk as Risk | 'none',
    requestedBy: row.requested_by,
    channelKey: row.channel_key,
    state: row.state,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    confirmDeadline: row.confirm_deadline,
  };
}
