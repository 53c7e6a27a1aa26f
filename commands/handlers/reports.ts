// `/jarvis status|backups|check|drift`: read-only reports, headline first.
import type { CommandContext } from '../context.ts';
import type { ParsedCommand } from '../grammar.ts';
import { followUpButtons, reportButton } from '../buttons.ts';
import type { Reply, ReplyButton, ReplyLevel } from '../reply.ts';
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
  const buttons = reportButtons(command.name, report);
  return {
    level: LEVEL[report.level],
    title: report.headline,
    sections: report.sections,
    next: nextAfter(command.name, report),
    ...(buttons.length ? { buttons } : {}),
  };
}

/** At most this many "Plan a retry" buttons on one report: more would crowd a phone screen. */
const MAX_RETRY_BUTTONS = 3;
/** "Show log" buttons, still-failing tasks first: as many as status lists failed tasks (monitor/render-status.ts). */
const MAX_LOG_BUTTONS = 8;

/** The plans a report suggests, the logs of failed tasks, then the reports that go deeper. */
function reportButtons(name: ReportCommand['name'], report: Report): ReplyButton[] {
  const followUps = report.followUps ?? [];
  const fixes = followUpButtons(followUps.filter((f) => f.kind === 'plan-fix'));
  const retries = followUpButtons(followUps.filter((f) => f.kind === 'plan-retry')).slice(0, MAX_RETRY_BUTTONS);
  const logs = followUpButtons(followUps.filter((f) => f.kind === 'show-log')).slice(0, MAX_LOG_BUTTONS);
  switch (name) {
    case 'status':
      return [...fixes, ...retries, ...logs, reportButton('backups', 'Backups'), reportButton('drift', 'Drift')];
    case 'backups':
      return [...retries, ...logs, reportButton('status', 'Status')];
    case 'drift':
      return fixes;
    case 'check':
      return [];
  }
}

function nextAfter(name: ReportCommand['name'], report: Report): string {
  if (report.planId) return `/jarvis dry-run ${report.planId}`;
  if (name === 'check') return report.level === 'ok' ? '/jarvis plan <phase>' : '/jarvis check';
  if (name === 'drift') return report.level === 'ok' ? '/jarvis status' : '/jarvis plan <phase>';
  return report.level === 'ok' ? '/jarvis drift' : '/jarvis backups';
}
