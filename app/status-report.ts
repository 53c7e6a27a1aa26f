// The lab snapshot as `jarvis status` and `/jarvis status` build it (collect, gates, the watchers' store, the managed
// spec's guests), and as the generic `Report` of commands/services.ts: level, headline, then the items that need
// attention and one section per part of the lab.
import { isAbsolute, join } from 'node:path';
import type { Report } from '../commands/services.ts';
import type { JarvisConfig } from '../lib/config.ts';
import { readWatchState } from '../monitor/alert-store.ts';
import { collect, type MonitorPorts } from '../monitor/collect.ts';
import { readGates } from '../monitor/gates.ts';
import { headlineCount, statusSections } from '../monitor/render-status.ts';
import { buildStatus } from '../monitor/status.ts';
import type { StatusReport } from '../monitor/types.ts';
import { historyHours } from '../monitor/watch.ts';
import { loadSpec } from '../planner/spec/load.ts';
import { known } from '../planner/state.ts';
import { defaultSpecFor, specPlace } from './planning.ts';

/** The guests the managed spec names (the drift watch's phase, phase0 when off); undefined when it cannot be read. */
async function managedVmids(config: JarvisConfig, cwd: string, site: string | undefined): Promise<number[] | undefined> {
  const phase = config.drift.phase === 'off' ? 'phase0' : config.drift.phase;
  const place = specPlace(config, { site });
  const path = config.drift.spec ?? defaultSpecFor(phase, place.specsDir);
  try {
    const loaded = await loadSpec(isAbsolute(path) ? path : join(cwd, path), { cwd, ...(place.site ? { site: place.site } : {}) });
    return loaded.spec.vms.map((vm) => vm.vmid);
  } catch {
    return undefined; // status still answers; guests a backup job selects are listed then
  }
}

export async function labStatus(input: { ports: MonitorPorts; config: JarvisConfig; dataDir: string; cwd: string; now?: number; site?: string }): Promise<StatusReport> {
  const now = input.now ?? Date.now();
  const { config, dataDir } = input;
  const [collected, managed] = await Promise.all([collect(input.ports, { now, historyHours: historyHours(config.alerts) }), managedVmids(config, input.cwd, input.site)]);
  const gates = readGates(dataDir, now, config.approvalTtlMinutes);
  const { drift, watchers } = readWatchState(dataDir, now);
  return buildStatus(collected, {
    now,
    thresholds: config.alerts,
    ...gates,
    ...(drift ? { drift: known(drift) } : {}),
    ...(watchers ? { watchers } : {}),
    ...(managed ? { managedVmids: managed } : {}),
  });
}

export function statusToReport(report: StatusReport): Report {
  const attention = report.attention.map((a) => `${a.level === 'critical' ? '✗' : a.level === 'warn' ? '⚠' : '?'} ${a.text}`);
  return {
    level: report.level,
    // The items follow in "Needs attention"; a chat title has room for the count (Discord cuts titles at 256).
    headline: headlineCount(report),
    sections: [...(attention.length > 0 ? [{ title: 'Needs attention', lines: attention }] : []), ...statusSections(report)],
  };
}
