// `/jarvis dry-run <planId>`: every request of the plan checked against Proxmox's schema, nothing written.
import type { CommandContext } from '../context.ts';
import type { ParsedCommand } from '../grammar.ts';
import { reply, type Reply } from '../reply.ts';
import { refusalReply } from './refusal.ts';

export async function dryRunCommand(command: Extract<ParsedCommand, { name: 'dry-run' }>, ctx: CommandContext): Promise<Reply> {
  const report = await ctx.deps.services.dryRun(command.planId);
  if ('code' in report) return refusalReply(`Cannot dry-run ${command.planId}`, report);
  const sections = [{ lines: report.lines }];
  if (report.problems.length) sections.push({ lines: report.problems.map((p) => `❌ ${p}`) });
  return report.ok
    ? reply('ok', `Dry run of ${command.planId}: all requests valid`, sections, `react ✅ or /jarvis approve ${command.planId}`)
    : reply('error', `Dry run of ${command.planId}: ${report.problems.length} problem(s)`, sections, '/jarvis plan <phase>');
}
