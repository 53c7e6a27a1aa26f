// What needs the owner, from a status report's sections: the headline's items, most urgent first. The watchers raise
// their alerts from the same judgements (backupLateness), so `status` and `watch` agree on how bad a thing is.
import type { JarvisConfig } from '../lib/config.ts';
import type { Fact } from '../planner/state.ts';
import { formatDuration } from './render-status.ts';
import type { Attention, StatusReport, VmBackupSummary } from './types.ts';

export type Thresholds = Pick<
  JarvisConfig['alerts'],
  'backupWarnHours' | 'backupCritHours' | 'snapshotMaxAgeHours' | 'storageWarnPercent' | 'keyExpiryWarnDays'
>;

const vmLabel = (vmid: number, name?: string): string => (name ? `VM ${vmid} (${name})` : `VM ${vmid}`);
/** A headline stays readable with a thousand guests: name a few, count the rest. */
const NAMED_IN_HEADLINE = 5;
const listSome = (items: string[]): string =>
  items.length <= NAMED_IN_HEADLINE ? items.join(', ') : `${items.slice(0, NAMED_IN_HEADLINE).join(', ')} and ${items.length - NAMED_IN_HEADLINE} more`;
const formatAgeShort = (hours: number): string => (hours < 1 ? `${Math.max(0, Math.round(hours * 60))} min ago` : `${Math.round(hours)} h ago`);

/**
 * How late a guest's last good backup is against the thresholds, or undefined when it is in time or its first
 * backup is not due yet (a guest younger than its job's interval).
 */
export function backupLateness(vm: VmBackupSummary, windowHours: number, t: Pick<Thresholds, 'backupWarnHours' | 'backupCritHours'>): { level: 'warn' | 'critical'; hours: number; since: string } | undefined {
  if (vm.firstBackupDue) return undefined;
  const goodAge = vm.lastGood?.ageHours;
  if (goodAge !== undefined && goodAge < t.backupWarnHours) return undefined;
  const critical = goodAge === undefined ? windowHours >= t.backupCritHours : goodAge >= t.backupCritHours;
  return {
    level: critical ? 'critical' : 'warn',
    hours: critical ? t.backupCritHours : t.backupWarnHours,
    since: goodAge === undefined ? `none in the last ${Math.round(windowHours)} h` : `last good backup ${formatAgeShort(goodAge)}`,
  };
}

function backupAttention(backups: NonNullable<Extract<StatusReport['backups'], { known: true }>['value']>, t: Thresholds): Attention[] {
  const out: Attention[] = [];
  const { notCovered, windowHours } = backups;
  const uncovered = new Set(notCovered.map((g) => g.vmid));
  for (const b of backups.perVm) {
    // A guest no job covers and that never had a backup is one problem, named once below.
    if (uncovered.has(b.vmid) && !b.last) continue;
    if (b.last && !b.last.ok) {
      // A failure a later good backup fixed is history (the Backups section lists it); the last attempt is what counts.
      const error = (b.last.error ?? 'unknown error').replace(/^ERROR: Backup of VM \d+ failed - /, '');
      const good = b.lastGood ? `; last good backup ${formatAgeShort(b.lastGood.ageHours)}` : '';
      out.push({ level: 'critical', section: 'backups', text: `backup of ${vmLabel(b.vmid, b.name)} failed ${formatAgeShort(b.last.ageHours)}: ${error}${good}` });
      continue;
    }
    const late = backupLateness(b, windowHours, t);
    if (!late) continue;
    const text =
      b.lastGood === undefined
        ? `no successful backup of ${vmLabel(b.vmid, b.name)} in the last ${Math.round(windowHours)} h`
        : `last good backup of ${vmLabel(b.vmid, b.name)} was ${formatAgeShort(b.lastGood.ageHours)} (${late.level === 'critical' ? 'critical' : 'warning'} after ${late.hours} h)`;
    out.push({ level: late.level, section: 'backups', text });
  }
  const backedUp = new Set(backups.perVm.filter((b) => b.last).map((b) => b.vmid));
  const labels = notCovered.map((g) => vmLabel(g.vmid, g.name));
  const unbacked = notCovered.filter((g) => !backedUp.has(g.vmid)).length;
  if (notCovered.length === 1) {
    const suffix = unbacked === 1 ? ` (no backup in ${Math.round(windowHours)} h)` : '';
    out.push({ level: 'warn', section: 'backups', text: `${labels[0]} is not covered by any backup job${suffix}` });
  } else if (notCovered.length > 1) {
    const suffix = unbacked > 0 ? ` (${unbacked} without a backup in ${Math.round(windowHours)} h)` : '';
    out.push({ level: 'warn', section: 'backups', text: `${notCovered.length} guests are not covered by any backup job${suffix}: ${listSome(labels)}` });
  }
  return out;
}

export function attentionOf(report: Omit<StatusReport, 'headline' | 'level' | 'attention'>, thresholds: Thresholds): Attention[] {
  const out: Attention[] = [];
  if (report.unreadable) {
    // One item for the cause; each part it left unknown would only repeat it.
    out.push({ level: 'critical', section: 'node', text: `Jarvis cannot read Proxmox, so nothing below is current: ${report.unreadable.reason}; ${report.unreadable.fix}` });
  } else {
    const unknownPart = (section: Attention['section'], what: string, fact: Fact<unknown> | undefined): void => {
      if (fact && !fact.known) out.push({ level: 'unknown', section, text: `${what} unknown: ${fact.reason}` });
    };
    unknownPart('node', 'node status', report.node);
    unknownPart('storage', 'storage usage', report.storages);
    unknownPart('vms', 'guests', report.vms);
    unknownPart('backups', 'backups', report.backups);
    unknownPart('zfs', 'ZFS pools', report.zfsPools);
    unknownPart('datasets', 'datasets', report.datasets);
    unknownPart('tailnet', 'tailnet', report.tailnet);
    unknownPart('drift', 'drift', report.drift);
  }
  for (const w of report.watchers ?? []) {
    if (w.level !== 'critical') continue;
    const last = w.lastRoundAt ? `last completed round ${w.lastRoundAt}` : `no round completed since it started at ${w.since}`;
    out.push({ level: 'critical', section: 'watchers', text: `the ${w.name} watchers are stalled (${last}; they run every ${formatDuration(w.everySeconds)}): no alert is raised meanwhile` });
  }

  if (report.storages.known) {
    for (const s of report.storages.value) {
      if (s.level === 'warn' || s.level === 'critical') out.push({ level: s.level, section: 'storage', text: `storage ${s.storage}: ${s.notes.join(', ')}` });
    }
  }
  if (report.backups.known) out.push(...backupAttention(report.backups.value, thresholds));
  if (report.zfsPools.known) {
    for (const p of report.zfsPools.value) {
      if (p.level === 'warn' || p.level === 'critical') {
        out.push({ level: p.level, section: 'zfs', text: `pool ${p.name}: ${p.health}, ${p.usedPercent}% used${p.detail ? ` (${p.detail})` : ''}` });
      }
    }
  }
  if (report.datasets?.known) {
    for (const d of report.datasets.value) {
      if (d.level === 'warn') {
        const age = d.newestSnapshot ? `newest snapshot ${Math.round(d.newestSnapshot.ageHours)} h old` : 'no snapshot';
        out.push({ level: 'warn', section: 'datasets', text: `dataset ${d.name}: ${age} (max ${thresholds.snapshotMaxAgeHours} h)` });
      }
    }
  }
  if (report.tailnet?.known) {
    const tn = report.tailnet.value;
    if (tn.funnelTargets.length > 0) {
      out.push({ level: 'critical', section: 'tailnet', text: `Funnel allowed for ${tn.funnelTargets.join(', ')} (public exposure breaks the Tailscale-only rule)` });
    }
    for (const k of tn.keysExpiringSoon) {
      const when = k.inDays <= 0 ? 'has expired' : `expires in ${k.inDays} d`;
      out.push({ level: k.inDays <= 0 ? 'critical' : 'warn', section: 'tailnet', text: `tailnet key of ${k.hostname} ${when}` });
    }
    for (const r of tn.routesAwaitingApproval) {
      out.push({ level: 'warn', section: 'tailnet', text: `routes of ${r.hostname} await approval: ${r.routes.join(', ')}` });
    }
  }
  if (report.drift?.known && report.drift.value.actionCount > 0) {
    const d = report.drift.value;
    out.push({ level: 'warn', section: 'drift', text: `drift from the ${d.phase} spec: ${d.actionCount} change${d.actionCount === 1 ? '' : 's'}` });
  }
  const rank = { critical: 0, warn: 1, unknown: 2 } as const;
  return out.sort((a, b) => rank[a.level] - rank[b.level]);
}
