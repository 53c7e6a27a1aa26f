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

/**
 * Registers the plan for approval as it is shown here. A viewer's plan never replaces someone else's pending or
 * approved plan of the same phase: both stand, and the reply says so (a decision without a plan id must then name one).
 */
export function presentForApproval(plan: Plan, markdown: string, ctx: CommandContext): Reply {
  const shown = planReply(plan, markdown);
  if (!shown.approvalRequest) return shown;
  const { keptBeside } = ctx.deps.approvals.register(plan, ctx.conversation.channelKey, ctx.requester);
  if (keptBeside.length === 0) return shown;
  const lines = keptBeside.map((other) => `Plan ${other.planId} by ${other.requestedBy} (${other.state}) still stands: only an approver's plan replaces another person's. Name the plan when you approve: /jarvis approve ${plan.id}`);
  return { ...shown, sections: [...shown.sections, { title: 'Also waiting', lines }] };
}
