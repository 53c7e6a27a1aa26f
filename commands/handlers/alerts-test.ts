// `/jarvis alerts test`: proves the alert channel works end to end.
import type { CommandContext } from '../context.ts';
import { reply, type Reply } from '../reply.ts';

export async function alertsTestCommand(ctx: CommandContext): Promise<Reply> {
  await ctx.deps.alerts(reply('info', 'Test alert', [{ lines: [`Requested by ${ctx.requester.displayName}; alerts reach this channel.`] }], '/jarvis status'));
  return reply('ok', 'Test alert sent', [{ lines: ['Look for it in the alert channel.'] }], '/jarvis status');
}
