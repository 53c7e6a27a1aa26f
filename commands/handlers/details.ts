// `/jarvis details <planId>` and the Details button: the plan's full Markdown artifact as a file (inline on the
// console), so an approver can read every action, change and rollback hint the message had no room for.
import type { CommandContext } from '../context.ts';
import type { ParsedCommand } from '../grammar.ts';
import { errorReply, reply, type Reply } from '../reply.ts';

export async function detailsCommand(command: Extract<ParsedCommand, { name: 'details' }>, ctx: CommandContext): Promise<Reply> {
  const saved = await ctx.deps.services.getPlan(command.planId);
  if (!saved) return errorReply(`No plan ${command.planId}`, ['Plans are made with /jarvis plan; /jarvis history lists them.'], '/jarvis history');
  const filename = `plan-${command.planId}.md`;
  const { plan } = saved;
  return {
    ...reply('info', `Plan ${command.planId} in full`, [{ lines: [`${plan.actions.length} action(s), max risk ${plan.summary.maxRisk}: every change, rollback and warning is in ${filename}.`] }], `react ✅ or /jarvis approve ${command.planId}`),
    attachments: [{ filename, content: saved.markdown }],
  };
}
