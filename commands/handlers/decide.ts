// `/jarvis approve|reject [planId]` and `/jarvis confirm <hash> [planId]`: the typed twins of ✅, ❌ and the
// critical confirmation. Without a plan id they address the latest plan in this channel.
import { answerDecision } from '../apply-flow.ts';
import type { CommandContext } from '../context.ts';
import type { ParsedCommand } from '../grammar.ts';
import type { Reply } from '../reply.ts';
import type { ApprovalInput } from '../approvals/state-machine.ts';

type DecideCommand = Extract<ParsedCommand, { name: 'approve' | 'reject' | 'confirm' }>;

export async function decideCommand(command: DecideCommand, ctx: CommandContext): Promise<Reply | undefined> {
  const target: ApprovalInput['target'] = command.planId ? { planId: command.planId } : { channelKey: ctx.conversation.channelKey };
  const { approvals } = ctx.deps;
  const input: ApprovalInput = { actor: ctx.requester, via: command.name === 'confirm' ? 'typed-confirmation' : 'text', target };
  const decision =
    command.name === 'approve' ? approvals.approve(input) : command.name === 'reject' ? approvals.reject(input) : approvals.confirm(input, command.hash);
  return answerDecision(decision, ctx, true);
}
