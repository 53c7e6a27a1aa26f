// The status report as compact text for the console and the CLI: headline first, then one short block per section.
import type { Fact } from '../planner/state.ts';
import type { Level, StatusReport } from './types.ts';

const MARK: Record<Level, string> = { ok: '✓', warn: '⚠', critical: '✗', unknown: '?' };

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s % 60} s`;
  return `${s} s`;
}

/** Failed tasks listed by status; older ones are counted. */
const FAILED_TASKS_SHOWN = 8;

/** `2026-12-06 02:30 UTC (in 14 h)`: a future time, absolute and relative to the report. */
export function formatWhen(iso: string, fromIso: string): string {
  const hours = (Date.parse(iso) - Date.parse(fromIso)) / 3_600_000;
  const relative = hours < 1 ? `in ${Math.max(0, Math.round(hours * 60))} min` : `in ${Math.round(hours)} h`;
  return `${iso.slice(0, 16).replace('T', ' ')} UTC (${relative})`;
}

export const formatAge = (hours: number): string => (hours < 1 ? `${Math.max(0, Math.round(hours * 60))} min ago` : `${Math.round(hours)} h ago`);

const listFirst = (items: string[], max: number): string =>
  items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;

/** `[######----]` for a percentage. */
export function bar(percent: number, width = 10): string {
  const filled = Math.min(width, Math.max(0, Math.round((percent / 100) * width)));
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

export interface StatusSection {
  title: string;
  lines: string[];
}

function section<T>(out: StatusSection[], title: string, fact: Fact<T> | undefined, body: (value: T) => string[]): void {
  if (!fact) return;
  out.push({ title, lines: fact.known ? body(fact.value) : [`? unknown: ${fact.reason}`] });
}

/** The report's sections after the headline (node, storage, guests, backups, ZFS, datasets, tailnet, gates, drift). */
export function statusSections(report: StatusReport): StatusSection[] {
  const lines: StatusSection[] = [];

  section(lines, 'Node', report.node, (n) => [
    `${n.name}  ${n.pveVersion}  CPU ${Math.round(n.cpu * 100)}%${n.cpus ? ` of ${n.cpus}` : ''}  ` +
      `mem ${formatBytes(n.memory.used)}/${formatBytes(n.memory.total)}  up ${formatDuration(n.uptimeSeconds)}`,
  ]);
  section(lines, 'Storage', report.storages, (list) =>
    list.map((s) => {
      const usage =
        s.usedPercent !== undefined && s.total ? `${bar(s.usedPercent)} ${s.usedPercent}%  ${formatBytes(s.used ?? 0)}/${formatBytes(s.total)}` : 'usage unknown';
      return `${MARK[s.level]} ${s.storage.padEnd(12)} ${usage}${s.active ? '' : '  (inactive)'}`;
    }),
  );
  section(lines, 'Guests', report.vms, (list) => {
    // A large lab lists the guests Jarvis manages and counts the others, so status stays one message.
    const shown = list.filter((vm) => vm.managed);
    const others = list.filter((vm) => !vm.managed);
    const running = others.filter((vm) => vm.status === 'running').length;
    return [
      ...(list.length === 0 ? ['none'] : []),
      ...shown.map((vm) => {
        const bits = [`${String(vm.vmid).padEnd(4)} ${vm.name.padEnd(16)} ${vm.status}`];
        if (vm.status === 'running' && vm.uptimeSeconds !== undefined) bits.push(`up ${formatDuration(vm.uptimeSeconds)}`);
        if (vm.agent !== undefined) bits.push(vm.agent ? 'agent' : 'no agent');
        if (vm.lock) bits.push(`lock: ${vm.lock}`);
        if (vm.template) bits.push('template');
        if (vm.tags.length > 0) bits.push(`tags: ${vm.tags.join(',')}`);
        return bits.join('  ');
      }),
      ...(others.length > 0
        ? [`+ ${others.length} other guest${others.length === 1 ? '' : 's'} not in the spec or a backup job (${running} running, ${others.length - running} stopped)`]
        : []),
    ];
  });
  section(lines, `Backups`, report.backups, (b) => [
    // Guests no job covers and with no backup are named once, in the not-covered line.
    ...b.perVm.filter((vm) => vm.last || vm.jobs.length > 0).map((vm) => {
      const last = vm.last
        ? `${vm.last.ok ? 'ok' : 'FAILED'} ${formatAge(vm.last.ageHours)}`
        : vm.firstBackupDue
          ? `first backup due ${formatWhen(vm.firstBackupDue, report.generatedAt)}`
          : `none in ${Math.round(b.windowHours)} h`;
      const good = vm.last && !vm.last.ok ? (vm.lastGood ? `, last good ${formatAge(vm.lastGood.ageHours)}` : ', no good one seen') : '';
      const jobs = vm.jobs.length > 0 ? `  job: ${vm.jobs.join(',')}` : '';
      return `${MARK[vm.level]} ${String(vm.vmid).padEnd(4)} ${vm.name.padEnd(16)} ${last}${good}${jobs}`;
    }),
    ...(b.notCovered.length > 0 ? [`⚠ not covered by any job: ${listFirst(b.notCovered.map((g) => `${g.vmid}${g.name ? ` (${g.name})` : ''}`), 20)}`] : []),
    ...b.jobs.map((j) => `job ${j.id}: ${j.selection} → ${j.storage ?? '?'} at ${j.schedule ?? '?'}${j.enabled ? '' : ' (disabled)'}`),
    // Every failed task with its UPID (for /jarvis log), those a later backup fixed marked as history.
    ...b.failedTasks.slice(0, FAILED_TASKS_SHOWN).map((f) => {
      const vms = f.vmids.length > 0 ? `VM ${f.vmids.join(', ')}` : 'guests unknown (log not read)';
      const error = f.error.replace(/^ERROR: Backup of VM \d+ failed - /, '');
      return `${f.recovered ? '↺' : '✗'} ${formatAge(f.ageHours)} ${vms} failed: ${error}${f.recovered ? ' (fixed by a later backup)' : ''} · task ${f.upid}`;
    }),
    ...(b.failedTasks.length > FAILED_TASKS_SHOWN ? [`… ${b.failedTasks.length - FAILED_TASKS_SHOWN} older failed tasks in the last ${Math.round(b.windowHours)} h`] : []),
  ]);
  section(lines, 'ZFS', report.zfsPools, (pools) =>
    pools.length === 0 ? ['no pools'] : pools.map((p) => `${MARK[p.level]} ${p.name} ${p.health} ${bar(p.usedPercent)} ${p.usedPercent}%${p.detail ? `  ${p.detail}` : ''}`),
  );
  section(lines, 'Datasets', report.datasets, (list) =>
    list.map((d) => {
      const snap = d.newestSnapshot ? `newest snapshot ${formatAge(d.newestSnapshot.ageHours)}` : 'no snapshot';
      return `${MARK[d.level]} ${d.name}  ${snap}${d.policy ? `  (${d.policy} policy)` : ''}`;
    }),
  );
  section(lines, 'Tailnet', report.tailnet, (t) => [
    `${t.online}/${t.total} devices online${t.funnelTargets.length > 0 ? `  ✗ Funnel: ${t.funnelTargets.join(', ')}` : '  no Funnel'}`,
    ...t.keysExpiringSoon.map((k) => (k.inDays <= 0 ? `✗ key of ${k.hostname} expired ${k.expires}` : `⚠ key of ${k.hostname} expires ${k.expires}`)),
    ...t.routesAwaitingApproval.map((r) => `⚠ ${r.hostname} routes awaiting approval: ${r.routes.join(', ')}`),
  ]);
  const g = report.gates;
  lines.push({
    title: 'Gates',
    lines: [
      `lock ${g.lock ? `held by ${g.lock.holder} since ${g.lock.since}` : 'free'}; ` +
        `${g.freeze ? `frozen by ${g.freeze.by} since ${g.freeze.since}` : 'not frozen'}; ` +
        `${g.pendingPlans.length} pending plan${g.pendingPlans.length === 1 ? '' : 's'}${g.pendingPlans.length > 0 ? ` (${g.pendingPlans.map((p) => `${p.id} ${p.phase}`).join(', ')})` : ''}`,
    ],
  });
  if (report.watchers) {
    lines.push({
      title: 'Watchers',
      lines: report.watchers.map((w) => {
        const last = w.lastRoundAt ? `last round ${formatAge((Date.parse(report.generatedAt) - Date.parse(w.lastRoundAt)) / 3_600_000)}` : `no round yet (started ${w.since})`;
        return `${MARK[w.level]} ${w.name}: ${last}, every ${formatDuration(w.everySeconds)}${w.level === 'critical' ? ' — STALLED: no alert is raised' : ''}`;
      }),
    });
  }
  section(lines, 'Drift', report.drift, (d) => {
    const when = d.checkedAt ? ` (checked ${d.checkedAt})` : '';
    return d.actionCount === 0 ? [`none${when}`] : [`${d.actionCount} change(s) against the ${d.phase} spec${when}`, ...d.lines.slice(0, 8)];
  });
  return lines;
}

/** `all good` or `N things need attention` (the items follow, one per line). */
export const headlineCount = (report: StatusReport): string =>
  report.attention.length === 0 ? 'all good' : `${report.attention.length} thing${report.attention.length === 1 ? ' needs' : 's need'} attention`;

export function renderStatusText(report: StatusReport): string {
  const lines = [`${MARK[report.level]} ${headlineCount(report)}`, ...report.attention.map((a) => `  ${MARK[a.level]} ${a.text}`)];
  for (const s of statusSections(report)) lines.push(s.title, ...s.lines.map((l) => `  ${l}`));
  return `${lines.join('\n')}\n`;
}
