// `/jarvis snooze <alertKey> [hours]` (an alert's "Snooze"): the watchers stay quiet about that key until then.
import type { CommandContext } from '../context.ts';
import type { ParsedCommand } from '../grammar.ts';
import { reply, type Reply } from '../reply.ts';
import { refusalReply } from './refusal.ts';

export async function snoozeCommand(command: Extract<ParsedCommand, { name: 'snooze' }>, ctx: CommandContext): Promise<Reply> {
  const result = await ctx.deps.services.snoozeAlert(command.key, command.hours, ctx.requester);
  if (!result.ok) return refusalReply(`Cannot snooze ${command.key}`, result);
  const lines = [`${ctx.requester.displayName} snoozed alert ${result.key} for ${command.hours} h, until ${result.until}.`, 'If the condition still holds then, it is alerted again.'];
  return reply('info', `Snoozed: ${result.key}`, [{ lines }], '/jarvis status');
}
