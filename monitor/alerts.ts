// What the watchers raise: pure functions from what collect() read (and the status built from it) to Alerts, and
// the hygiene rules (once per UPID, cooldown per key, change-only drift, snooze, quiet hours) as a pure decision.
// The store (alert-store.ts) applies the decision atomically across runs, restarts and the webhook path.
import { backupLateness } from './attention.ts';
import { jobCovers } from './backup-jobs.ts';
import { backupOutcomes, failedBackupTasks, recoveredSince } from './backups.ts';
import type { Collected } from './collect.ts';
import { formatAge, formatDuration } from './render-status.ts';
import type { Alert, AlertAction, DriftSummary, Severity, StatusReport } from './types.ts';

const HOUR = 3600;
const iso = (unixSeconds: number): string => new Date(unixSeconds * 1000).toISOString();

function vmNames(collected: Collected): Map<number, string> {
  const names = new Map<number, string>();
  if (collected.resources.known) {
    for (const r of collected.resources.value) if (r.vmid !== undefined && r.name) names.set(r.vmid, r.name);
  }
  return names;
}

const vmLabel = (vmid: number, names: Map<number, string>): string => (names.has(vmid) ? `${vmid} (${names.get(vmid)})` : String(vmid));

export const showLogAction = (upid: string): AlertAction => ({ id: `show-log:${upid}`, label: 'Show log' });
export const planRetryAction = (vmid: number): AlertAction => ({ id: `plan-retry:${vmid}`, label: `Plan a retry of VM ${vmid}` });

/**
 * One alert per failed vzdump task, keyed by its UPID (the webhook path uses the same key). A failure every guest of
 * which was backed up fine since is history, as in status: it raises nothing.
 */
export function backupFailureAlerts(collected: Collected, now: number): Alert[] {
  const names = vmNames(collected);
  const outcomes = backupOutcomes(collected);
  const jobs = collected.backupJobs.known ? collected.backupJobs.value : [];
  return failedBackupTasks(collected).filter((failed) => !recoveredSince(failed, outcomes)).map((failed) => {
    const { task } = failed;
    const vms = failed.vmids.map((vmid) => vmLabel(vmid, names));
    const lastGood = failed.vmids.map((vmid) => {
      const good = outcomes.find((o) => o.vmid === vmid && o.ok);
      const age = good ? formatAge((now / 1000 - good.at) / HOUR) : `none seen in the last ${Math.round((now / 1000 - collected.tasksSince) / HOUR)} h`;
      return `last good backup of ${vmid}: ${age}`;
    });
    const covering = [...new Set(failed.vmids.flatMap((vmid) => jobs.filter((j) => jobCovers(j, vmid)).map((j) => j.id)))];
    const job = failed.jobId
      ? `job: ${failed.jobId}`
      : `job: not named in the task log${covering.length > 0 ? ` (the VM is in ${covering.join(', ')})` : ''}`;
    return {
      key: `backup-failed:${task.upid}`,
      kind: 'backup-failed',
      severity: 'critical',
      title: `Backup failed: VM ${vms.length > 0 ? vms.join(', ') : '(unknown: log not read)'}`,
      lines: [
        job,
        `VM: ${vms.length > 0 ? vms.join(', ') : 'unknown'}`,
        `error: ${failed.errorLine}`,
        `started ${iso(task.starttime)}${failed.durationSeconds !== undefined ? `, took ${formatDuration(failed.durationSeconds)}` : ''}`,
        ...lastGood,
        `task: ${task.upid}`,
        ...(failed.logUnknown ? [`log: unknown (${failed.logUnknown})`] : []),
      ],
      logTail: failed.logTail,
      actions: [showLogAction(task.upid), ...failed.vmids.map(planRetryAction)],
      raisedAt: new Date(now).toISOString(),
    };
  });
}

/** Conditions that hold for a while (absence, freshness, capacity, tailnet, Funnel); one key per condition. */
export function conditionAlerts(report: StatusReport, thresholds: { backupWarnHours: number; backupCritHours: number }, now: number): Alert[] {
  const raisedAt = new Date(now).toISOString();
  const out: Alert[] = [];
  const sev = (level: string): Severity => (level === 'critical' ? 'critical' : 'warning');

  if (report.backups.known) {
    const window = report.backups.value.windowHours;
    const uncovered = report.backups.value.notCovered;
    const neverBackedUp = new Set(report.backups.value.perVm.filter((vm) => !vm.last).map((vm) => vm.vmid));
    // Guests no job selects are one deliberate-or-not choice, so one alert that changes with the set, not one each.
    const silent = uncovered.filter((g) => neverBackedUp.has(g.vmid));
    if (silent.length > 0) {
      const ids = silent.map((g) => g.vmid).sort((a, b) => a - b);
      out.push({
        key: 'backup-uncovered',
        kind: 'backup-missing',
        severity: 'warning',
        title:
          silent.length === 1
            ? `VM ${silent[0]!.vmid}${silent[0]!.name ? ` (${silent[0]!.name})` : ''} is not covered by any backup job and has no backup in ${Math.round(window)} h`
            : `${silent.length} guests are not covered by any backup job and have no backup in ${Math.round(window)} h`,
        lines: [
          `guests: ${silent.slice(0, 10).map((g) => (g.name ? `${g.vmid} (${g.name})` : String(g.vmid))).join(', ')}${silent.length > 10 ? ` and ${silent.length - 10} more` : ''}`,
          'add them to a backup job, or ignore this if they are disposable',
        ],
        actions: [],
        raisedAt,
        fingerprint: ids.join(','),
      });
    }
    for (const vm of report.backups.value.perVm) {
      if (silent.some((g) => g.vmid === vm.vmid)) continue;
      // The same judgement as the status headline: a guest whose first backup is not due yet is not late.
      const late = backupLateness(vm, window, thresholds);
      if (!late) continue;
      out.push({
        key: `backup-missing:${vm.vmid}`,
        kind: 'backup-missing',
        severity: late.level === 'critical' ? 'critical' : 'warning',
        title: `No successful backup of VM ${vm.vmid} (${vm.name}) within ${late.hours} h`,
        lines: [
          late.since,
          vm.jobs.length > 0 ? `jobs: ${vm.jobs.join(', ')}` : 'not covered by any backup job',
          ...(vm.last && !vm.last.ok ? [`last attempt failed ${formatAge(vm.last.ageHours)}: ${vm.last.error ?? 'unknown error'}`, `task: ${vm.last.upid}`] : []),
        ],
        actions: [...(vm.last && !vm.last.ok ? [showLogAction(vm.last.upid)] : []), planRetryAction(vm.vmid)],
        raisedAt,
      });
    }
  }
  if (report.storages.known) {
    for (const s of report.storages.value.filter((x) => x.level === 'warn' || x.level === 'critical')) {
      out.push({ key: `storage-full:${s.storage}`, kind: 'storage-full', severity: sev(s.level), title: `Storage ${s.storage}: ${s.notes.join(', ')}`, lines: s.notes, actions: [], raisedAt });
    }
  }
  if (report.zfsPools.known) {
    for (const p of report.zfsPools.value.filter((x) => x.level === 'warn' || x.level === 'critical')) {
      out.push({
        key: `pool:${p.name}`,
        kind: 'pool-unhealthy',
        severity: sev(p.level),
        title: `ZFS pool ${p.name}: ${p.health}, ${p.usedPercent}% used`,
        lines: p.detail ? [p.detail] : [],
        actions: [],
        raisedAt,
      });
    }
  }
  if (report.datasets?.known) {
    for (const d of report.datasets.value.filter((x) => x.level === 'warn')) {
      out.push({
        key: `snapshot-stale:${d.name}`,
        kind: 'snapshot-stale',
        severity: 'warning',
        title: `Dataset ${d.name}: ${d.newestSnapshot ? `newest snapshot ${formatAge(d.newestSnapshot.ageHours)}` : 'no snapshot'}`,
        lines: [`policy: ${d.policy ?? 'none'}`, ...(d.newestSnapshot ? [`snapshot: ${d.newestSnapshot.name}`] : [])],
        actions: [],
        raisedAt,
      });
    }
  }
  if (report.tailnet?.known) {
    const t = report.tailnet.value;
    for (const k of t.keysExpiringSoon) {
      out.push({
        key: `tailnet-key:${k.hostname}`,
        kind: 'tailnet-key-expiring',
        severity: k.inDays <= 0 ? 'critical' : 'warning',
        title: k.inDays <= 0 ? `Tailnet key of ${k.hostname} has expired` : `Tailnet key of ${k.hostname} expires in ${k.inDays} d`,
        lines: [`expires: ${k.expires}`, 'renew it (tailscale up --force-reauth) or disable key expiry for this device'],
        actions: [],
        raisedAt,
      });
    }
    if (t.funnelTargets.length > 0) {
      out.push({
        key: 'funnel',
        kind: 'funnel-exposure',
        severity: 'critical',
        title: 'Tailscale Funnel is allowed: public exposure breaks the Tailscale-only rule',
        lines: [`policy nodeAttrs grant funnel to: ${t.funnelTargets.join(', ')}`, 'remove the "funnel" attr from the policy file'],
        actions: [],
        raisedAt,
        fingerprint: [...t.funnelTargets].sort().join(','),
      });
    }
  }
  return out;
}

export function driftAlert(drift: DriftSummary, now: number): Alert {
  return {
    key: 'drift',
    kind: 'drift',
    severity: 'warning',
    title: `Drift from the ${drift.phase} spec: ${drift.actionCount} change${drift.actionCount === 1 ? '' : 's'} would bring the lab back`,
    lines: [...drift.lines.slice(0, 10), ...(drift.lines.length > 10 ? [`… and ${drift.lines.length - 10} more`] : []), ...(drift.planId ? [`plan: ${drift.planId}`] : [])],
    actions: [
      { id: `plan-fix:${drift.phase}`, label: 'Plan a fix' },
      { id: 'snooze:drift', label: 'Snooze' },
    ],
    raisedAt: new Date(now).toISOString(),
    fingerprint: drift.hash,
  };
}

/** Key of the alert that Jarvis cannot read Proxmox: one condition, re-sent only after the cooldown. */
export const LAB_UNREADABLE_KEY = 'lab-unreadable';
/** Key of the alert that a watcher loop stopped completing rounds. */
export const watcherStalledKey = (name: string): string => `watcher-stalled:${name}`;

export function labUnreadableAlert(unreadable: { reason: string; fix: string }, now: number): Alert {
  return {
    key: LAB_UNREADABLE_KEY,
    kind: 'lab-unreadable',
    severity: 'critical',
    title: 'Jarvis cannot read Proxmox: no backup, storage or drift alert can be raised until it can',
    lines: [`error: ${unreadable.reason}`, `fix: ${unreadable.fix}`],
    actions: [],
    raisedAt: new Date(now).toISOString(),
  };
}

export function watcherStalledAlert(watcher: { name: string; everySeconds: number; lastRoundAt?: string; since: string }, now: number): Alert {
  return {
    key: watcherStalledKey(watcher.name),
    kind: 'watcher-stalled',
    severity: 'critical',
    title: `The ${watcher.name} watchers have not completed a round in ${formatDuration((now - Date.parse(watcher.lastRoundAt ?? watcher.since)) / 1000)} (they run every ${formatDuration(watcher.everySeconds)})`,
    lines: [
      watcher.lastRoundAt ? `last completed round: ${watcher.lastRoundAt}` : `no round completed since it started at ${watcher.since}`,
      'a round is stuck (a hung request or chat delivery); no new alert is raised meanwhile: check the log, restart the bot if it stays stuck',
    ],
    actions: [],
    raisedAt: new Date(now).toISOString(),
  };
}

/** Said once when a condition announced earlier (lab unreadable, watchers stalled) is over. */
export function recoveredAlert(key: string, since: number, now: number): Alert {
  const what = key === LAB_UNREADABLE_KEY ? 'Jarvis can read Proxmox again' : `The ${key.slice(key.indexOf(':') + 1)} watchers complete their rounds again`;
  return {
    key: `recovered:${key}:${now}`,
    kind: 'recovered',
    severity: 'info',
    title: what,
    lines: [`since ${new Date(since).toISOString()} (${formatDuration((now - since) / 1000)}); alerts are current again`],
    actions: [],
    raisedAt: new Date(now).toISOString(),
  };
}

/** For `/jarvis alerts test`: always new, so delivery can be checked end to end. */
export function testAlert(now: number): Alert {
  return {
    key: `test:${now}`,
    kind: 'test',
    severity: 'info',
    title: 'Test alert from Jarvis',
    lines: ['If you can read this, alerts reach this channel.'],
    actions: [],
    raisedAt: new Date(now).toISOString(),
  };
}

// ── hygiene ────────────────────────────────────────────────────────────────────────────────────────────────────

/** What the store remembers about a key. */
export interface AlertRecord {
  key: string;
  severity: Severity;
  fingerprint?: string;
  /** Unix ms of the last delivery; undefined while only held. */
  deliveredAt?: number;
  snoozedUntil?: number;
  held: boolean;
}

export interface Hygiene {
  cooldownMinutes: number;
  /** `HH:MM-HH:MM`, local time of `timeZone`; may wrap midnight. */
  quietHours?: string;
  timeZone?: string;
}

export type Decision = 'deliver' | 'hold' | 'suppress';

/** Alerts that are news once: a failed task (by UPID) or a test. */
const ONCE_KINDS = new Set<Alert['kind']>(['backup-failed', 'recovered', 'test']);
const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export function inQuietHours(quietHours: string | undefined, now: number, timeZone?: string): boolean {
  if (!quietHours) return false;
  const [from, to] = quietHours.split('-').map((hm) => {
    const [h, m] = hm.split(':').map(Number);
    return h! * 60 + m!;
  }) as [number, number];
  const parts = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone }).formatToParts(new Date(now));
  const minutes = Number(parts.find((p) => p.type === 'hour')!.value) * 60 + Number(parts.find((p) => p.type === 'minute')!.value);
  return from <= to ? minutes >= from && minutes < to : minutes >= from || minutes < to;
}

/** Is this alert news, given what was delivered before? Quiet hours turn news into `hold`. */
export function decide(alert: Alert, record: AlertRecord | undefined, hygiene: Hygiene, now: number): Decision {
  let news: boolean;
  if (!record) news = true;
  else if (record.snoozedUntil !== undefined && record.snoozedUntil > now) news = false;
  else if (record.held) news = true; // still waiting for the end of quiet hours: keep the newest version held
  else if (ONCE_KINDS.has(alert.kind)) news = false;
  else if (alert.fingerprint !== undefined || record.fingerprint !== undefined) news = alert.fingerprint !== record.fingerprint;
  else if (SEVERITY_RANK[alert.severity] > SEVERITY_RANK[record.severity]) news = true;
  else news = record.deliveredAt === undefined || now - record.deliveredAt >= hygiene.cooldownMinutes * 60_000;
  if (!news) return 'suppress';
  return inQuietHours(hygiene.quietHours, now, hygiene.timeZone) ? 'hold' : 'deliver';
}
