// A plan as a platform-neutral Reply: summary first (what a phone shows), then one line per action with its
// risk, downtime and rollback hint, then warnings and violations.
import type { Plan } from '../planner/plan.ts';
import { planFixButton } from './buttons.ts';
import { actionDetails } from './plan-details.ts';
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

type Action = Plan['actions'][number];

const headOf = (action: Action, count: number): string => {
  const extras = [
    action.expectedDowntime !== 'none' && `downtime ${action.expectedDowntime}${count > 1 ? ' each' : ''}`,
    action.preSnapshot && `snapshot ${action.preSnapshot.name} first`,
    action.commitConfirm && 'commit-confirmed',
  ].filter(Boolean);
  return `${RISK_ICON[action.risk]} ${KIND_SYMBOL[action.kind]} ${action.target} — ${action.type}${count > 1 ? ` ×${count}` : ''}${extras.length ? ` (${extras.join(', ')})` : ''}`;
};

/** An action as the approver reads it: head (risk, kind, target, type), what it does in full, how to undo it. */
function actionLine(action: Action): string {
  return [headOf(action, 1), ...actionDetails(action).map((line) => `   ${line}`), `   ↩ ${action.rollbackHint}`].join('\n');
}

/** Same target, type, risk and undo: consecutive actions read as one entry (five firewall rules, one head). */
const sameEntry = (a: Action, b: Action): boolean =>
  a.target === b.target && a.type === b.type && a.risk === b.risk && a.kind === b.kind && a.commitConfirm === b.commitConfirm &&
  a.expectedDowntime === b.expectedDowntime && a.rollbackHint === b.rollbackHint && !a.preSnapshot && !b.preSnapshot;

/** The Actions section: in execution order, every action's details, runs of alike actions under one head. */
export function actionEntries(actions: readonly Action[]): string[] {
  const entries: string[] = [];
  for (let i = 0; i < actions.length; ) {
    let j = i + 1;
    while (j < actions.length && sameEntry(actions[i]!, actions[j]!)) j++;
    const run = actions.slice(i, j);
    entries.push(run.length === 1 ? actionLine(run[0]!) : [headOf(run[0]!, run.length), ...run.flatMap((a) => actionDetails(a).map((line) => `   ${line}`)), `   ↩ ${run[0]!.rollbackHint}`].join('\n'));
    i = j;
  }
  return entries;
}

/** The reply for a new plan; it asks for approval only when there is something to apply and nothing refused. */
export function planReply(plan: Plan, markdown: string): Reply {
  const sections: ReplySection[] = [{ lines: planSummaryLines(plan) }];
  if (plan.violations.length) {
    sections.push({ title: 'Refused by guardrails', lines: plan.violations.map((v) => `⛔ ${v.message}${v.location ? ` (${v.location})` : ''}`) });
  }
  if (plan.actions.length) sections.push({ title: 'Actions', lines: actionEntries(plan.actions) });
  if (plan.warnings.length) sections.push({ title: 'Warnings', lines: plan.warnings.map((w) => `⚠️ ${w.message}`) });
  if (plan.unknowns.length) sections.push({ title: 'Could not read', lines: plan.unknowns.map((u) => `❔ ${u.what}: ${u.reason}`) });

  const level: ReplyLevel = plan.violations.length ? 'error' : plan.summary.maxRisk === 'none' ? 'ok' : plan.summary.maxRisk;
  const title = `Plan ${planKind(plan)} · ${plan.id}`;
  if (plan.violations.some((v) => v.ruleId === 'backup.storage-full')) {
    // The fix is in the spec (where backups go) or on the storage; planning the managed phase applies the spec's.
    return { level, title, sections, next: `/jarvis plan ${plan.phase}`, buttons: [planFixButton(plan.phase)] };
  }
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
