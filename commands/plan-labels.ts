// Small shared labels for plans: the short hash people type, risk icons and the colour of a risk.
import { RISK_ORDER, type Plan, type Risk } from '../planner/plan.ts';
import { isSpecialPlan } from '../planner/special-plans.ts';

/** The first 8 hex digits of the plan hash (after any `sha256:` prefix): shown on the plan, typed to confirm. */
export function shortHash(planHash: string): string {
  const hex = planHash.slice(planHash.lastIndexOf(':') + 1);
  return hex.slice(0, 8).toLowerCase();
}

export const RISK_ICON: Record<Risk | 'none', string> = {
  none: '⚪',
  low: '🟢',
  medium: '🟡',
  high: '🟠',
  critical: '🔴',
};

/** RGB colour per maximum risk (Discord embed colour, Slack attachment bar). */
export const RISK_COLOUR: Record<Risk | 'none', number> = {
  none: 0x95a5a6,
  low: 0x2ecc71,
  medium: 0xf1c40f,
  high: 0xe67e22,
  critical: 0xe74c3c,
};

export const KIND_SYMBOL = { create: '+', update: '~', delete: '-', replace: '-/+' } as const;

/** "3 low · 1 high" (only the risks present), or "no changes". */
export function riskCounts(plan: Plan): string {
  const parts = RISK_ORDER.filter((risk) => plan.summary.byRisk[risk] > 0).map((risk) => `${plan.summary.byRisk[risk]} ${risk}`);
  return parts.length ? parts.join(' · ') : 'no changes';
}

/**
 * What a newer plan replaces in a channel: a phase plan replaces the older plan of its phase; a rollback or backup
 * retry replaces only an older one for the same VM (`vm.rollback:300`), never a pending phase plan.
 */
export const approvalScope = (plan: Pick<Plan, 'phase' | 'actions'>): string => (isSpecialPlan(plan) ? plan.actions.map((a) => a.id).join(',') : plan.phase);

/** The command that makes a fresh plan of a scope (approvalScope), for "expired: make a new one" answers. */
export function replanCommand(scope: string): string {
  const special = /^(vm\.rollback|backup\.run):(\d+)/.exec(scope);
  if (!special) return `/jarvis plan ${scope}`;
  return special[1] === 'vm.rollback' ? `/jarvis snapshots ${special[2]}` : `/jarvis retry ${special[2]}`;
}

/** "phase0", or what a special plan does: "rollback", "backup retry". */
export function planKind(plan: Pick<Plan, 'phase' | 'actions'>): string {
  if (!isSpecialPlan(plan)) return plan.phase;
  return plan.actions.every((a) => a.type === 'vm.rollback') ? 'rollback' : 'backup retry';
}
