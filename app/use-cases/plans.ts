// Making and reading plans through the services port: `/jarvis plan` (scan, plan, save), the saved plan behind a
// button, `/jarvis drift` (the drift phase planned now) and the special plans of rollback and backup retry.
import { qualifiedId, type PlanResult, type Report, type Requester } from '../../commands/services.ts';
import { loadPlanById } from '../../deploy/plan-file.ts';
import { renderPlanMarkdown } from '../../planner/index.ts';
import type { Plan, PlanPhase } from '../../planner/plan.ts';
import { writePlanFiles } from '../plan-files.ts';
import { makePlan, specPlace } from '../planning.ts';
import { refusal, type UseCaseContext } from './context.ts';

/**
 * Scans the lab, builds the phase's plan, saves it (JSON + Markdown) and records it in the audit trail. `purpose`:
 * a plan to approve, or the plan `/jarvis drift` makes to show differences (history and Gates never call it pending).
 */
export async function savePlan(ctx: UseCaseContext, phase: PlanPhase, requester: Requester, purpose: 'approval' | 'drift' = 'approval'): Promise<PlanResult> {
  try {
    const { plan } = await makePlan({
      phase,
      cwd: ctx.cwd,
      place: specPlace(ctx.config, ctx.lab),
      selfVmid: ctx.config.selfVmid,
      ports: ctx.lab.ports,
      labName: ctx.lab.describe,
      requestedBy: qualifiedId(requester),
      onProgress: ctx.log,
    });
    await writePlanFiles(ctx.plansDir, plan);
    ctx.journal.audit({ kind: 'plan.saved', planId: plan.id, planHash: plan.planHash, actor: plan.requestedBy, data: { phase, purpose, summary: plan.summary, violations: plan.violations.length } });
    if (plan.violations.length > 0) {
      const first = plan.violations[0]!;
      return { ok: false, code: 'refused', message: `refused by guardrails: [${first.ruleId}] ${first.message}`, violations: plan.violations, plan };
    }
    return { ok: true, plan, markdown: renderPlanMarkdown(plan) };
  } catch (error) {
    return refusal(error);
  }
}

/** Saves a plan made outside the spec diff (rollback, backup retry) like any plan, for approval and apply. */
export async function saveSpecialPlan(ctx: UseCaseContext, plan: Plan, kind: 'rollback' | 'backup-retry'): Promise<PlanResult> {
  await writePlanFiles(ctx.plansDir, plan);
  ctx.journal.audit({
    kind: 'plan.saved',
    planId: plan.id,
    planHash: plan.planHash,
    actor: plan.requestedBy,
    data: { phase: kind, kind, purpose: 'approval', summary: plan.summary, violations: plan.violations.length },
  });
  if (plan.violations.length > 0) {
    const first = plan.violations[0]!;
    return { ok: false, code: 'refused', message: `refused: [${first.ruleId}] ${first.message}`, violations: plan.violations, plan };
  }
  return { ok: true, plan, markdown: renderPlanMarkdown(plan) };
}

/** A saved plan by id with its Markdown; undefined when there is none (or it does not load). */
export async function getPlan(ctx: UseCaseContext, planId: string): Promise<{ plan: Plan; markdown: string } | undefined> {
  try {
    const plan = await loadPlanById(planId, ctx.dataDir);
    return { plan, markdown: renderPlanMarkdown(plan) };
  } catch {
    return undefined;
  }
}

/** `/jarvis drift`: plans the drift watch's phase (phase0 when the watch is off) and reports the differences. */
export async function planDrift(ctx: UseCaseContext, requester: Requester): Promise<Report> {
  const phase = ctx.config.drift.phase === 'off' ? 'phase0' : ctx.config.drift.phase;
  const result = await savePlan(ctx, phase, requester, 'drift');
  if (!result.ok && !result.plan) return { level: 'critical', headline: `drift check failed: ${result.message}`, sections: [] };
  const plan = result.ok ? result.plan : result.plan!;
  if (plan.actions.length === 0) return { level: 'ok', headline: `no drift: the lab matches ${plan.spec.path} (${phase})`, sections: [], planId: plan.id };
  return {
    level: plan.summary.maxRisk === 'critical' || plan.summary.maxRisk === 'high' ? 'critical' : 'warn',
    headline: `${plan.actions.length} difference(s) from ${plan.spec.path} (${phase}); plan ${plan.id} would fix them`,
    sections: [{ title: 'Drift', lines: plan.actions.map((a) => `${a.kind === 'create' ? '+' : a.kind === 'delete' ? '-' : '~'} ${a.target}: ${a.changes.map((c) => c.path).join(', ') || a.type}`) }],
    planId: plan.id,
    followUps: [{ kind: 'plan-fix', phase }],
  };
}
