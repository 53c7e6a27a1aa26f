// A Reply as Slack Block Kit within Slack's limits (50 blocks, 3,000 characters a section, 150 a header).
// Nothing is cut silently: what does not fit, or had to be shortened, is named in a note and the full text is
// uploaded as a file next to the message.
import { replyAsMarkdown, type Reply, type ReplyButton, type ReplyLevel } from '../../commands/reply.ts';

export const SLACK_LIMITS = { blocks: 50, sectionText: 3000, header: 150, buttonText: 75, buttonValue: 2000, actionsPerBlock: 25 } as const;

/** Text Jarvis puts in one message; more than this is unreadable on a phone, so it goes to the file instead. */
export const SLACK_TEXT_BUDGET = 12_000;

export type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji: true } }
  | { type: 'section'; text: { type: 'mrkdwn'; text: string } }
  | { type: 'context'; elements: Array<{ type: 'mrkdwn'; text: string }> }
  | { type: 'divider' }
  | { type: 'actions'; block_id: string; elements: SlackButton[] };

export interface SlackButton {
  type: 'button';
  action_id: string;
  value: string;
  text: { type: 'plain_text'; text: string };
  style?: 'primary' | 'danger';
}

export interface SlackMessage {
  /** Notification and accessibility fallback. */
  text: string;
  blocks: SlackBlock[];
  /** Uploaded next to the message: the reply's attachments, and the full text when the blocks were cut. */
  files: Array<{ filename: string; content: string }>;
}

const MARK: Record<ReplyLevel, string> = { info: 'ℹ️', ok: '✅', low: '🟢', medium: '🟡', high: '🟠', critical: '🔴', error: '⛔' };

/**
 * `jarvis_<action>`, with `_<n>` for the second and later button of one action in a message (Slack wants action ids
 * unique per block: an alert may offer a retry for each of its VMs). The argument travels in the button's value
 * (up to 2,000 characters: a UPID fits as is).
 */
export const slackActionId = (action: ReplyButton['action'], occurrence = 0): string => `jarvis_${action}${occurrence ? `_${occurrence}` : ''}`;
export const SLACK_ACTION_PATTERN = /^jarvis_(approve|reject|dry-run|details|show-log|plan-retry|plan-fix|snooze|report)(?:_\d+)?$/;

/** The action of an action id of Jarvis's, or undefined. */
export function slackAction(actionId: string): ReplyButton['action'] | undefined {
  const match = SLACK_ACTION_PATTERN.exec(actionId);
  return match ? (match[1] as ReplyButton['action']) : undefined;
}

/** Slack mrkdwn needs &, < and > escaped; everything else is shown as typed. */
export const escapeMrkdwn = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** Blocks kept free for the cut note, the next-command context and the buttons. */
const RESERVED_BLOCKS = 4;

export function renderSlack(reply: Reply): SlackMessage {
  let shortened = 0;
  const fit = (text: string, max: number): string => {
    if (text.length > max) shortened++;
    return clip(text, max);
  };
  const blocks: SlackBlock[] = [{ type: 'header', text: { type: 'plain_text', text: fit(`${MARK[reply.level]} ${reply.title}`, SLACK_LIMITS.header), emoji: true } }];
  let omitted = 0;
  let used = 0;
  const room = (): boolean => blocks.length < SLACK_LIMITS.blocks - RESERVED_BLOCKS;

  for (const section of reply.sections) {
    let text = section.title ? `*${escapeMrkdwn(section.title)}*` : '';
    /** Lines of the section in `text`, so a block there is no room for counts them as left out. */
    let pending = 0;
    const flush = (): void => {
      if (!text) return;
      if (room()) blocks.push({ type: 'section', text: { type: 'mrkdwn', text } });
      else omitted += pending;
      used += text.length;
      text = '';
      pending = 0;
    };
    for (const raw of section.lines) {
      const line = fit(escapeMrkdwn(raw), SLACK_LIMITS.sectionText);
      if (omitted || !room() || used + text.length + line.length > SLACK_TEXT_BUDGET) {
        omitted++;
        continue;
      }
      const grown = text ? `${text}\n${line}` : line;
      if (grown.length <= SLACK_LIMITS.sectionText) {
        text = grown;
        pending++;
        continue;
      }
      flush();
      if (!room()) {
        omitted++;
        continue;
      }
      text = line;
      pending = 1;
    }
    flush();
  }

  const files = (reply.attachments ?? []).map((file) => ({ filename: file.filename, content: file.content }));
  if (omitted || shortened) {
    const filename = reply.approvalRequest ? `plan-${reply.approvalRequest.plan.id}.md` : 'reply.md';
    const what = [omitted && `${omitted} more line(s) did not fit`, shortened && `${shortened} line(s) were shortened`].filter(Boolean).join(', ');
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `${what}: see ${filename} (attached below)` }] });
    if (!files.some((f) => f.filename === filename)) files.push({ filename, content: reply.approvalRequest?.markdown || replyAsMarkdown(reply) });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `next: \`${escapeMrkdwn(reply.next)}\`` }] });
  if (reply.buttons?.length) {
    const first = reply.buttons[0]!;
    const seen = new Map<string, number>();
    blocks.push({
      type: 'actions',
      block_id: (reply.approvalRequest ? `jarvis_plan_${first.arg}` : `jarvis_actions_${first.action}`).slice(0, 255),
      elements: reply.buttons.slice(0, SLACK_LIMITS.actionsPerBlock).map((button) => {
        const occurrence = seen.get(button.action) ?? 0;
        seen.set(button.action, occurrence + 1);
        return {
          type: 'button',
          action_id: slackActionId(button.action, occurrence),
          value: button.arg.slice(0, SLACK_LIMITS.buttonValue),
          text: { type: 'plain_text', text: clip(button.label, SLACK_LIMITS.buttonText) },
          ...(button.style !== 'secondary' && { style: button.style }),
        };
      }),
    });
  }
  return { text: `${reply.title} — next: ${reply.next}`, blocks, files };
}
