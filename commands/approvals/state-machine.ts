// The one approval state machine for Discord, Slack and the console, persisted in SQLite (store.ts) so that a restart,
// a platform retry or a gateway replay cannot approve twice or apply an expired plan. An approval binds to the plan
// exactly as it was shown: the store keeps the whole plan at registration, and apply runs that content only.
//
//   pending ──approve (enough distinct approvers)──► approved ──beginApply──► applying ──► applied | failed
//      │   └─(critical, typed confirmation)──► awaiting-confirmation ──confirm <hash>──► approved
//      ├──reject──► rejected        ├──TTL──► expired        └──newer plan, same phase (or VM) and channel──► superseded
//   applying ──not-started (a target could not be read before the first write)──► approved again, for another try
//
// A newer plan supersedes only plans its presenter may replace: an approver's replaces any, a viewer's only their own;
// otherwise it stands beside them, and a decision without a plan id must then name one.
import type { Plan, Risk } from '../../planner/plan.ts';
import { planContent, planContentHash } from '../../planner/artifact.ts';
import { qualifiedId, type ApprovalRecord, type Requester } from '../services.ts';
import { approvalScope, replanCommand, shortHash } from '../plan-labels.ts';
import { isApprover, matchingGroup, type ApprovalPolicy } from './policy.ts';
import { ApprovalStore, type PlanRow, type PlanState } from './store.ts';

export type { PlanState } from './store.ts';

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
  /** A message of Jarvis's (`platform:channel:message`), a plan id, or the plan awaiting a decision in a channel. */
  target: { messageKey: string } | { planId: string } | { channelKey: string };
  eventKey?: string;
}

export type Decision =
  /** Not about a plan message of Jarvis's (`unlinked`: not one yet), or an event already seen: nothing to answer. */
  | { outcome: 'ignored'; unlinked?: true }
  /** Already counted or already past this step (double click, retry, a second /jarvis approve): said only when typed. */
  | { outcome: 'duplicate'; planId: string; message: string; next: string }
  | { outcome: 'refused'; planId?: string; reason: RefusalReason; message: string }
  | { outcome: 'recorded'; planId: string; message: string }
  | { outcome: 'needs-confirmation'; planId: string; shortHash: string; message: string }
  | { outcome: 'approved'; planId: string; message: string }
  | { outcome: 'rejected'; planId: string; message: string };

export type RefusalReason =
  | 'not-approver'
  | 'self-approval'
  | 'no-plan'
  | 'ambiguous'
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

/** What registering a plan did to the other plans of its scope in the channel. */
export interface Registration {
  record: PlanRecord;
  superseded: string[];
  /** Open or approved plans of other people that a viewer's plan does not replace: both stand. */
  keptBeside: PlanRecord[];
}

export interface ApprovalsOptions {
  /** SQLite file (in JARVIS_DATA_DIR) or ':memory:'. */
  dbPath: string;
  policy: ApprovalPolicy;
  audit: (event: ApprovalAuditEvent) => void;
  now?: () => number;
}

const OPEN_STATES: readonly PlanState[] = ['pending', 'awaiting-confirmation'];
const REPLACEABLE: readonly PlanState[] = ['pending', 'awaiting-confirmation', 'approved'];

export class Approvals {
  readonly policy: ApprovalPolicy;
  readonly #store: ApprovalStore;
  readonly #audit: (event: ApprovalAuditEvent) => void;
  readonly #now: () => number;

  constructor(options: ApprovalsOptions) {
    this.policy = options.policy;
    this.#audit = options.audit;
    this.#now = options.now ?? Date.now;
    this.#store = new ApprovalStore(options.dbPath);
  }

  close(): void {
    this.#store.close();
  }

  /**
   * A short, stable token for a button argument too long for the platform's id (a UPID in Discord's 100-character
   * custom id), kept here so a click after a restart still finds it.
   */
  shortenButtonArg(value: string): string {
    return this.#store.shortenButtonArg(value, this.#now());
  }

  /** The argument a token stands for, or undefined for a token Jarvis never made. */
  expandButtonArg(token: string): string | undefined {
    return this.#store.expandButtonArg(token);
  }

  /**
   * Registers a plan shown for approval by `presenter`, keeping the plan itself: that content is what apply runs. It
   * supersedes the open or approved plans of its scope in the channel that the presenter may replace (see the top).
   */
  register(plan: Plan, channelKey: string, presenter: Requester): Registration {
    const existing = this.#store.plan(plan.id);
    if (existing) return { record: toRecord(existing), superseded: [], keptBeside: [] };
    const now = this.#now();
    const made = Date.parse(plan.createdAt);
    const createdAt = Number.isFinite(made) && made <= now ? made : now;
    const scope = approvalScope(plan);
    const replacesOthers = isApprover(this.policy, presenter);
    const outcome = this.#store.transaction(() => {
      const same = this.#store.plansInChannel(channelKey, REPLACEABLE).filter((row) => row.phase === scope);
      const superseded = same.filter((row) => replacesOthers || row.requested_by === plan.requestedBy);
      for (const row of superseded) {
        this.#store.setState(row.plan_id, 'superseded');
        this.#audit({ type: 'approval.decision', at: iso(now), planId: row.plan_id, outcome: 'superseded', reason: `by ${plan.id}` });
      }
      this.#store.insertPlan({
        plan_id: plan.id,
        plan_hash: plan.planHash,
        phase: scope,
        max_risk: plan.summary.maxRisk,
        requested_by: plan.requestedBy,
        channel_key: channelKey,
        created_at: createdAt,
        expires_at: createdAt + this.policy.ttlMs,
        content: planContent(plan),
        content_hash: planContentHash(plan),
      });
      return { superseded: superseded.map((row) => row.plan_id), keptBeside: same.filter((row) => !superseded.includes(row)).map(toRecord) };
    });
    this.#audit({ type: 'approval.registered', at: iso(now), planId: plan.id, planHash: plan.planHash, actor: plan.requestedBy, outcome: 'pending' });
    return { record: toRecord(this.#store.plan(plan.id) as PlanRow), ...outcome };
  }

  /** Binds a message Jarvis posted to a plan: only reactions and clicks on such messages count. */
  attachMessage(planId: string, messageKey: string): void {
    this.#store.linkMessage(messageKey, planId);
  }

  /** A reaction was removed: the same reaction added again is a new event (it counts, at most once per person). */
  forgetEvent(eventKey: string): void {
    this.#store.forgetEvent(eventKey);
  }

  get(planId: string): PlanRecord | undefined {
    const row = this.#store.plan(planId);
    return row && toRecord(this.#expireIfDue(row));
  }

  /** The most recent plan in a channel that still awaits a decision or its confirmation. */
  latestOpen(channelKey: string): PlanRecord | undefined {
    const row = this.#store.plansInChannel(channelKey, OPEN_STATES)[0];
    return row && toRecord(this.#expireIfDue(row));
  }

  approvers(planId: string): string[] {
    return this.#store.votes(planId).map((vote) => vote.approver);
  }

  approve(input: ApprovalInput): Decision {
    return this.#decide(input, 'approve', (row, actor) => {
      if (!REPLACEABLE.includes(row.state) && row.state !== 'applying') return this.#closed(row, 'approve');
      const who = qualifiedId(actor);
      if (this.#store.hasVote(row.plan_id, who) || row.state !== 'pending') return this.#already(row, actor);
      if (!this.policy.requesterMayApprove && who === row.requested_by) {
        return refuse(row.plan_id, 'self-approval', `${actor.displayName} requested plan ${row.plan_id}; another approver must approve it`);
      }
      const authorizedAs = this.policy.approvers.has(who) ? 'id' : `group:${matchingGroup(this.policy, actor) ?? ''}`;
      this.#store.addVote(row.plan_id, { approver: who, authorized_as: authorizedAs, via: input.via, at: this.#now() });
      const have = this.approvers(row.plan_id).length;
      const risk = row.max_risk as Risk | 'none';
      const needed = this.policy.required[risk];
      if (have < needed) {
        return { outcome: 'recorded', planId: row.plan_id, message: `${actor.displayName} approved plan ${row.plan_id} (${have}/${needed}); it needs another approver` };
      }
      if (risk === 'critical' && this.policy.criticalTypedConfirmation) {
        const hash = shortHash(row.plan_hash);
        this.#store.awaitConfirmation(row.plan_id, this.#now() + this.policy.confirmWindowMs);
        const minutes = Math.round(this.policy.confirmWindowMs / 60_000);
        return { outcome: 'needs-confirmation', planId: row.plan_id, shortHash: hash, message: `Plan ${row.plan_id} is critical: type /jarvis confirm ${hash} within ${minutes} min to apply it` };
      }
      this.#store.setState(row.plan_id, 'approved');
      return { outcome: 'approved', planId: row.plan_id, message: `${actor.displayName} approved plan ${row.plan_id}` };
    });
  }

  reject(input: ApprovalInput): Decision {
    return this.#decide(input, 'reject', (row, actor) => {
      if (!REPLACEABLE.includes(row.state)) return this.#closed(row, 'reject');
      this.#store.setState(row.plan_id, 'rejected');
      return { outcome: 'rejected', planId: row.plan_id, message: `${actor.displayName} rejected plan ${row.plan_id}; nothing will be applied` };
    }, (row, actor) => qualifiedId(actor) === row.requested_by);
  }

  /** The typed confirmation of a critical plan: the short hash, by an approver, within the window. */
  confirm(input: ApprovalInput, typedHash: string): Decision {
    return this.#decide(input, 'confirm', (row, actor) => {
      if (row.state !== 'awaiting-confirmation') {
        return row.state === 'approved' || row.state === 'applying'
          ? this.#already(row, actor)
          : refuse(row.plan_id, 'not-awaiting-confirmation', `Plan ${row.plan_id} is ${row.state}, not awaiting a confirmation`);
      }
      if ((row.confirm_deadline ?? 0) < this.#now()) {
        this.#store.reopen(row.plan_id);
        return refuse(row.plan_id, 'confirmation-expired', `The confirmation window of plan ${row.plan_id} has passed; approve it again to reopen it`);
      }
      if (typedHash.toLowerCase() !== shortHash(row.plan_hash)) {
        return refuse(row.plan_id, 'wrong-hash', `${typedHash} is not the hash of plan ${row.plan_id}; nothing was applied`);
      }
      this.#store.setState(row.plan_id, 'approved');
      return { outcome: 'approved', planId: row.plan_id, message: `Confirmed: plan ${row.plan_id} will be applied` };
    });
  }

  /**
   * Called when apply starts: the plan must be approved, still fresh, and every approver still authorized. Moves the
   * plan to `applying` atomically, so only one apply can start. `plan` is the plan as it was shown (planContent):
   * apply runs it and refuses a saved file that differs.
   */
  beginApply(planId: string): { ok: true; approvals: ApprovalRecord[]; plan: string } | { ok: false; reason: string } {
    const row = this.#store.plan(planId);
    if (!row) return { ok: false, reason: `plan ${planId} was never shown for approval` };
    const current = this.#expireIfDue(row);
    if (current.state !== 'approved') return { ok: false, reason: `plan ${planId} is ${current.state}, not approved` };
    if (current.content === null || current.content_hash === null) {
      return { ok: false, reason: `plan ${planId} was shown by an older Jarvis that did not keep the plan itself; make a new one with ${replanCommand(current.phase)}` };
    }
    const votes = this.#store.votes(planId);
    // Group membership is checked when the vote is cast; here the group itself must still be an approver group.
    const revoked = votes.filter((vote) =>
      vote.authorized_as === 'id' ? !this.policy.approvers.has(vote.approver) : !this.policy.approverGroups.has(vote.authorized_as.slice('group:'.length)),
    );
    if (revoked.length) return { ok: false, reason: `${revoked.map((v) => v.approver).join(', ')} is no longer an approver` };
    if (votes.length < this.policy.required[current.max_risk as Risk | 'none']) return { ok: false, reason: `plan ${planId} lacks approvals` };
    if (!this.#store.moveState(planId, 'approved', 'applying')) return { ok: false, reason: `plan ${planId} is already being applied` };
    this.#audit({ type: 'approval.apply-start', at: iso(this.#now()), planId, planHash: current.plan_hash, outcome: 'applying' });
    const approvals = votes.map((vote) => ({ approver: vote.approver, planId, planHash: current.plan_hash, contentHash: current.content_hash as string, at: iso(vote.at), via: vote.via }));
    return { ok: true, approvals, plan: current.content };
  }

  /**
   * Applies that were running when Jarvis stopped (its own VM rebooted under it, a crash): still `applying`, with the
   * approvals they started with and the plan as it was shown. The journal knows how far each got.
   */
  interruptedApplies(): Array<{ planId: string; requestedBy: string; channelKey: string; approvals: ApprovalRecord[]; plan: string }> {
    return this.#store.plansInState('applying').flatMap((row) => {
      if (row.content === null || row.content_hash === null) return [];
      const approvals = this.#store.votes(row.plan_id).map((vote) => ({ approver: vote.approver, planId: row.plan_id, planHash: row.plan_hash, contentHash: row.content_hash as string, at: iso(vote.at), via: vote.via }));
      return [{ planId: row.plan_id, requestedBy: row.requested_by, channelKey: row.channel_key, approvals, plan: row.content }];
    });
  }

  /** `not-started`: apply wrote nothing (a target could not be read), so the plan is approved again for another try. */
  finishApply(planId: string, outcome: 'applied' | 'failed' | 'not-started'): void {
    this.#store.setState(planId, outcome === 'not-started' ? 'approved' : outcome);
    this.#audit({ type: 'approval.apply-end', at: iso(this.#now()), planId, outcome });
  }

  #decide(
    input: ApprovalInput,
    kind: 'approve' | 'reject' | 'confirm',
    step: (row: PlanRow, actor: Requester) => Decision,
    alsoAllowed?: (row: PlanRow, actor: Requester) => boolean,
  ): Decision {
    const decision = this.#store.transaction((): Decision => {
      const found = this.#find(input.target, kind);
      // A reaction or click on a message not (yet) linked to a plan records nothing, so the same event counts once
      // the message is linked (dispatcher.ts holds it while a plan message is being posted).
      if (!found && 'messageKey' in input.target) return { outcome: 'ignored', unlinked: true };
      if (input.eventKey && !this.#store.recordEvent(input.eventKey, this.#now())) return { outcome: 'ignored' };
      if (!found) return refuse(undefined, 'no-plan', 'planId' in input.target ? `No plan ${input.target.planId} awaits a decision here` : 'No plan awaits a decision in this channel');
      if ('refusal' in found) return found.refusal;
      const row = this.#expireIfDue(found);
      const actor = input.actor;
      if (!isApprover(this.policy, actor) && !(alsoAllowed?.(row, actor) ?? false)) {
        return refuse(row.plan_id, 'not-approver', `${actor.displayName} is not an approver for this plan`);
      }
      if (row.state === 'expired') return refuse(row.plan_id, 'expired', `Plan ${row.plan_id} expired ${Math.round(this.policy.ttlMs / 60_000)} min after it was made; make a new one with ${replanCommand(row.phase)}`);
      if (row.state === 'superseded') return refuse(row.plan_id, 'superseded', `Plan ${row.plan_id} was replaced by a newer plan; approve the newest one`);
      return step(row, actor);
    });
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

  /** A plan that is over (applied, failed, rejected), or being applied when someone rejects it. */
  #closed(row: PlanRow, kind: 'approve' | 'reject'): Decision {
    const hint = row.state === 'applied' && kind === 'approve' ? '; there is nothing left to approve' : row.state === 'applying' ? ' and can no longer be rejected' : '';
    return refuse(row.plan_id, 'closed', `Plan ${row.plan_id} is already ${row.state === 'applying' ? 'being applied' : row.state}${hint}`);
  }

  /** Nothing to do for this actor: their vote is in, or the plan is past approval. Typed commands say where it is. */
  #already(row: PlanRow, actor: Requester): Decision {
    const id = row.plan_id;
    const voted = this.#store.hasVote(id, qualifiedId(actor));
    if (row.state === 'awaiting-confirmation') {
      const hash = shortHash(row.plan_hash);
      const until = row.confirm_deadline === null ? '' : ` before ${iso(row.confirm_deadline).slice(11, 16)} UTC`;
      return { outcome: 'duplicate', planId: id, message: `Plan ${id} ${voted ? `has your approval` : 'is approved'} and waits for its typed confirmation: /jarvis confirm ${hash} ${id}${until}`, next: `/jarvis confirm ${hash} ${id}` };
    }
    if (row.state === 'approved' || row.state === 'applying') {
      return { outcome: 'duplicate', planId: id, message: `Plan ${id} is already approved and is being applied`, next: '/jarvis status' };
    }
    const have = this.#store.votes(id).length;
    return { outcome: 'duplicate', planId: id, message: `${actor.displayName} already approved plan ${id} (${have}/${this.policy.required[row.max_risk as Risk | 'none']}); it needs another approver`, next: `another approver: ✅ or /jarvis approve ${id}` };
  }

  #find(target: ApprovalInput['target'], kind: 'approve' | 'reject' | 'confirm'): PlanRow | { refusal: Decision } | undefined {
    if ('planId' in target) return this.#store.plan(target.planId);
    if ('messageKey' in target) return this.#store.planForMessage(target.messageKey);
    const fresh = this.#store.plansInChannel(target.channelKey, OPEN_STATES).filter((row) => this.#expireIfDue(row).state !== 'expired');
    // A typed confirmation is for the plan that asked for it, even when another plan of the channel is pending.
    const awaiting = fresh.filter((row) => row.state === 'awaiting-confirmation');
    const open = kind === 'confirm' && awaiting.length > 0 ? awaiting : fresh;
    if (open.length > 1) {
      const list = open.map((row) => `${row.plan_id} (${row.phase}, by ${row.requested_by})`).join(', ');
      return { refusal: refuse(undefined, 'ambiguous', `${open.length} plans await a decision here: ${list}; name the one you mean, e.g. /jarvis ${kind === 'confirm' ? 'confirm <hash>' : kind} ${open[0]!.plan_id}`) };
    }
    return open[0] ?? this.#store.latestInChannel(target.channelKey);
  }

  #expireIfDue(row: PlanRow): PlanRow {
    if (row.expires_at > this.#now() || !REPLACEABLE.includes(row.state)) return row;
    this.#store.setState(row.plan_id, 'expired');
    return { ...row, state: 'expired' };
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
