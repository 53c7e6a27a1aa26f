// Applying a saved plan through the services port: `/jarvis dry-run` and the apply an approval starts. The apply
// engine (deploy/) does the work; this maps its events and report onto the chat's progress and report.
import type { ApplyOptions, ApplyProgress, ApplyReport as ChatApplyReport, DryRunReport, ServiceRefusal } from '../../commands/services.ts';
import { qualifiedId } from '../../commands/services.ts';
import { createApplyContext, loadPlanSpec } from '../../deploy/context.ts';
import { applyPlan } from '../../deploy/engine.ts';
import { parsePlan, readSavedPlan, TamperedPlanError } from '../../deploy/plan-file.ts';
import { planContentHash } from '../../planner/artifact.ts';
import type { ApplyEvent, ApplyReport } from '../../deploy/types.ts';
import type { Plan } from '../../planner/plan.ts';
import { isSpecialPlan } from '../../planner/special-plans.ts';
import { specPlace } from '../planning.ts';
import { refusal, type UseCaseContext } from './context.ts';
import { throughManualLock } from './gates.ts';

/** ApplyEvent (engine) → ApplyProgress (chat): one line per action start and end. */
function progressMapper(onProgress: ((p: ApplyProgress) => void) | undefined, total: number): (event: ApplyEvent) => void {
  const index = new Map<string, number>();
  return (event) => {
    if (!onProgress) return;
    switch (event.type) {
      case 'action.started':
        index.set(event.actionId, event.index);
        return onProgress({ actionId: event.actionId, target: event.target, state: 'started', index: event.index, total: event.total });
      case 'action.finished':
        return onProgress({ actionId: event.actionId, target: event.target, state: 'done', index: index.get(event.actionId) ?? 0, total, detail: event.detail });
      case 'action.failed':
        return onProgress({ actionId: event.actionId, target: event.target, state: 'failed', index: index.get(event.actionId) ?? 0, total, detail: event.error });
      case 'action.skipped':
        return onProgress({ actionId: event.actionId, target: event.target, state: 'skipped', index: index.get(event.actionId) ?? 0, total, detail: event.reason });
      case 'action.reverted':
        return onProgress({ actionId: event.actionId, target: event.target, state: 'failed', index: index.get(event.actionId) ?? 0, total, detail: `reverted: ${event.detail}` });
      case 'action.progress':
        return onProgress({ actionId: event.actionId, target: event.target, state: 'started', index: index.get(event.actionId) ?? 0, total, detail: event.detail });
      case 'action.waiting':
        return onProgress({ actionId: event.actionId, target: event.target, state: 'waiting', index: index.get(event.actionId) ?? 0, total, detail: 'waiting for the owner (manual step)' });
      default:
        return;
    }
  };
}

function toChatReport(plan: Plan, report: ApplyReport): ChatApplyReport {
  const completed = report.actions.filter((a) => a.outcome === 'done' || a.outcome === 'already-done').map((a) => a.actionId);
  const failedAction = report.actions.find((a) => a.outcome === 'failed' || a.outcome === 'reverted');
  const validated = report.validation?.ok ?? false;
  // A target that could not be read: nothing was written, so the approved plan may simply be applied again.
  if (report.refusal?.code === 'unreadable') {
    return { outcome: 'not-started', planId: plan.id, message: report.refusal.message, completed, validated: false };
  }
  // Refused before any write by a gate.
  if (report.status === 'refused' || report.refusal) {
    return { outcome: 'refused', planId: plan.id, message: report.refusal?.message ?? 'refused', completed, validated: false };
  }
  if (report.status === 'applied' && isSpecialPlan(plan)) {
    const probes = report.validation?.probes ?? [];
    const failing = probes.filter((p) => !p.ok);
    const message = validated
      ? `applied ${completed.length} action(s); checks pass: ${probes.map((p) => p.name).join(', ') || 'none needed'}`
      : `applied, but a check fails: ${failing.map((p) => `${p.name} (${p.detail})`).join('; ')}`;
    return { outcome: 'applied', planId: plan.id, message, completed, validated, validatedBy: 'vm-checks' };
  }
  if (report.status === 'applied' || report.status === 'waiting-for-owner') {
    const waiting = report.validation?.waiting ?? [];
    const blocked = report.validation?.blocked ?? [];
    const held = blocked.length ? `; blocked until then (not applied): ${blocked.map((b) => b.actionId).join(', ')}` : '';
    const message = validated
      ? `applied ${completed.length} action(s); re-scan: nothing left for Jarvis to do${waiting.length ? `; ${waiting.length} manual step(s) wait for the owner` : ''}${held}`
      : `applied, but the re-scan still finds work: ${(report.validation?.remaining ?? []).map((r) => r.summary).join('; ') || 'health probes failed'}`;
    const waitingForOwner = waiting.map((w) => ({ step: w.summary, instructions: w.instructions }));
    return { outcome: 'applied', planId: plan.id, message, completed, validated, ...(waitingForOwner.length ? { waitingForOwner } : {}) };
  }
  const hints = plan.actions.filter((a) => completed.includes(a.id)).map((a) => `${a.id}: ${a.rollbackHint}`).reverse();
  return {
    outcome: 'failed',
    planId: plan.id,
    message: [failedAction ? `${failedAction.actionId} failed: ${failedAction.detail}` : `apply ${report.status}`, ...report.next].join('\n'),
    completed,
    ...(failedAction ? { failed: { actionId: failedAction.actionId, error: failedAction.detail } } : {}),
    validated: false,
    rollbackHints: hints,
  };
}

/**
 * The plan an apply runs: for a dry run the saved file; for an approved apply the plan as it was shown and approved
 * (the approval store's copy), and only if the saved file is still that same plan and every approval binds to it.
 */
async function planToRun(ctx: UseCaseContext, planId: string, opts: ApplyOptions | undefined): Promise<Plan> {
  const saved = await readSavedPlan(planId, ctx.dataDir);
  if (!opts) return saved.plan;
  const approved = parsePlan(opts.approvedPlan, `the approved plan ${planId}`);
  const approvedHash = planContentHash(JSON.parse(opts.approvedPlan));
  const unbound = opts.approvals.find((a) => a.planId !== planId || a.planHash !== approved.planHash || a.contentHash !== approvedHash);
  if (approved.id !== planId || unbound) {
    throw new TamperedPlanError(`the approvals given for plan ${planId} are not approvals of the plan that was shown; nothing was applied`);
  }
  if (saved.contentHash !== approvedHash) {
    throw new TamperedPlanError(
      `${saved.path} is not the plan that was approved: it changed after it was shown (its content hashes to ${saved.contentHash.slice(0, 12)}…, ` +
        `the approved plan to ${approvedHash.slice(0, 12)}…); nothing was applied. Make a new plan with /jarvis plan ${approved.phase}`,
    );
  }
  return approved;
}

/** Loads the plan to run and its spec and runs the apply engine (or its dry run) on the lab. */
async function runApply(ctx: UseCaseContext, planId: string, dryRun: boolean, opts?: ApplyOptions): Promise<{ plan: Plan; report: ApplyReport }> {
  const plan = await planToRun(ctx, planId, opts);
  const spec = await loadPlanSpec(plan, ctx.cwd, specPlace(ctx.config, ctx.lab).site);
  const applyContext = createApplyContext({
    plan,
    spec,
    lab: ctx.lab.ports,
    mgmt: ctx.lab.mgmt,
    journal: ctx.journal,
    env: ctx.env,
    requester: opts ? qualifiedId(opts.requester) : 'dry-run',
    via: 'chat',
    // The caller (commands/apply-flow.ts) has checked the approvals; apply is told only that there are some.
    approved: (opts?.approvals.length ?? 0) > 0,
    approvals: opts?.approvals.map((a) => ({ by: a.approver, at: a.at, note: a.via })),
    dryRun,
    onProgress: progressMapper(opts?.onProgress, plan.actions.length),
    snapshotRetention: ctx.config.snapshotRetention,
    confirmWindowMs: (ctx.config.apply.confirmWindowSeconds ?? spec.spec.safetyGuards.confirmWindowSeconds) * 1000,
    firewallCycleMs: ctx.lab.firewallCycleMs,
    backupStorage: ctx.config.apply.backupStorage,
  });
  return { plan, report: await applyPlan(plan, applyContext) };
}

/** `/jarvis dry-run`: every request the plan would send, checked against the Proxmox schema; nothing is sent. */
export async function dryRunPlan(ctx: UseCaseContext, planId: string): Promise<DryRunReport | ServiceRefusal> {
  try {
    const { plan, report } = await runApply(ctx, planId, true);
    const dry = report.dryRun;
    if (!dry) return { ok: false, code: 'refused', message: report.refusal?.message ?? 'dry run refused' };
    const problems: string[] = [];
    if (dry.stale) problems.push(`stale: ${dry.stale.message}`);
    if (dry.violations) problems.push(dry.violations.message);
    const lines = dry.actions.map((action) => {
      const bad = action.requests.filter((r) => !r.schema.ok);
      for (const r of bad) if (!r.schema.ok) problems.push(`${action.actionId}: ${r.method} ${r.path}: ${Object.entries(r.schema.errors).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
      const what = [action.requests.length > 0 ? `${action.requests.length} request(s)${bad.length ? `, ${bad.length} invalid` : ' valid'}` : '', ...action.operations].filter(Boolean).join('; ');
      return `${bad.length ? '✗' : '✓'} ${action.actionId} — ${what}`;
    });
    return { ok: problems.length === 0, planId: plan.id, lines, problems };
  } catch (error) {
    return refusal(error);
  }
}

/** Applies an approved plan, through `/jarvis lock` (gates.ts), and reports the outcome for the chat. */
export async function applyApprovedPlan(ctx: UseCaseContext, planId: string, opts: ApplyOptions): Promise<ChatApplyReport> {
  const refused = (message: string): ChatApplyReport => ({ outcome: 'refused', planId, message, completed: [], validated: false });
  return throughManualLock(
    ctx,
    opts.requester,
    async () => {
      try {
        const { plan, report } = await runApply(ctx, planId, false, opts);
        return toChatReport(plan, report);
      } catch (error) {
        const { message } = refusal(error);
        // Refused before the engine ran (a tampered file, a changed spec): the audit trail records it all the same.
        ctx.journal.audit({ kind: 'apply.refused', planId, actor: qualifiedId(opts.requester), data: { via: 'chat', code: error instanceof TamperedPlanError ? 'tampered' : 'refused', message } });
        return refused(message);
      }
    },
    refused,
  );
}
