// A watcher's alert as a platform-neutral chat reply with its buttons (bot/ renders it per platform): Show log,
// Plan a retry, Plan a fix, Snooze. A condition that can persist (a missing backup, a full storage, drift) can also be
// snoozed; a failed task or a recovery is said once anyway, so it gets no Snooze.
import { planFixButton, planRetryButton, showLogButton, snoozeButton } from '../commands/buttons.ts';
import { PHASES } from '../commands/grammar.ts';
import type { Reply, ReplyButton } from '../commands/reply.ts';
import type { PlanPhase } from '../planner/plan.ts';
import type { Alert, AlertAction } from '../monitor/types.ts';

const LEVEL = { info: 'info', warning: 'medium', critical: 'critical' } as const;

/** `verb:argument` (monitor/types.ts AlertAction) → a button; an action Jarvis does not know is left out. */
function actionButton(action: AlertAction): ReplyButton | undefined {
  const split = action.id.indexOf(':');
  const verb = split < 0 ? action.id : action.id.slice(0, split);
  const arg = split < 0 ? '' : action.id.slice(split + 1);
  if (!arg) return undefined;
  switch (verb) {
    case 'show-log':
      return { ...showLogButton(arg), label: action.label };
    case 'plan-retry':
      return /^\d+$/.test(arg) ? { ...planRetryButton(Number(arg)), label: action.label } : undefined;
    case 'plan-fix':
      return (PHASES as readonly string[]).includes(arg) ? { ...planFixButton(arg as PlanPhase), label: action.label } : undefined;
    case 'snooze':
      return { ...snoozeButton(arg), label: action.label };
    default:
      return undefined;
  }
}

export function alertButtons(alert: Alert): ReplyButton[] {
  const buttons = alert.actions.map(actionButton).filter((b): b is ReplyButton => b !== undefined);
  // A failed task and a recovery are said once anyway; a test is a test.
  const snoozable = alert.kind !== 'backup-failed' && alert.kind !== 'recovered' && alert.kind !== 'test';
  if (snoozable && !buttons.some((b) => b.action === 'snooze')) buttons.push(snoozeButton(alert.key));
  return buttons;
}

export function alertToReply(alert: Alert): Reply {
  const sections: Reply['sections'] = [{ lines: alert.lines }];
  if (alert.logTail && alert.logTail.length > 0) sections.push({ title: 'Log tail', lines: alert.logTail });
  const buttons = alertButtons(alert);
  const retry = buttons.find((b) => b.action === 'plan-retry');
  const next =
    alert.kind === 'drift' ? '/jarvis drift'
    : retry ? `/jarvis retry ${retry.arg}`
    : alert.kind.startsWith('backup') ? '/jarvis backups'
    : '/jarvis status';
  return { level: LEVEL[alert.severity], title: alert.title, sections, next, ...(buttons.length ? { buttons } : {}) };
}
