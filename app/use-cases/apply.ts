// Applying a saved plan through the services port: `/jarvis dry-run` and the apply an approval starts. The apply
// engine (deploy/) does the work; this maps its events and report onto the chat's progress and report.
import type { ApplyOptions, ApplyProgress, ApplyReport as ChatApplyReport, DryRunReport, ServiceRefusal } from '../../commands/services.ts';
import { qualifiedId } from '../../commands/services.ts';
import { createApplyContext, loadPlanSpec } from '../../deploy/context.ts';
import { applyPlan } from '../../deploy/engine.ts';
import { loadPlan } from '../../deploy/plan-file.ts';
import type { ApplyEvent, ApplyReport } from '../../deploy/types.ts';
import type { Plan } from '../../planner/plan.ts';
import { isSpecialPlan } from '../../planner/special-plans.ts';
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
  if (report.status === 'refused') {
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
  if (report.status === 'applied') {
    const message = validated
      ? `applied ${completed.length} action(s); re-scan: nothing left to do`
      : `applied, but the re-scan still finds work: ${(report.validation?.remaining ?? []).map((r) => r.summary).join('; ') || 'health probes failed'}`;
    return { outcome: 'applied', planId: plan.id, message, completed, validated };
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

/** Loads the saved plan and its spec and runs the apply engine (or its dry run) on the lab. */
async function runApply(ctx: UseCaseContext, planId: string, dryRun: boolean, opts?: ApplyOptions): Promise<{ plan: Plan; report: ApplyReport }> {
  const plan = await loadPlan(planId, ctx.dataDir);
  const spec = await loadPlanSpec(plan, ctx.cwd);
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
        return refused(refusal(error).message);
      }
    },
    refused,
  );
}
