// A platform-neutral reply. Handlers return it; only bot/discord, bot/slack and bot/console turn it into messages.
import type { Plan } from '../planner/plan.ts';

/** Severity of a reply; adapters map it to a colour or an icon. */
export type ReplyLevel = 'info' | 'ok' | 'low' | 'medium' | 'high' | 'critical' | 'error';

export interface ReplySection {
  title?: string;
  lines: string[];
}

/** Buttons of a plan message; approve/reject are decisions, the others answer with a message. */
export type PlanButtonAction = 'approve' | 'reject' | 'dry-run' | 'details';
/** Buttons of alerts and reports: show a task log, plan a backup retry or a drift fix, snooze an alert, a report. */
export type FollowUpButtonAction = 'show-log' | 'plan-retry' | 'plan-fix' | 'snooze' | 'report';
export type ButtonAction = PlanButtonAction | FollowUpButtonAction;

/**
 * A button. Adapters encode `action` and `arg` into the platform's custom id: `arg` is the plan id, the task UPID,
 * the VM id, the phase, the alert key or the report name (commands/buttons.ts builds and reads them).
 */
export interface ReplyButton {
  action: ButtonAction;
  arg: string;
  label: string;
  style: 'primary' | 'danger' | 'secondary';
}

export interface ReplyAttachment {
  filename: string;
  content: string;
}

export interface Reply {
  level: ReplyLevel;
  title: string;
  /** In reading order; the first section is the summary a phone shows without scrolling. */
  sections: ReplySection[];
  /** The next command to run, shown last (e.g. "/jarvis approve 7f3a…"). */
  next: string;
  buttons?: ReplyButton[];
  /** Always attached (e.g. `details`); adapters add the full plan themselves when the sections do not fit. */
  attachments?: ReplyAttachment[];
  /**
   * This reply carries a plan awaiting approval: the adapter posts it as Jarvis's own message, adds ✅/❌ and
   * registers that message with the approval machine. `markdown` is the full plan for the overflow attachment.
   */
  approvalRequest?: { plan: Plan; markdown: string };
  /** Only the caller should see it (errors, help), where the platform supports that. */
  private?: boolean;
}

export const reply = (level: ReplyLevel, title: string, sections: ReplySection[], next: string): Reply => ({
  level,
  title,
  sections,
  next,
});

/** A short refusal or error: what went wrong and what to run next. */
export const errorReply = (title: string, lines: string[], next: string): Reply => ({
  level: 'error',
  title,
  sections: lines.length ? [{ lines }] : [],
  next,
  private: true,
});

/** The last-chance scrub: any registered secret value in any text of the reply becomes `[redacted]`. */
export function scrubReply(input: Reply, scrub: (text: string) => string): Reply {
  return {
    ...input,
    title: scrub(input.title),
    next: scrub(input.next),
    sections: input.sections.map((section) => ({ ...(section.title !== undefined && { title: scrub(section.title) }), lines: section.lines.map(scrub) })),
    ...(input.attachments && { attachments: input.attachments.map((a) => ({ filename: a.filename, content: scrub(a.content) })) }),
    ...(input.approvalRequest && { approvalRequest: { plan: input.approvalRequest.plan, markdown: scrub(input.approvalRequest.markdown) } }),
  };
}

/** The whole reply as Markdown, for the file attached when a platform message cannot hold it. */
export function replyAsMarkdown(input: Reply): string {
  const parts = [`# ${input.title}`];
  for (const section of input.sections) parts.push(section.title ? `\n## ${section.title}\n` : '', ...section.lines.map((line) => `- ${line}`));
  parts.push('', `next: ${input.next}`);
  return `${parts.join('\n')}\n`;
}
