// `/jarvis snapshots <vmid>`: what a rollback could return to.
import type { CommandContext } from '../context.ts';
import type { ParsedCommand } from '../grammar.ts';
import { reply, type Reply } from '../reply.ts';
import { refusalReply } from './refusal.ts';

export async function snapshotsCommand(command: Extract<ParsedCommand, { name: 'snapshots' }>, ctx: CommandContext): Promise<Reply> {
  const list = await ctx.deps.services.snapshots(command.vmid);
  if ('code' in list) return refusalReply(`Cannot list snapshots of VM ${command.vmid}`, list);
  const title = `Snapshots of VM ${list.vmid}${list.name ? ` (${list.name})` : ''}`;
  if (!list.snapshots.length) return reply('info', title, [{ lines: ['none'] }], `/jarvis status`);
  const lines = list.snapshots.map((s) => `• ${s.name}${s.createdAt ? ` — ${s.createdAt}` : ''}${s.description ? ` — ${s.description}` : ''}`);
  const latest = list.snapshots[list.snapshots.length - 1]?.name ?? '<snapshot>';
  return reply('info', title, [{ lines }], `/jarvis rollback ${list.vmid} ${latest}`);
}
