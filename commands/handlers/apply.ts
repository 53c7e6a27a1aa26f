// `/jarvis apply <planId>`: applies a plan already approved here, otherwise shows it for approval.
import type { CommandContext } from '../context.ts';
import { queueApply } from '../apply-flow.ts';
import type { ParsedCommand } from '../grammar.ts';
import { errorReply, reply, type Reply } from '../reply.ts';
import { replanCommand } from '../plan-labels.ts';
import { presentForApproval } from './plan.ts';

export async function applyCommand(command: Extract<ParsedCommand, { name: 'apply' }>, ctx: CommandContext): Promise<Reply> {
  const record = ctx.deps.approvals.get(command.planId);
  if (record?.state === 'approved') {
    queueApply(command.planId, ctx);
    return reply('ok', `Applying plan ${command.planId}`, [{ lines: ['Approved earlier; applying now, progress follows.'] }], '/jarvis status');
  }
  if (record && record.state !== 'pending' && record.state !== 'awaiting-confirmation') {
    return errorReply(`Plan ${command.planId} is ${record.state}`, ['Only a fresh, approved plan is applied.'], replanCommand(record.phase));
  }
  const saved = await ctx.deps.services.getPlan(command.planId);
  if (!saved) return errorReply(`No plan ${command.planId}`, ['Plans are made with /jarvis plan.'], '/jarvis history');
  return presentForApproval(saved.plan, saved.markdown, ctx);
}
