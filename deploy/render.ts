// Text for people: one progress line per apply event (CLI stderr, chat progress updates) and the final report.
import type { ApplyEvent, ApplyReport } from './types.ts';

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** One line per event; task log lines are indented under their action. */
export function renderEvent(event: ApplyEvent): string {
  switch (event.type) {
    case 'apply.started':
      return `apply plan ${event.planId}: ${event.actions} action(s)${event.resumed > 0 ? `, ${event.resumed} already done in an earlier run` : ''}`;
    case 'action.started':
      return `→ [${event.index}/${event.total}] ${event.actionId} (${event.target})`;
    case 'action.finished':
      return `✓ ${event.actionId}: ${event.detail} (${seconds(event.durationMs)})`;
    case 'action.failed':
      return [`✗ ${event.actionId}: ${event.error}`, ...event.logTail.map((line) => `    | ${line}`)].join('\n');
    case 'action.skipped':
      return `· ${event.actionId}: skipped, ${event.reason}`;
    case 'action.reverted':
      return `↺ ${event.actionId}: ${event.detail}`;
    case 'action.progress':
      return `  ${event.actionId}: ${event.detail}`;
    case 'action.waiting':
      return [`⏸ ${event.actionId}: waiting for the owner (a manual step; the rest goes on):`, ...event.instructions.map((line) => `    - ${line}`)].join('\n');
    case 'snapshot.taken':
      return `  snapshot ${event.name} of VM ${event.vmid} taken (${event.kind}) before ${event.actionId}`;
    case 'snapshot.pruned':
      return `  pruned old snapshot ${event.name} of VM ${event.vmid}`;
    case 'task.log':
      return `    ${event.actionId} | ${event.line}`;
    case 'confirm.probe':
      return `  management probe after ${event.actionId}: ${event.ok ? 'ok' : 'FAILED'} (${event.detail})`;
    case 'validation':
      return `${event.ok ? '✓' : '✗'} validation: ${event.detail}`;
    case 'warning':
      return `! ${event.message}`;
    case 'apply.finished':
      return `apply finished: ${event.status}`;
  }
}

export function renderReport(report: ApplyReport): string {
  const lines: string[] = [];
  if (report.refusal?.code === 'unreadable') {
    lines.push(`Not applied: ${report.refusal.message}`);
  } else if (report.status === 'refused' && report.refusal) {
    lines.push(`Refused: ${report.refusal.message}`);
    for (const moved of report.refusal.moved ?? []) {
      lines.push(`  moved: ${moved.targetKey} (for ${moved.actions.join(', ')}): planned ${moved.planned ?? 'absent'}, now ${moved.now ?? 'absent'}`);
    }
  } else if (report.status === 'dry-run' && report.dryRun) {
    lines.push(`Dry run of plan ${report.planId}: nothing was sent.`);
    for (const action of report.dryRun.actions) {
      lines.push(`${action.actionId} (${action.target})`);
      for (const request of action.requests) {
        const check = request.schema.ok ? 'schema ok' : `REJECTED ${request.schema.status}: ${Object.entries(request.schema.errors).map(([k, v]) => `${k}: ${v}`).join('; ')}`;
        lines.push(`  ${request.purpose === 'action' ? '' : `[${request.purpose}] `}${request.method} ${request.path} ${JSON.stringify(request.params)}  (${check})`);
      }
      for (const operation of action.operations) lines.push(`  ${operation}`);
    }
    if (report.dryRun.stale) lines.push(`Stale: ${report.dryRun.stale.message}`);
    if (report.dryRun.violations) lines.push(`Refused: ${report.dryRun.violations.message}`);
  } else {
    lines.push(`Plan ${report.planId}: ${report.status}`);
    for (const action of report.actions) {
      const achieved = action.achieved === undefined ? '' : action.achieved ? ', achieved' : ', NOT achieved';
      lines.push(`  ${action.outcome.padEnd(12)} ${action.actionId} (${action.target})${action.accepted ? ' accepted' : ''}${achieved}`);
    }
  }
  for (const gap of report.validation?.unverified ?? []) lines.push(`  (not verified, outside this plan: ${gap.what}: ${gap.reason})`);
  if (report.next.length > 0) {
    lines.push('Next:');
    for (const step of report.next) lines.push(`  - ${step}`);
  }
  return `${lines.join('\n')}\n`;
}
