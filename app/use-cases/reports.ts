// The read-only reports behind the services port: `/jarvis status`, `backups` and `check`. Status collects the lab
// through the monitor, adds the gates and the drift watch's last result, and offers the plans worth making.
import { basename, isAbsolute, join } from 'node:path';
import type { FollowUp, Report } from '../../commands/services.ts';
import type { StatusReport } from '../../monitor/types.ts';
import type { PlanPhase } from '../../planner/plan.ts';
import { formatDiagnostic } from '../../planner/spec/diagnostic.ts';
import { checkSpec } from '../../planner/spec/guardrails.ts';
import { readSpecFile, specFilesIn } from '../../planner/spec/load.ts';
import { PLAN_PHASES, monitorPortsOf, specPlace } from '../planning.ts';
import { labStatus, statusToReport } from '../status-report.ts';
import type { UseCaseContext } from './context.ts';

/**
 * What a status offers: a fix for known drift, a retry for each covered VM whose backup needs attention, and the log
 * of every failed backup task (those still failing first).
 */
function statusFollowUps(status: StatusReport): FollowUp[] {
  const out: FollowUp[] = [];
  const drift = status.drift?.known ? status.drift.value : undefined;
  if (drift && drift.actionCount > 0 && (PLAN_PHASES as readonly string[]).includes(drift.phase)) out.push({ kind: 'plan-fix', phase: drift.phase as PlanPhase });
  if (status.backups.known) {
    for (const vm of status.backups.value.perVm) {
      if ((vm.level === 'warn' || vm.level === 'critical') && vm.jobs.length > 0) out.push({ kind: 'plan-retry', vmid: vm.vmid });
    }
    const failed = [...status.backups.value.failedTasks].sort((a, b) => Number(a.recovered) - Number(b.recovered));
    for (const task of failed) {
      const age = task.ageHours < 1 ? `${Math.round(task.ageHours * 60)} min ago` : `${Math.round(task.ageHours)} h ago`;
      out.push({ kind: 'show-log', upid: task.upid, label: `Show log: VM ${task.vmids.join(', ') || '?'} failed ${age}` });
    }
  }
  return out;
}

/** `/jarvis status`: the lab snapshot, headline first. */
export async function statusReport(ctx: UseCaseContext): Promise<Report> {
  const status = await labStatus({ ports: monitorPortsOf(ctx.lab.ports), config: ctx.config, dataDir: ctx.dataDir, cwd: ctx.cwd, ...(ctx.lab.site ? { site: ctx.lab.site } : {}) });
  return { ...statusToReport(status), followUps: statusFollowUps(status) };
}

/** `/jarvis backups`: the backup parts of the status, with the retries it offers. */
export async function backupsReport(ctx: UseCaseContext): Promise<Report> {
  const report = await statusReport(ctx);
  const sections = report.sections.filter((s) => /backup|not covered|attention/i.test(s.title));
  return {
    ...report,
    sections: sections.map((s) => (s.title === 'Needs attention' ? { ...s, lines: s.lines.filter((l) => /backup|cannot read Proxmox/i.test(l)) } : s)),
    followUps: (report.followUps ?? []).filter((f) => f.kind === 'plan-retry' || f.kind === 'show-log'),
  };
}

/** `/jarvis check`: every spec in the specs directory through the schema and the guardrails. */
export async function checkSpecs(ctx: UseCaseContext): Promise<Report> {
  const place = specPlace(ctx.config, ctx.lab);
  const dir = isAbsolute(place.specsDir) ? place.specsDir : join(ctx.cwd, place.specsDir);
  const files = (await specFilesIn(dir)).map((path) => basename(path));
  const sections: Report['sections'] = [];
  let errors = 0;
  let warnings = 0;
  for (const name of files) {
    const display = join(place.specsDir, name);
    const loaded = await readSpecFile(join(dir, name), display, place.site ? { site: place.site } : {});
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
