// The watchers: read the lab (collect), derive alerts (backup failures by UPID, absence/freshness/capacity/tailnet,
// drift on change), pass each through the store's hygiene (once per UPID, cooldown, snooze, quiet hours) and deliver
// what is news. runWatchers() is one pass; scheduleWatchers() repeats it with croner (no overlapping runs); the
// webhook path (handleWebhookNotification) re-reads the failed tasks so its alerts share the polled UPID keys.
import { createHash } from 'node:crypto';
import { Cron } from 'croner';
import type { JarvisConfig } from '../lib/config.ts';
import {
  backupFailureAlerts,
  conditionAlerts,
  driftAlert,
  inQuietHours,
  LAB_UNREADABLE_KEY,
  labUnreadableAlert,
  recoveredAlert,
  watcherStalledAlert,
  watcherStalledKey,
} from './alerts.ts';
import { watcherSummaries, type AlertStore } from './alert-store.ts';
import { collect, type Collected, type MonitorPorts, type Unreadable } from './collect.ts';
import { buildStatus, type Thresholds } from './status.ts';
import { scrubSecrets } from '../lib/secret.ts';
import { known, unknown, type Fact } from '../planner/state.ts';
import type { Alert, DriftSummary, StatusReport } from './types.ts';
import type { WebhookNotification } from './webhook.ts';

export type WatchThresholds = Thresholds & Pick<JarvisConfig['alerts'], 'cooldownMinutes' | 'quietHours'> & { timeZone?: string };

export interface WatchOptions {
  ports: MonitorPorts;
  store: AlertStore;
  thresholds: WatchThresholds;
  /** Unix milliseconds of this run. */
  now: number;
  /** A scheduled plan against the spec; undefined = no drift. Omit to skip the drift watch. */
  drift?: () => Promise<DriftSummary | undefined>;
  deliver: (alert: Alert) => void | Promise<void>;
}

export interface WatchResult {
  /** Delivered in this run (including alerts held earlier and released now). */
  delivered: Alert[];
  /** Held for after quiet hours. */
  held: Alert[];
  suppressed: number;
  /** Parts that could not be read (drift, unreadable node). */
  problems: string[];
  /** Proxmox could not be read: the watchers raised (or had already raised) the lab-unreadable alert. */
  unreadable?: Unreadable;
  report: StatusReport;
}

/** Task history read per pass: long enough to see the last good backup of a VM past the critical threshold. */
export const historyHours = (t: Thresholds): number => Math.max(t.backupCritHours * 2, 7 * 24);

async function admitAll(options: WatchOptions, alerts: Alert[], result: Pick<WatchResult, 'delivered' | 'held'> & { suppressed: number }): Promise<void> {
  const hygiene = { cooldownMinutes: options.thresholds.cooldownMinutes, quietHours: options.thresholds.quietHours, timeZone: options.thresholds.timeZone };
  for (const alert of alerts) {
    const decision = options.store.admit(alert, hygiene, options.now);
    if (decision === 'suppress') result.suppressed += 1;
    else if (decision === 'hold') result.held.push(alert);
    else await deliverOrRequeue(options, alert, result.delivered);
  }
}

async function deliverOrRequeue(options: WatchOptions, alert: Alert, delivered: Alert[]): Promise<void> {
  try {
    await options.deliver(alert);
    delivered.push(alert);
  } catch (error) {
    options.store.requeue(alert);
    throw error;
  }
}

async function releaseHeld(options: WatchOptions, delivered: Alert[]): Promise<void> {
  if (inQuietHours(options.thresholds.quietHours, options.now, options.thresholds.timeZone)) return;
  for (const alert of options.store.releaseHeld(options.now)) await deliverOrRequeue(options, alert, delivered);
}

export async function runWatchers(options: WatchOptions): Promise<WatchResult> {
  const [collected, drift] = await Promise.all([
    collect(options.ports, { now: options.now, historyHours: historyHours(options.thresholds) }),
    options.drift ? readDrift(options.drift) : undefined,
  ]);
  const driftFact = drift && (drift.fact.known ? (drift.fact.value ? known(drift.fact.value) : undefined) : unknown<DriftSummary>(drift.fact.reason));
  const report = buildStatus(collected, { now: options.now, thresholds: options.thresholds, drift: driftFact });
  const result: WatchResult = { delivered: [], held: [], suppressed: 0, problems: [], ...(collected.unreadable ? { unreadable: collected.unreadable } : {}), report };
  if (drift && !drift.fact.known) result.problems.push(`drift: ${drift.fact.reason}`);
  if (collected.unreadable) result.problems.push(collected.unreadable.reason);

  await releaseHeld(options, result.delivered);
  // Not being able to read the lab is itself the most urgent alert; its end is said once.
  const since = collected.unreadable ? undefined : options.store.recover(LAB_UNREADABLE_KEY);
  const alerts = [
    ...(collected.unreadable ? [labUnreadableAlert(collected.unreadable, options.now)] : []),
    ...(since !== undefined ? [recoveredAlert(LAB_UNREADABLE_KEY, since, options.now)] : []),
    ...backupFailureAlerts(collected, options.now),
    ...conditionAlerts(report, options.thresholds, options.now),
  ];
  if (drift?.fact.known) {
    const summary = drift.fact.value;
    if (summary) options.store.saveDrift(summary);
    if (summary && summary.actionCount > 0) alerts.push(driftAlert(summary, options.now));
    else options.store.resolve('drift');
  }
  await admitAll(options, alerts, result);
  return result;
}

async function readDrift(read: () => Promise<DriftSummary | undefined>): Promise<{ fact: Fact<DriftSummary | undefined> }> {
  try {
    return { fact: known(await read()) };
  } catch (error) {
    return { fact: unknown(scrubSecrets(error instanceof Error ? error.message : String(error))) };
  }
}

/**
 * A Proxmox notification arrived. For a backup failure, re-read the failed vzdump tasks: their alerts carry the same
 * `backup-failed:<UPID>` keys as the polled ones, so a failure seen by both paths is delivered once. Only when the
 * node cannot be read, or it shows no failed task, is the notification itself turned into an alert.
 */
export async function handleWebhookNotification(options: WatchOptions, notification: WebhookNotification): Promise<Alert[]> {
  if (!notification.backupFailure) return [];
  const collected = await collect(options.ports, { now: options.now, historyHours: historyHours(options.thresholds) });
  const polled = backupFailureAlerts(collected, options.now);
  const result = { delivered: [] as Alert[], held: [] as Alert[], suppressed: 0 };
  const known = new Set(polled.map((a) => a.key));
  const keyOfNotification = notification.upid ? `backup-failed:${notification.upid}` : undefined;
  const covered = keyOfNotification ? known.has(keyOfNotification) || options.store.get(keyOfNotification) !== undefined : polled.length > 0;
  const alerts = covered ? polled : [...polled, notificationAlert(notification, collected, options.now)];
  await admitAll(options, alerts, result);
  return result.delivered;
}

function notificationAlert(n: WebhookNotification, collected: Collected, now: number): Alert {
  const key = n.upid
    ? `backup-failed:${n.upid}`
    : `backup-failed:webhook:${createHash('sha256').update(`${n.title}\n${n.message}`).digest('hex').slice(0, 16)}`;
  const errorLine = n.message.split('\n').find((l) => /error|failed/i.test(l))?.trim();
  return {
    key,
    kind: 'backup-failed',
    severity: 'critical',
    title: `Backup failed${n.vmids.length > 0 ? `: VM ${n.vmids.join(', ')}` : ''} (from a Proxmox notification)`,
    lines: [
      `job: ${n.jobId ?? 'not named by the notification'}`,
      `VM: ${n.vmids.length > 0 ? n.vmids.join(', ') : 'not named by the notification'}`,
      `error: ${errorLine ?? n.title}`,
      ...(collected.unreadable ? [`Proxmox not readable for details: ${collected.unreadable.reason}`] : []),
      ...(n.upid ? [`task: ${n.upid}`] : []),
    ],
    logTail: n.message.split('\n').slice(-12),
    actions: [...(n.upid ? [{ id: `show-log:${n.upid}`, label: 'Show log' }] : []), ...n.vmids.map((vmid) => ({ id: `plan-retry:${vmid}`, label: `Plan a retry of VM ${vmid}` }))],
    raisedAt: new Date(now).toISOString(),
  };
}

export interface ScheduledWatch {
  stop(): void;
  nextRun(): Date | null;
}

export interface ScheduleHooks {
  onResult?: (result: WatchResult) => void;
  onError?: (error: unknown) => void;
  timezone?: string;
  /**
   * The loop's name in the heartbeat table (`bot`, `watch`): each completed round is recorded, status shows it, and a
   * loop that completes no round in twice its interval is alerted (and its return announced once).
   */
  heartbeat?: string;
}

/** Runs the watchers on a cron schedule; `protect` skips a tick while the previous pass still runs. */
export function scheduleWatchers(schedule: string, options: Omit<WatchOptions, 'now'>, hooks: ScheduleHooks = {}): ScheduledWatch {
  const name = hooks.heartbeat;
  const job = new Cron(
    schedule,
    { protect: true, timezone: hooks.timezone, catch: (error: unknown) => hooks.onError?.(error) },
    async () => {
      const result = await runWatchers({ ...options, now: Date.now() });
      if (name) await beat(options, name);
      hooks.onResult?.(result);
    },
  );
  const [first, second] = job.nextRuns(2);
  const everyMs = first && second ? second.getTime() - first.getTime() : 60_000;
  let watchdog: NodeJS.Timeout | undefined;
  if (name) {
    options.store.startWatcher(name, everyMs, Date.now());
    // The watchdog runs beside the rounds, so a round that hangs (a request, a delivery) is reported, not waited for.
    watchdog = setInterval(() => void checkStalled(options, name).catch((error: unknown) => hooks.onError?.(error)), everyMs);
    watchdog.unref();
  }
  return {
    stop: () => {
      job.stop();
      clearInterval(watchdog);
      if (name) options.store.stopWatcher(name);
    },
    nextRun: () => job.nextRun(),
  };
}

/** A round completed: record it, and say once that a loop reported stalled works again. */
async function beat(options: Omit<WatchOptions, 'now'>, name: string): Promise<void> {
  const now = Date.now();
  options.store.watcherRound(name, now);
  const since = options.store.recover(watcherStalledKey(name));
  if (since !== undefined) await admitAll({ ...options, now }, [recoveredAlert(watcherStalledKey(name), since, now)], { delivered: [], held: [], suppressed: 0 });
}

async function checkStalled(options: Omit<WatchOptions, 'now'>, name: string): Promise<void> {
  const now = Date.now();
  const stalled = watcherSummaries(options.store.watchers(), now).find((w) => w.name === name && w.level === 'critical');
  if (stalled) await admitAll({ ...options, now }, [watcherStalledAlert(stalled, now)], { delivered: [], held: [], suppressed: 0 });
}
