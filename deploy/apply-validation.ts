// After an apply: the validator's re-scan turned into the report's verdict (what each action achieved, the final
// status), and what holds back an action that never ran. Actions the re-plan still lists behind a manual step of the
// owner (a NIC move behind the router gate) are blocked, not Jarvis's unfinished work: the apply waits for the owner.
import { JarvisError } from '../lib/errors.ts';
import type { Plan, PlanAction } from '../planner/plan.ts';
import type { ActionReport, ApplyContext, ApplyReport, ValidationReport } from './types.ts';
import { validateRereading } from './validate.ts';

/** The manual step not done yet that `action` (transitively) depends on, as `<id> (<target>)`. */
export function waitingCause(plan: Plan, reports: ReadonlyMap<string, ActionReport>, action: PlanAction): string | undefined {
  const byId = new Map(plan.actions.map((a) => [a.id, a]));
  const seen = new Set<string>();
  const queue = [...action.dependsOn];
  while (queue.length) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const report = reports.get(id);
    if (report?.outcome === 'waiting') return `${id} (${report.target})`;
    queue.push(...(byId.get(id)?.dependsOn ?? []));
  }
  return undefined;
}

export async function validate(ctx: ApplyContext, plan: Plan, report: ApplyReport): Promise<void> {
  let validation: ValidationReport;
  try {
    validation = await validateRereading(ctx.validate, ctx.sleep);
  } catch (error) {
    const detail = `validation could not re-scan the lab: ${error instanceof Error ? error.message : String(error)}`;
    ctx.onProgress({ type: 'validation', ok: false, detail });
    report.status = error instanceof JarvisError && error.exitCode === 4 ? 'unreachable' : 'failed';
    report.validation = { remaining: [], probes: [{ name: 're-scan', ok: false, detail }], ok: false };
    return;
  }
  const ok = validation.remaining.length === 0 && validation.probes.every((probe) => probe.ok);
  report.validation = { ...validation, ok };
  const waiting = validation.waiting ?? [];
  const blocked = validation.blocked ?? [];
  for (const action of plan.actions) {
    const entry = report.actions.find((candidate) => candidate.actionId === action.id);
    if (!entry) continue;
    if (action.channel === 'owner') {
      entry.achieved = !waiting.some((w) => w.actionId === action.id);
      continue;
    }
    // Blocked work counts against its own action only: the rest of its target may well be done.
    const left = validation.remaining.some((r) => r.actionId === action.id || r.targetKey === action.targetKey) || blocked.some((b) => b.actionId === action.id);
    const probesFail = validation.probes.some((probe) => probe.targetKey === action.targetKey && !probe.ok);
    entry.achieved = !left && !probesFail;
  }
  const failedProbes = validation.probes.filter((probe) => !probe.ok);
  const owner = waiting.length > 0 ? `; waiting for the owner: ${waiting.map((w) => w.summary).join('; ')}` : '';
  const held = blocked.length > 0 ? `; blocked until then: ${blocked.map((b) => b.actionId).join(', ')}` : '';
  const detail = ok
    ? `re-scan: nothing left for Jarvis to do; ${validation.probes.length} health probe(s) pass${owner}${held}`
    : `re-scan: ${validation.remaining.length} change(s) still pending, ${failedProbes.length} probe(s) failing${owner}${held}`;
  ctx.onProgress({ type: 'validation', ok, detail });
  ctx.journal.audit({ kind: 'validation', planId: plan.id, planHash: plan.planHash, data: { ok, remaining: validation.remaining, waiting, blocked, probes: validation.probes } });
  if (!ok) report.status = 'failed';
  else report.status = waiting.length > 0 ? 'waiting-for-owner' : 'applied';
}
