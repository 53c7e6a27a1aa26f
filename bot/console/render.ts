// A Reply as plain terminal text: title, sections, buttons as the commands they stand for, next command last.
import { buttonCommand, isPlanButton } from '../../commands/buttons.ts';
import type { Reply } from '../../commands/reply.ts';

const MARK: Record<Reply['level'], string> = { info: 'ℹ️', ok: '✅', low: '🟢', medium: '🟡', high: '🟠', critical: '🔴', error: '⛔' };

export function renderText(reply: Reply): string {
  const out = [`${MARK[reply.level]} ${reply.title}`];
  for (const section of reply.sections) {
    if (section.title) out.push('', `  ${section.title}`);
    for (const line of section.lines) out.push(...line.split('\n').map((l) => `  ${l}`));
  }
  if (reply.approvalRequest) {
    const id = reply.approvalRequest.plan.id;
    out.push('', `  (✅ = /jarvis approve, ❌ = /jarvis reject; the whole plan: /jarvis details ${id}; its requests checked: /jarvis dry-run ${id})`);
  }
  // A terminal has no buttons: each follow-up is shown as the command it stands for (plan buttons are the line above).
  const followUps = (reply.buttons ?? []).filter((button) => !isPlanButton(button.action));
  if (followUps.length) out.push('', ...followUps.map((button) => `  [${button.label}] /jarvis ${buttonCommand(button)}`));
  for (const file of reply.attachments ?? []) out.push('', `--- ${file.filename} ---`, file.content.trimEnd(), `--- end of ${file.filename} ---`);
  out.push(`→ next: ${reply.next}`);
  return `${out.join('\n')}\n`;
}
