// A plan as a platform-neutral Reply: summary first (what a phone shows), then one line per action with its
// risk, downtime and rollback hint, then warnings and violations.
import type { Plan } from '../planner/plan.ts';
import { KIND_SYMBOL, RISK_ICON, planKind, riskCounts, shortHash } from './plan-labels.ts';
import type { Reply, ReplyButton, ReplyLevel, ReplySection } from './reply.ts';

export function planButtons(planId: string): ReplyButton[] {
  return [
    { action: 'approve', arg: planId, label: 'Approve', style: 'primary' },
    { action: 'reject', arg: planId, label: 'Reject', style: 'danger' },
    { action: 'dry-run', arg: planId, label: 'Dry-run', style: 'secondary' },
    { action: 'details', arg: planId, label: 'Details', style: 'secondary' },
  ];
}

export function planSummaryLines(plan: Plan): string[] {
  const s = plan.summary;
  const counts = [
    s.create && `${s.create} to create`,
    s.update && `${s.update} to change`,
    s.replace && `${s.replace} to replace`,
    s.delete && `${s.delete} to delete`,
  ].filter(Boolean);
  return [
    `${RISK_ICON[s.maxRisk]} ${riskCounts(plan)} — max risk ${s.maxRisk}`,
    counts.length ? counts.join(' · ') : 'no changes: the lab matches the spec',
    `Downtime: ${s.expectedDowntime}`,
    `Plan ${plan.id} · hash ${shortHash(plan.planHash)}`,
  ];
}

export function actionLine(action: Plan['actions'][number]): string {
  const extras = [
    action.expectedDowntime !== 'none' && `downtime ${action.expectedDowntime}`,
    action.preSnapshot && `snapshot ${action.preSnapshot.name} first`,
    action.commitConfirm && 'commit-confirmed',
  ].filter(Boolean);
  const head = `${RISK_ICON[action.risk]} ${KIND_SYMBOL[action.kind]} ${action.target} — ${action.type}${extras.length ? ` (${extras.join(', ')})` : ''}`;
  // A manual step says what the owner does; Jarvis only watches for the result.
  const todo = action.params.channel === 'owner' ? action.params.instructions.map((line) => `\n   ✋ ${line}`).join('') : '';
  return `${head}${todo}\n   ↩ ${action.rollbackHint}`;
}

/** The reply for a new plan; it asks for approval only when there is something to apply and nothing refused. */
export function planReply(plan: Plan, markdown: string): Reply {
  const sections: ReplySection[] = [{ lines: planSummaryLines(plan) }];
  if (plan.violations.length) {
    sections.push({ title: 'Refused by guardrails', lines: plan.violations.map((v) => `⛔ ${v.message}${v.location ? ` (${v.location})` : ''}`) });
  }
  if (plan.actions.length) sections.push({ title: 'Actions', lines: plan.actions.map(actionLine) });
  if (plan.warnings.length) sections.push({ title: 'Warnings', lines: plan.warnings.map((w) => `⚠️ ${w.message}`) });
  if (plan.unknowns.length) sections.push({ title: 'Could not read', lines: plan.unknowns.map((u) => `❔ ${u.what}: ${u.reason}`) });

  const level: ReplyLevel = plan.violations.length ? 'error' : plan.summary.maxRisk === 'none' ? 'ok' : plan.summary.maxRisk;
  const title = `Plan ${planKind(plan)} · ${plan.id}`;
  if (plan.violations.length) {
    return { level, title, sections, next: '/jarvis check' };
  }
  if (!plan.actions.length) return { level, title, sections, next: '/jarvis status' };
  return {
    level,
    title,
    sections,
    next: `react ✅ or /jarvis approve ${plan.id}`,
    buttons: planButtons(plan.id),
    approvalRequest: { plan, markdown },
  };
}
