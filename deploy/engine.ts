// applyPlan: executes exactly the approved plan's actions, or refuses and says why. Refusals come before any write;
// then, under the apply lock, actions run in dependency order (independent ones side by side under a small bound,
// never two on the same resource), each through its channel's executor, journaled so that a restart after kill -9
// skips what finished and reconciles what was in flight. The result is re-scanned: "accepted" vs "achieved".
import { JarvisError } from '../lib/errors.ts';
import type { Plan, PlanAction } from '../planner/plan.ts';
import { confirmOrRevert } from './executors/confirm.ts';
import { executeMove } from './executors/move.ts';
import { executePve } from './executors/pve.ts';
import { ActionFailure, ActionRun, type ExecutorResult } from './executors/run.ts';
import { executeStep } from './executors/step.ts';
import { executeManual } from './executors/owner.ts';
import { executeTailnet } from './executors/tailnet.ts';
import { dryRunPlan } from './dry-run.ts';
import type { ActionRecord } from './journal.ts';
import { acquireApplyLock, freezeState } from './lock.ts';
import { nextSteps } from './next-steps.ts';
import { checkPlanShape, checkStale } from './preflight.ts';
import { redactValue, safeText } from './redact.ts';
import { resourceKeys } from './resources.ts';
import { pruneJarvisSnapshots, takePreSnapshot } from './snapshots.ts';
import { validate, waitingCause } from './apply-validation.ts';
import type { ActionReport, ApplyContext, ApplyEvent, ApplyReport, ApplyStatus, Refusal } from './types.ts';

const DEFAULT_CONCURRENCY = 3;

function refused(plan: Plan, ctx: ApplyContext, refusal: Refusal): ApplyReport {
  ctx.journal.audit({ kind: 'apply.refused', planId: plan.id, planHash: plan.planHash, actor: ctx.requester, data: { via: ctx.via, ...refusal } });
  // A target that could not be read is the lab not answering (exit 4), not a refusal of the plan.
  const status: ApplyStatus = refusal.code === 'unreadable' ? 'unreachable' : 'refused';
  ctx.onProgress({ type: 'apply.finished', status });
  const next =
    refusal.code === 'stale' || refusal.code === 'format' || refusal.code === 'reverted-before'
      ? [`re-plan: jarvis plan ${plan.phase}`]
      : refusal.code === 'not-approved'
        ? [ctx.via === 'cli' ? `approve by running: jarvis apply ${plan.id} --yes` : 'approve the plan message in chat first']
        : refusal.code === 'unreadable'
          ? [ctx.via === 'cli' ? `try again: jarvis apply ${plan.id} --yes` : `try again: /jarvis apply ${plan.id}`]
          : [];
  return { planId: plan.id, planHash: plan.planHash, status, refusal, actions: [], snapshots: [], next };
}

/** Wraps the caller's progress sink so no event can carry a secret. */
function safeProgress(sink: (event: ApplyEvent) => void): (event: ApplyEvent) => void {
  return (event) => sink(redactValue(event) as ApplyEvent);
}

export async function applyPlan(plan: Plan, callerCtx: ApplyContext): Promise<ApplyReport> {
  const ctx: ApplyContext = { ...callerCtx, onProgress: safeProgress(callerCtx.onProgress) };
  const shape = checkPlanShape(plan);
  if (shape) return refused(plan, ctx, shape);
  if (ctx.dryRun) return dryRun(plan, ctx);
  if (!ctx.approved) {
    const message = ctx.via === 'cli' ? `plan ${plan.id} is not approved: pass --yes to apply it` : `plan ${plan.id} has no recorded approval`;
    return refused(plan, ctx, { code: 'not-approved', message });
  }
  const missing = missingSecrets(plan, ctx);
  if (missing) return refused(plan, ctx, missing);
  const frozen = freezeState(ctx.journal);
  if (frozen) {
    return refused(plan, ctx, { code: 'frozen', message: `changes are frozen by ${frozen.who} since ${frozen.since}: ${frozen.why}` });
  }
  const attempt = acquireApplyLock(ctx.journal, { who: ctx.requester, planId: plan.id, now: ctx.now });
  if (!attempt.acquired) return refused(plan, ctx, { code: 'locked', message: attempt.message });
  if (attempt.recoveredFrom) {
    ctx.onProgress({ type: 'warning', message: `recovered the apply lock from a holder that is gone (pid ${attempt.recoveredFrom.pid}, plan ${attempt.recoveredFrom.planId})` });
  }
  try {
    return await applyLocked(plan, ctx);
  } finally {
    attempt.lock.release();
  }
}

/** The plan guardrails again, on the spec and the live lab: an edited plan file cannot drop its violations. */
async function recheckGuardrails(plan: Plan, ctx: ApplyContext): Promise<Refusal | undefined> {
  let violations;
  try {
    violations = await ctx.guardrails();
  } catch (error) {
    return { code: 'unreadable', message: `could not check plan ${plan.id} against the guardrails (${error instanceof Error ? error.message : String(error)}); nothing was changed, try again` };
  }
  if (violations.length === 0) return undefined;
  const list = violations.map((v) => `${v.ruleId}${v.actionId ? ` (${v.actionId})` : ''}: ${v.message}`).join('; ');
  return { code: 'violations', message: `plan ${plan.id} breaks ${violations.length} guardrail(s) and cannot be applied: ${list}` };
}

/** A step that needs a secret (an auth key file) must find it before anything is written, not halfway through. */
function missingSecrets(plan: Plan, ctx: ApplyContext): Refusal | undefined {
  const problems = new Set<string>();
  for (const action of plan.actions) {
    if (action.params.channel !== 'host' && action.params.channel !== 'guest') continue;
    let needs: readonly string[] = [];
    try {
      needs = ctx.steps(action.params.step).secrets ?? [];
    } catch {
      continue; // an unknown step fails in its executor, with its own message
    }
    for (const name of needs) {
      try {
        ctx.stepSecrets.get(name);
      } catch (error) {
        problems.add(`${action.id}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  if (problems.size === 0) return undefined;
  return { code: 'missing-secret', message: `nothing was changed: ${[...problems].join('; ')}` };
}

async function dryRun(plan: Plan, ctx: ApplyContext): Promise<ApplyReport> {
  const records = new Map(ctx.journal.actionRecords(plan.planHash).map((record) => [record.actionId, record]));
  let stale: Refusal | undefined;
  try {
    const check = await checkStale(plan, records, ctx.fingerprint, { sleep: ctx.sleep });
    if (check?.code === 'unreadable') ctx.onProgress({ type: 'warning', message: `could not check staleness: ${check.message}` });
    else stale = check;
  } catch (error) {
    ctx.onProgress({ type: 'warning', message: `could not check staleness: ${error instanceof Error ? error.message : String(error)}` });
  }
  let violations = await recheckGuardrails(plan, ctx);
  if (violations?.code === 'unreadable') {
    ctx.onProgress({ type: 'warning', message: violations.message });
    violations = undefined;
  }
  const result = dryRunPlan(plan);
  ctx.onProgress({ type: 'apply.finished', status: 'dry-run' });
  const next = stale || violations ? [`${stale ? 'the plan is stale' : 'the plan breaks a guardrail'}: re-plan with jarvis plan ${plan.phase}`] : [`apply it: jarvis apply ${plan.id} --yes`];
  return {
    planId: plan.id,
    planHash: plan.planHash,
    status: 'dry-run',
    actions: [],
    snapshots: [],
    dryRun: { ...result, ...(stale ? { stale } : {}), ...(violations ? { violations } : {}) },
    next: result.schemaErrors > 0 ? [`${result.schemaErrors} request(s) would be rejected by Proxmox: fix the planner before applying`, ...next] : next,
  };
}

async function applyLocked(plan: Plan, ctx: ApplyContext): Promise<ApplyReport> {
  const records = new Map<string, ActionRecord>(ctx.journal.actionRecords(plan.planHash).map((record) => [record.actionId, record]));
  const reverted = [...records.values()].find((record) => record.status === 'reverted');
  if (reverted) {
    return refused(plan, ctx, {
      code: 'reverted-before',
      message: `action ${reverted.actionId} of this plan was reverted (${reverted.detail}); applying the same plan again would do it again: fix the cause and make a new plan`,
    });
  }
  const stale = await checkStale(plan, records, ctx.fingerprint, { sleep: ctx.sleep });
  if (stale) return refused(plan, ctx, stale);
  const broken = await recheckGuardrails(plan, ctx);
  if (broken) return refused(plan, ctx, broken);

  ctx.journal.audit({
    kind: 'apply.started',
    planId: plan.id,
    planHash: plan.planHash,
    actor: ctx.requester,
    data: {
      via: ctx.via,
      phase: plan.phase,
      requestedBy: plan.requestedBy,
      spec: plan.spec,
      actions: plan.actions.map((action) => action.id),
      approvals: ctx.approvals ?? [],
      resumed: [...records.values()].filter((record) => record.status === 'done').map((record) => record.actionId),
    },
  });
  const scheduler = new Scheduler(plan, ctx, records);
  const outcome = await scheduler.run();
  const report: ApplyReport = {
    planId: plan.id,
    planHash: plan.planHash,
    status: outcome.status,
    actions: plan.actions.map((action) => scheduler.reports.get(action.id) ?? notRun(action, waitingCause(plan, scheduler.reports, action))),
    snapshots: scheduler.snapshots,
    next: [],
  };
  if (scheduler.snapshots.length > 0) await pruneSnapshots(ctx, scheduler.snapshots);
  if (report.status === 'applied' || report.status === 'waiting-for-owner') await validate(ctx, plan, report);
  report.next = nextSteps(plan, report);
  ctx.journal.audit({
    kind: 'apply.finished',
    planId: plan.id,
    planHash: plan.planHash,
    actor: ctx.requester,
    data: { status: report.status, actions: report.actions.map(({ actionId, outcome, accepted, achieved }) => ({ actionId, outcome, accepted, achieved })) },
  });
  ctx.onProgress({ type: 'apply.finished', status: report.status });
  return report;
}

/** An action that never started; when a manual step it waits for is not done yet, it is blocked by that step. */
const notRun = (action: PlanAction, blockedBy: string | undefined): ActionReport => ({
  actionId: action.id,
  target: action.target,
  outcome: 'not-run',
  accepted: false,
  detail: blockedBy ? `blocked: waits for ${blockedBy}` : 'not run',
  logTail: [],
  durationMs: 0,
});

async function pruneSnapshots(ctx: ApplyContext, taken: ApplyReport['snapshots']): Promise<void> {
  const byVm = new Map<number, Set<string>>();
  for (const snapshot of taken.filter((s) => s.kind === 'snapshot')) {
    byVm.set(snapshot.vmid, (byVm.get(snapshot.vmid) ?? new Set()).add(snapshot.name));
  }
  for (const [vmid, names] of byVm) {
    try {
      const pruned = await pruneJarvisSnapshots(ctx.pve, vmid, Math.max(1, ctx.snapshotRetention), names);
      for (const name of pruned) ctx.onProgress({ type: 'snapshot.pruned', vmid, name });
    } catch (error) {
      ctx.onProgress({ type: 'warning', message: `pruning old Jarvis snapshots of VM ${vmid} failed: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
}

const runsAlone = (action: PlanAction): boolean => action.commitConfirm || (action.params.channel === 'pve' && action.params.moveCheck !== undefined);

/** Runs actions in dependency order with bounded parallelism; the first failure stops new starts. */
class Scheduler {
  readonly reports = new Map<string, ActionReport>();
  readonly snapshots: ApplyReport['snapshots'] = [];
  private readonly finished = new Set<string>();
  private readonly busy = new Set<string>();
  private readonly running = new Map<string, Promise<void>>();
  private exclusive = false;
  private stopped: ApplyStatus | undefined;
  private waitingCount = 0;
  private startedCount = 0;

  constructor(
    private readonly plan: Plan,
    private readonly ctx: ApplyContext,
    private readonly records: Map<string, ActionRecord>,
  ) {}

  async run(): Promise<{ status: ApplyStatus }> {
    const { plan, ctx } = this;
    const pending: PlanAction[] = [];
    for (const action of plan.actions) {
      const record = this.records.get(action.id);
      if (record?.status === 'done') {
        this.finished.add(action.id);
        this.reports.set(action.id, { actionId: action.id, target: action.target, outcome: 'already-done', accepted: true, detail: `done in an earlier run: ${record.detail}`, logTail: [], durationMs: 0 });
        ctx.onProgress({ type: 'action.skipped', actionId: action.id, target: action.target, reason: 'already done in an earlier run' });
      } else {
        pending.push(action);
      }
    }
    ctx.onProgress({ type: 'apply.started', planId: plan.id, actions: plan.actions.length, resumed: this.finished.size });
    const bound = Math.max(1, ctx.concurrency ?? DEFAULT_CONCURRENCY);
    for (;;) {
      if (!this.stopped) {
        for (const action of [...pending]) {
          if (this.running.size >= bound || this.exclusive) break;
          if (!this.ready(action)) continue;
          pending.splice(pending.indexOf(action), 1);
          this.start(action);
        }
      }
      if (this.running.size === 0) break;
      await Promise.race(this.running.values());
    }
    return { status: this.stopped ?? (this.waitingCount > 0 ? 'waiting-for-owner' : 'applied') };
  }

  private ready(action: PlanAction): boolean {
    if (!action.dependsOn.every((dep) => this.finished.has(dep))) return false;
    // A commit-confirmed change (and a checked NIC move) runs alone, so nothing else is in flight if it has to be reverted.
    if (runsAlone(action) && this.running.size > 0) return false;
    return resourceKeys(this.plan, action).every((key) => !this.busy.has(key));
  }

  private start(action: PlanAction): void {
    const keys = resourceKeys(this.plan, action);
    for (const key of keys) this.busy.add(key);
    if (runsAlone(action)) this.exclusive = true;
    this.startedCount += 1;
    const promise = this.execute(action, this.startedCount).finally(() => {
      for (const key of keys) this.busy.delete(key);
      if (runsAlone(action)) this.exclusive = false;
      this.running.delete(action.id);
    });
    this.running.set(action.id, promise);
  }

  private async execute(action: PlanAction, index: number): Promise<void> {
    const { ctx, plan } = this;
    const started = ctx.now();
    ctx.onProgress({ type: 'action.started', actionId: action.id, target: action.target, index, total: plan.actions.length });
    ctx.journal.beginAction(plan.planHash, plan.id, action.id);
    const run = new ActionRun(ctx, plan, action);
    try {
      if (action.preSnapshot) {
        const taken = await takePreSnapshot(run, action.preSnapshot);
        this.snapshots.push({ vmid: taken.vmid, name: taken.name, kind: taken.kind, actionId: action.id });
        if (!taken.earlier) ctx.onProgress({ type: 'snapshot.taken', actionId: action.id, vmid: taken.vmid, name: taken.name, kind: taken.kind });
      }
      const result = await this.executor(run, action);
      if (result.waitingForOwner) {
        this.waiting(action, result.detail, result.waitingForOwner, ctx.now() - started);
        return;
      }
      const confirm = action.commitConfirm && !result.alreadyDone ? await confirmOrRevert(run, action.params.channel === 'pve' ? action.params.revert : undefined) : undefined;
      const detail = confirm ? `${result.detail}; ${confirm.detail}` : result.detail;
      const post = await this.postFingerprint(action);
      ctx.journal.finishAction(plan.planHash, action.id, 'done', detail, post);
      ctx.journal.audit({ kind: 'action.result', planId: plan.id, planHash: plan.planHash, data: { actionId: action.id, outcome: result.alreadyDone ? 'already-done' : 'done', detail } });
      const durationMs = ctx.now() - started;
      this.reports.set(action.id, { actionId: action.id, target: action.target, outcome: result.alreadyDone ? 'already-done' : 'done', accepted: true, detail: safeText(detail), logTail: result.logTail ?? [], durationMs });
      this.finished.add(action.id);
      ctx.onProgress({ type: 'action.finished', actionId: action.id, target: action.target, detail, durationMs });
    } catch (error) {
      this.fail(action, error, ctx.now() - started);
    }
  }

  private executor(run: ActionRun, action: PlanAction): Promise<ExecutorResult> {
    const params = action.params;
    switch (params.channel) {
      case 'pve':
        return params.moveCheck ? executeMove(run, params, params.moveCheck) : executePve(run, params.requests, params.agentWait);
      case 'host':
      case 'guest':
        return executeStep(run, params);
      case 'tailnet':
        return executeTailnet(run, params);
      case 'owner':
        return executeManual(run, params);
    }
  }

  /** A manual step not done yet: reported, journaled as waiting (a later run looks again), never a failure. */
  private waiting(action: PlanAction, detail: string, instructions: string[], durationMs: number): void {
    const { ctx, plan } = this;
    ctx.journal.finishAction(plan.planHash, action.id, 'waiting', detail);
    ctx.journal.audit({ kind: 'action.result', planId: plan.id, planHash: plan.planHash, data: { actionId: action.id, outcome: 'waiting', detail } });
    this.reports.set(action.id, { actionId: action.id, target: action.target, outcome: 'waiting', accepted: false, detail: safeText(detail), logTail: instructions, durationMs });
    this.waitingCount += 1;
    ctx.onProgress({ type: 'action.waiting', actionId: action.id, target: action.target, instructions });
  }

  /**
   * Fingerprints right after the action of its target and of its dependents' targets, so a resumed run can tell this
   * plan's own changes from someone else's.
   */
  private async postFingerprint(action: PlanAction): Promise<Record<string, string | null> | undefined> {
    const keys = new Set([action.targetKey]);
    for (const other of this.plan.actions) if (other.dependsOn.includes(action.id)) keys.add(other.targetKey);
    try {
      const live = (await this.ctx.fingerprint([...keys])).fingerprints;
      return Object.fromEntries([...keys].map((key) => [key, live[key] ?? null]));
    } catch {
      return undefined;
    }
  }

  private fail(action: PlanAction, error: unknown, durationMs: number): void {
    const { ctx, plan } = this;
    const failure =
      error instanceof ActionFailure
        ? error
        : new ActionFailure(error instanceof Error ? error.message : String(error), 'failed', [], error instanceof JarvisError && error.exitCode === 4);
    const message = safeText(failure.message);
    const logTail = failure.logTail.map(safeText);
    // An unanswered write stays "running" in the journal, so the next run reconciles it instead of trusting it failed.
    if (!failure.unreachable) ctx.journal.finishAction(plan.planHash, action.id, failure.outcome, message);
    ctx.journal.audit({ kind: 'action.result', planId: plan.id, planHash: plan.planHash, data: { actionId: action.id, outcome: failure.outcome, detail: message, logTail } });
    this.reports.set(action.id, { actionId: action.id, target: action.target, outcome: failure.outcome, accepted: false, detail: message, logTail, durationMs });
    if (failure.outcome === 'reverted') ctx.onProgress({ type: 'action.reverted', actionId: action.id, target: action.target, detail: message });
    else ctx.onProgress({ type: 'action.failed', actionId: action.id, target: action.target, error: message, logTail });
    const status: ApplyStatus = failure.unreachable ? 'unreachable' : 'failed';
    if (!this.stopped || status === 'unreachable') this.stopped = status;
  }
}
