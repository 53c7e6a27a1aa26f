// The read-only reports behind the services port: `/jarvis status`, `backups` and `check`. Status collects the lab
// through the monitor, adds the gates and the drift watch's last result, and offers the plans worth making.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FollowUp, Report } from '../../commands/services.ts';
import { AlertStore } from '../../monitor/alert-store.ts';
import { collect } from '../../monitor/collect.ts';
import { readGates } from '../../monitor/gates.ts';
import { buildStatus } from '../../monitor/status.ts';
import type { DriftSummary, StatusReport } from '../../monitor/types.ts';
import { historyHours } from '../../monitor/watch.ts';
import type { PlanPhase } from '../../planner/plan.ts';
import { formatDiagnostic } from '../../planner/spec/diagnostic.ts';
import { checkSpec } from '../../planner/spec/guardrails.ts';
import { readSpecFile } from '../../planner/spec/load.ts';
import { known } from '../../planner/state.ts';
import { PLAN_PHASES, monitorPortsOf } from '../planning.ts';
import { statusToReport } from '../status-report.ts';
import type { UseCaseContext } from './context.ts';

/** What a status suggests planning: a fix for known drift, a retry for each covered VM whose backup needs attention. */
function statusFollowUps(status: StatusReport): FollowUp[] {
  const out: FollowUp[] = [];
  const drift = status.drift?.known ? status.drift.value : undefined;
  if (drift && drift.actionCount > 0 && (PLAN_PHASES as readonly string[]).includes(drift.phase)) out.push({ kind: 'plan-fix', phase: drift.phase as PlanPhase });
  if (status.backups.known) {
    for (const vm of status.backups.value.perVm) {
      if ((vm.level === 'warn' || vm.level === 'critical') && vm.jobs.length > 0) out.push({ kind: 'plan-retry', vmid: vm.vmid });
    }
  }
  return out;
}

/** The drift watch's last result, when a watcher has run in this data dir (status never creates the store). */
function lastDrift(dataDir: string): DriftSummary | undefined {
  const store = AlertStore.openExisting(dataDir);
  try {
    return store?.lastDrift();
  } finally {
    store?.close();
  }
}

/** `/jarvis status`: the lab snapshot, headline first. */
export async function statusReport(ctx: UseCaseContext): Promise<Report> {
  const now = Date.now();
  const collected = await collect(monitorPortsOf(ctx.lab.ports), { now, historyHours: historyHours(ctx.config.alerts) });
  if (collected.unreachable) {
    return { level: 'critical', headline: `Proxmox at ${ctx.lab.describe} is unreachable: ${collected.unreachable}`, sections: [] };
  }
  const gates = readGates(ctx.dataDir, now, ctx.config.approvalTtlMinutes);
  const drift = lastDrift(ctx.dataDir);
  const status = buildStatus(collected, { now, thresholds: ctx.config.alerts, ...gates, ...(drift ? { drift: known(drift) } : {}) });
  return { ...statusToReport(status), followUps: statusFollowUps(status) };
}

/** `/jarvis backups`: the backup parts of the status, with the retries it offers. */
export async function backupsReport(ctx: UseCaseContext): Promise<Report> {
  const report = await statusReport(ctx);
  const sections = report.sections.filter((s) => /backup|not covered|attention/i.test(s.title));
  return {
    ...report,
    sections: sections.map((s) => (s.title === 'Needs attention' ? { ...s, lines: s.lines.filter((l) => /backup/i.test(l)) } : s)),
    followUps: (report.followUps ?? []).filter((f) => f.kind === 'plan-retry'),
  };
}

/** `/jarvis check`: every spec in specs/ through the schema and the guardrails. */
export async function checkSpecs(ctx: UseCaseContext): Promise<Report> {
  const dir = join(ctx.cwd, 'specs');
  const files = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  const sections: Report['sections'] = [];
  let errors = 0;
  let warnings = 0;
  for (const name of files) {
    const display = join('specs', name);
    const loaded = await readSpecFile(join(dir, name), display);
    const findings = loaded.ok ? checkSpec(loaded.loaded) : loaded.errors;
    errors += findings.filter((f) => f.severity === 'error').length + (loaded.ok ? 0 : 1);
    warnings += findings.filter((f) => f.severity === 'warning').length;
    sections.push({ title: display, lines: findings.length > 0 ? findings.map(formatDiagnostic) : ['ok'] });
  }
  return {
    level: errors > 0 ? 'critical' : warnings > 0 ? 'warn' : 'ok',
    headline: errors > 0 ? `${errors} spec error(s) — plans are refused until fixed` : `${files.length} spec(s) valid${warnings ? `, ${warnings} warning(s)` : ''}`,
    sections,
  };
}
