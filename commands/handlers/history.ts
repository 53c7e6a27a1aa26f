// `/jarvis history [count]`: recent plans and what became of them.
import type { CommandContext } from '../context.ts';
import type { ParsedCommand } from '../grammar.ts';
import { reply, type Reply } from '../reply.ts';
import type { HistoryEntry } from '../services.ts';

const ICON: Record<HistoryEntry['outcome'], string> = {
  pending: '⏳',
  applying: '⚙️',
  'not-started': '⏸️',
  applied: '✅',
  'waiting-for-owner': '✋',
  failed: '❌',
  refused: '⛔',
  rejected: '🚫',
  expired: '⌛',
  superseded: '↪️',
  'no-change': '➖',
  drift: '🔍',
};

export async function historyCommand(command: Extract<ParsedCommand, { name: 'history' }>, ctx: CommandContext): Promise<Reply> {
  const entries = await ctx.deps.services.history(command.limit);
  if (!entries.length) return reply('info', 'No history yet', [{ lines: ['Nothing has been planned and decided yet.'] }], '/jarvis plan phase0');
  const lines = entries.map(
    (e) => `${ICON[e.outcome]} ${e.outcome} ${e.at} ${e.planId} (${e.phase}) by ${e.requestedBy}${e.approvedBy.length ? `, approved by ${e.approvedBy.join(', ')}` : ''}${e.summary ? ` — ${e.summary}` : ''}`,
  );
  return reply('info', `Last ${entries.length} plan(s)`, [{ lines }], '/jarvis status');
}
