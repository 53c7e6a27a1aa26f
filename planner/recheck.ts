// The plan guardrails run again on a saved plan, as apply does before its first write: a plan file's own `violations`
// are not trusted (an edited file could leave them out). The same rules as when the plan was made (artifact.ts): the
// spec's guardrail errors and the resolved phase's problems, then the plan guardrails on its actions over the live
// firewall. A rollback or backup retry (special-plans.ts) was made without the spec's findings; only its actions count.
import { checkPlan, specViolations, touchesHostFirewall } from './guardrails.ts';
import type { Plan, PlanViolation } from './plan.ts';
import { phaseNumberOf, resolvePhase } from './resolve.ts';
import { isSpecialPlan } from './special-plans.ts';
import { checkSpec } from './spec/guardrails.ts';
import type { LoadedSpec } from './spec/load.ts';
import type { LiveFirewall } from './state.ts';

/** True when the plan sends a request to the datacenter or node firewall: its lock-out check needs the live firewall. */
export const changesFirewall = (plan: Pick<Plan, 'actions'>): boolean =>
  plan.actions.some((a) => a.params.channel === 'pve' && a.params.requests.some(touchesHostFirewall));

export function recheckPlan(input: { plan: Plan; spec: LoadedSpec; liveFirewall?: LiveFirewall }): PlanViolation[] {
  const { plan, spec } = input;
  const desired = resolvePhase(spec.spec, phaseNumberOf(plan.phase, spec.spec));
  const fromSpec = isSpecialPlan(plan) ? [] : specViolations(checkSpec(spec), desired);
  return [...fromSpec, ...checkPlan({ desired, phase: plan.phase, ...(input.liveFirewall ? { liveFirewall: input.liveFirewall } : {}), actions: plan.actions })];
}
