// A Reply as Slack Block Kit within Slack's limits (50 blocks, 3,000 characters a section, 150 a header).
// What does not fit is cut with a note, and the full text is uploaded as a file next to the message.
import { replyAsMarkdown, type Reply, type ReplyButton, type ReplyLevel } from '../../commands/reply.ts';

export const SLACK_LIMITS = { blocks: 50, sectionText: 3000, header: 150, buttonText: 75 } as const;

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

/** `jarvis_<action>`; the plan id travels in the button's value. */
export const slackActionId = (action: ReplyButton['action']): string => `jarvis_${action}`;
export const SLACK_ACTION_PATTERN = /^jarvis_(approve|reject|dry-run|details)$/;

/** Slack mrkdwn needs &, < and > escaped; everything else is shown as typed. */
export const escapeMrkdwn = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** Blocks kept free for the cut note, the next-command context and the buttons. */
const RESERVED_BLOCKS = 4;

export function renderSlack(reply: Reply): SlackMessage {
  const blocks: SlackBlock[] = [{ type: 'header', text: { type: 'plain_text', text: clip(`${MARK[reply.level]} ${reply.title}`, SLACK_LIMITS.header), emoji: true } }];
  let omitted = 0;
  let used = 0;
  const room = (): boolean => blocks.length < SLACK_LIMITS.blocks - RESERVED_BLOCKS;

  for (const section of reply.sections) {
    let text = section.title ? `*${escapeMrkdwn(section.title)}*` : '';
    const flush = (): void => {
      if (!text) return;
      if (room()) blocks.push({ type: 'section', text: { type: 'mrkdwn', text } });
      used += text.length;
      text = '';
    };
    for (const raw of section.lines) {
      const line = clip(escapeMrkdwn(raw), SLACK_LIMITS.sectionText);
      if (omitted || (!room() && !text) || used + text.length + line.length > SLACK_TEXT_BUDGET) {
        omitted++;
        continue;
      }
      const grown = text ? `${text}\n${line}` : line;
      if (grown.length <= SLACK_LIMITS.sectionText) {
        text = grown;
        continue;
      }
      flush();
      if (!room()) {
        omitted++;
        continue;
      }
      text = line;
    }
    flush();
  }

  const files = (reply.attachments ?? []).map((file) => ({ filename: file.filename, content: file.content }));
  if (omitted) {
    const filename = reply.approvalRequest ? `plan-${reply.approvalRequest.plan.id}.md` : 'reply.md';
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `${omitted} more line(s) did not fit: see ${filename} (attached below)` }] });
    files.push({ filename, content: reply.approvalRequest?.markdown || replyAsMarkdown(reply) });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `next: \`${escapeMrkdwn(reply.next)}\`` }] });
  if (reply.buttons?.length) {
    blocks.push({
      type: 'actions',
      block_id: `jarvis_plan_${reply.buttons[0]?.planId ?? ''}`.slice(0, 255),
      elements: reply.buttons.map((button) => ({
        type: 'button',
        action_id: slackActionId(button.action),
        value: button.planId,
        text: { type: 'plain_text', text: clip(button.label, SLACK_LIMITS.buttonText) },
        ...(button.style !== 'secondary' && { style: button.style }),
      })),
    });
  }
  return { text: `${reply.title} — next: ${reply.next}`, blocks, files };
}
