// The alert watchers as `jarvis bot` and `jarvis watch` run them: the same options (ports, thresholds, the drift
// watch of JARVIS_DRIFT_PHASE) and the same loop, with a heartbeat under the loop's name so status shows it and a
// stalled loop is alerted.
import { isAbsolute, join } from 'node:path';
import type { JarvisConfig } from '../lib/config.ts';
import type { AlertStore } from '../monitor/alert-store.ts';
import type { MonitorPorts } from '../monitor/collect.ts';
import { InputError } from '../lib/errors.ts';
import { scanDrift } from '../monitor/drift.ts';
import type { Alert } from '../monitor/types.ts';
import { handleWebhookNotification, scheduleWatchers, type ScheduledWatch, type ScheduleHooks, type WatchOptions } from '../monitor/watch.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../monitor/webhook.ts';
import type { ScanPorts } from '../planner/index.ts';
import { defaultSpecFor, specPlace } from './planning.ts';

export interface WatcherInputs {
  ports: MonitorPorts;
  /** The same lab as the planner scans it, for the drift watch. */
  scanPorts: ScanPorts;
  config: JarvisConfig;
  /** Where a relative JARVIS_DRIFT_SPEC is found. */
  cwd: string;
  /** The simulated node's site, when the lab is simulated. */
  site?: string;
  store: AlertStore;
  deliver: (alert: Alert) => void | Promise<void>;
}

/** The drift watch plans JARVIS_DRIFT_PHASE (default phase0) against JARVIS_DRIFT_SPEC or the phase's spec; `off` turns it off. */
function driftWatch(input: WatcherInputs): WatchOptions['drift'] {
  const { phase, spec } = input.config.drift;
  if (phase === 'off') return undefined;
  const place = specPlace(input.config, { site: input.site });
  const display = spec ?? defaultSpecFor(phase, place.specsDir);
  const specPath = isAbsolute(display) ? display : join(input.cwd, display);
  return () => scanDrift({ ports: input.scanPorts, specPath, displayPath: display, phase, now: Date.now(), ...(place.site ? { site: place.site } : {}) });
}

export function watchOptions(input: WatcherInputs): Omit<WatchOptions, 'now'> {
  const drift = driftWatch(input);
  return { ports: input.ports, store: input.store, thresholds: input.config.alerts, deliver: input.deliver, ...(drift ? { drift } : {}) };
}

/** The watchers on JARVIS_WATCH_SCHEDULE, beating under `name` (`bot`, `watch`) until stopped. */
export function startWatchLoop(input: WatcherInputs & { name: string; hooks?: Omit<ScheduleHooks, 'heartbeat'> }): ScheduledWatch {
  return scheduleWatchers(input.config.alerts.schedule, watchOptions(input), { ...input.hooks, heartbeat: input.name });
}

/**
 * The Proxmox webhook receiver, when JARVIS_WEBHOOK_LISTEN is set: its notifications go through the same watchers as a
 * poll (same keys, same store), so `jarvis bot` and `jarvis watch` raise them alike. A listen address without its
 * secret, or one that means every address, is refused before anything listens.
 */
export async function startWebhook(input: WatcherInputs, warn: (message: string) => void): Promise<WebhookReceiver | undefined> {
  const { webhookListen, webhookSecret, webhookAllowWildcard } = input.config.alerts;
  if (!webhookListen) return undefined;
  if (!webhookSecret) throw new InputError('JARVIS_WEBHOOK_LISTEN is set but JARVIS_WEBHOOK_SECRET (or _FILE) is not');
  const options = watchOptions(input);
  return startWebhookReceiver({
    listen: webhookListen,
    secret: webhookSecret,
    allowWildcard: webhookAllowWildcard,
    warn,
    onNotification: async (n) => void (await handleWebhookNotification({ ...options, now: Date.now() }, n)),
  });
}
