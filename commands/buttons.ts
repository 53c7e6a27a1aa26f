// Buttons as commands: every follow-up button stands for a `/jarvis …` command, so a click runs exactly what a typed
// command would (same grammar, same authorization), and the console prints the command instead of a button.
import type { PlanPhase } from '../planner/plan.ts';
import type { FollowUp } from './services.ts';
import type { ButtonAction, FollowUpButtonAction, ReplyButton } from './reply.ts';

export const BUTTON_ACTIONS: readonly ButtonAction[] = ['approve', 'reject', 'dry-run', 'details', 'show-log', 'plan-retry', 'plan-fix', 'snooze', 'report'];

/** Follow-ups that change something or plan a change: only approvers may press them (anyone may read a log). */
export const APPROVER_ONLY: ReadonlySet<ButtonAction> = new Set<ButtonAction>(['plan-retry', 'plan-fix', 'snooze']);

/** Reports a button may ask for. */
export const BUTTON_REPORTS = ['status', 'backups', 'drift'] as const;

/** How long the Snooze button silences an alert. */
export const SNOOZE_HOURS = 24;

export const isPlanButton = (action: ButtonAction): boolean => action === 'approve' || action === 'reject' || action === 'dry-run' || action === 'details';

export const showLogButton = (upid: string, label = 'Show log'): ReplyButton => ({ action: 'show-log', arg: upid, label, style: 'secondary' });
export const planRetryButton = (vmid: number, label = `Plan a retry of VM ${vmid}`): ReplyButton => ({ action: 'plan-retry', arg: String(vmid), label, style: 'primary' });
export const planFixButton = (phase: PlanPhase, label = 'Plan a fix'): ReplyButton => ({ action: 'plan-fix', arg: phase, label, style: 'primary' });
export const snoozeButton = (alertKey: string, label = `Snooze ${SNOOZE_HOURS} h`): ReplyButton => ({ action: 'snooze', arg: alertKey, label, style: 'secondary' });
export const reportButton = (report: (typeof BUTTON_REPORTS)[number], label: string): ReplyButton => ({ action: 'report', arg: report, label, style: 'secondary' });

/** A report's follow-ups as buttons. */
export function followUpButtons(followUps: readonly FollowUp[]): ReplyButton[] {
  return followUps.map((f) => (f.kind === 'plan-fix' ? planFixButton(f.phase, `Plan ${f.phase} drift fix`) : f.kind === 'plan-retry' ? planRetryButton(f.vmid) : showLogButton(f.upid, f.label)));
}

/** The words after `/jarvis` a button stands for. The grammar validates the argument when the click runs it. */
export function buttonCommand(button: { action: ButtonAction; arg: string }): string {
  switch (button.action) {
    case 'approve':
    case 'reject':
    case 'dry-run':
    case 'details':
      return `${button.action} ${button.arg}`;
    case 'show-log':
      return `log ${button.arg}`;
    case 'plan-retry':
      return `retry ${button.arg}`;
    case 'plan-fix':
      return `plan ${button.arg}`;
    case 'snooze':
      return `snooze ${button.arg}`;
    case 'report':
      return button.arg;
  }
}

export const isFollowUpAction = (value: string): value is FollowUpButtonAction =>
  (BUTTON_ACTIONS as readonly string[]).includes(value) && !isPlanButton(value as ButtonAction);
