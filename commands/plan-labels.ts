// Small shared labels for plans: the short hash people type, risk icons and the colour of a risk.
import { RISK_ORDER, type Plan, type Risk } from '../planner/plan.ts';

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
