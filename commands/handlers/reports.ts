// `/jarvis status|backups|check|drift`: read-only reports, headline first.
import type { CommandContext } from '../context.ts';
import type { ParsedCommand } from '../grammar.ts';
import type { Reply, ReplyLevel } from '../reply.ts';
import type { Report } from '../services.ts';

type ReportCommand = Extract<ParsedCommand, { name: 'status' | 'backups' | 'check' | 'drift' }>;

const LEVEL: Record<Report['level'], ReplyLevel> = { ok: 'ok', warn: 'medium', critical: 'critical' };

export async function reportCommand(command: ReportCommand, ctx: CommandContext): Promise<Reply> {
  const { services } = ctx.deps;
  const report =
    command.name === 'status' ? await services.status()
    : command.name === 'backups' ? await services.backups()
    : command.name === 'check' ? await services.check()
    : await services.drift(ctx.requester);
  return {
    level: LEVEL[report.level],
    title: report.headline,
    sections: report.sections,
    next: nextAfter(command.name, report),
  };
}

function nextAfter(name: ReportCommand['name'], report: Report): string {
  if (report.planId) return `/jarvis dry-run ${report.planId}`;
  if (name === 'check') return report.level === 'ok' ? '/jarvis plan <phase>' : '/jarvis check';
  if (name === 'drift') return report.level === 'ok' ? '/jarvis status' : '/jarvis plan <phase>';
  return report.level === 'ok' ? '/jarvis drift' : '/jarvis backups';
}
