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
  const lines = list.snapshots.map(
    (s) =>
      `• ${s.name}${s.createdAt ? ` — ${s.createdAt}` : ''}${s.description ? ` — ${s.description}` : ''}` +
      (s.incomplete ? ` — half made (${s.incomplete === 'prepare' ? 'creation' : s.incomplete === 'delete' ? 'deletion' : s.incomplete} never finished): cannot be rolled back to` : ''),
  );
  const complete = list.snapshots.filter((s) => !s.incomplete);
  const latest = complete[complete.length - 1]?.name ?? '<snapshot>';
  return reply('info', title, [{ lines }], `/jarvis rollback ${list.vmid} ${latest}`);
}
