// `/jarvis lock|unlock|freeze|unfreeze`: the lab's change gates; replies say who holds them.
import type { CommandContext } from '../context.ts';
import type { ParsedCommand } from '../grammar.ts';
import { reply, type Reply } from '../reply.ts';
import type { GateState } from '../services.ts';
import { refusalReply } from './refusal.ts';

type GateCommand = Extract<ParsedCommand, { name: 'lock' | 'unlock' | 'freeze' | 'unfreeze' }>;

export async function gateCommand(command: GateCommand, ctx: CommandContext): Promise<Reply> {
  const { services } = ctx.deps;
  const reason = 'reason' in command ? command.reason : undefined;
  const result =
    command.name === 'lock' ? await services.lock(ctx.requester, reason)
    : command.name === 'unlock' ? await services.unlock(ctx.requester, { force: command.force })
    : command.name === 'freeze' ? await services.freeze(ctx.requester, reason)
    : await services.unfreeze(ctx.requester);
  if (!result.ok) return refusalReply(`Cannot ${command.name}`, result);
  const next = { lock: '/jarvis unlock', unlock: '/jarvis status', freeze: '/jarvis unfreeze', unfreeze: '/jarvis status' }[command.name];
  return reply('info', `Done: ${command.name}`, [{ lines: gateLines(result.state) }], next);
}

export function gateLines(state: GateState): string[] {
  const lines: string[] = [];
  if (state.lock) lines.push(`🔒 locked by ${state.lock.holder} since ${state.lock.since}${state.lock.reason ? ` — ${state.lock.reason}` : ''}`);
  if (state.freeze) lines.push(`🧊 frozen by ${state.freeze.by} since ${state.freeze.since}${state.freeze.reason ? ` — ${state.freeze.reason}` : ''}`);
  return lines.length ? lines : ['🔓 no lock, no freeze: approved plans may be applied'];
}
