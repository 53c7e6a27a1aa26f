// `/jarvis retry <vmid>` (an alert's "Plan a retry"): a backup of the VM now, as a plan that waits for approval.
import type { CommandContext } from '../context.ts';
import type { ParsedCommand } from '../grammar.ts';
import type { Reply } from '../reply.ts';
import { showPlan } from './plan.ts';

export async function retryCommand(command: Extract<ParsedCommand, { name: 'retry' }>, ctx: CommandContext): Promise<Reply> {
  const result = await ctx.deps.services.planBackupRetry(command.vmid, ctx.requester);
  return showPlan(result, ctx, `Cannot plan a backup of VM ${command.vmid}`);
}
