// `/jarvis help [command]`: only what the caller may do, with usage.
import { isApprover } from '../approvals/policy.ts';
import type { CommandContext } from '../context.ts';
import { COMMANDS, type ParsedCommand } from '../grammar.ts';
import { reply, type Reply } from '../reply.ts';

export async function helpCommand(command: Extract<ParsedCommand, { name: 'help' }>, ctx: CommandContext): Promise<Reply> {
  const approver = isApprover(ctx.deps.approvals.policy, ctx.requester);
  const allowed = COMMANDS.filter((spec) => approver || spec.role === 'viewer');
  if (command.topic) {
    const spec = COMMANDS.find((s) => s.name === command.topic);
    const lines = spec ? [`/jarvis ${spec.usage}`, spec.summary] : [];
    if (spec && spec.role === 'approver' && !approver) lines.push('Only approvers may run it.');
    return { ...reply('info', `Help: ${command.topic}`, [{ lines }], spec ? `/jarvis ${spec.usage}` : '/jarvis help'), private: true };
  }
  const lines = allowed.map((spec) => `/jarvis ${spec.usage} — ${spec.summary}`);
  const sections = [{ lines }];
  if (approver) {
    sections.push({
      lines: [
        'Approve a plan with ✅ on its message (or /jarvis approve), reject with ❌.',
        'Alerts and status come with buttons: Show log, Plan a retry, Plan a fix, Snooze (each is one of the commands above).',
      ],
    });
  } else sections.push({ lines: ['You may look and plan; approvers apply.', 'On alerts anyone may press Show log; planning and snoozing from an alert is for approvers.'] });
  return { ...reply('info', 'What you can ask Jarvis', sections, '/jarvis plan phase0'), private: true };
}
