// `/jarvis plan <phase>`: scan, plan, and show the plan for approval in this channel.
import type { Plan } from '../../planner/plan.ts';
import type { CommandContext } from '../context.ts';
import type { ParsedCommand } from '../grammar.ts';
import { planReply } from '../render-plan.ts';
import type { Reply } from '../reply.ts';
import type { PlanResult } from '../services.ts';
import { refusalReply } from './refusal.ts';

export async function planCommand(command: Extract<ParsedCommand, { name: 'plan' }>, ctx: CommandContext): Promise<Reply> {
  return showPlan(await ctx.deps.services.plan(command.phase, ctx.requester), ctx, `Cannot plan ${command.phase}`);
}

/** Shows a new plan; one with something to apply is registered for approval in this channel. */
export function showPlan(result: PlanResult, ctx: CommandContext, failureTitle: string): Reply {
  if (!result.ok) return result.plan ? planReply(result.plan, '') : refusalReply(failureTitle, result);
  return presentForApproval(result.plan, result.markdown, ctx);
}

export function presentForApproval(plan: Plan, markdown: string, ctx: CommandContext): Reply {
  const shown = planReply(plan, markdown);
  if (shown.approvalRequest) ctx.deps.approvals.register(plan, ctx.conversation.channelKey);
  return shown;
}
