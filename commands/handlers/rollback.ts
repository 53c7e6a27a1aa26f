// `/jarvis rollback <vmid> <snapshot>`: a rollback is a plan like any other, approved before it runs.
import type { CommandContext } from '../context.ts';
import type { ParsedCommand } from '../grammar.ts';
import type { Reply } from '../reply.ts';
import { showPlan } from './plan.ts';

export async function rollbackCommand(command: Extract<ParsedCommand, { name: 'rollback' }>, ctx: CommandContext): Promise<Reply> {
  const result = await ctx.deps.services.planRollback(command.vmid, command.snapshot, ctx.requester);
  const shown = showPlan(result, ctx, `Cannot roll back VM ${command.vmid}`);
  // An unknown snapshot: the list of snapshots is the useful next step.
  return !result.ok && result.code === 'not-found' ? { ...shown, next: `/jarvis snapshots ${command.vmid}` } : shown;
}
