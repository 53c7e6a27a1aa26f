import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertStore, watcherSummaries } from '../../monitor/alert-store.ts';
import type { Alert, DriftSummary } from '../../monitor/types.ts';
import { runWatchers, scheduleWatchers, type WatchOptions, type WatchResult } from '../../monitor/watch.ts';
import { fakeProxmox, fakeTailnet, FAILED_MANUAL, FAILED_RUN, LOGS, NOW, TASKS, THRESHOLDS } from './fixtures.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'jarvis-watch-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function options(store: AlertStore, over: Partial<WatchOptions> = {}): WatchOptions & { sent: Alert[] } {
  const sent: Alert[] = [];
  return { ports: { proxmox: fakeProxmox(), tailnet: fakeTailnet() }, store, thresholds: THRESHOLDS, now: NOW, deliver: (a) => void sent.push(a), sent, ...over };
}

describe('runWatchers', () => {
  it('raises one alert per failed backup task, and nothing already raised after a restart', async () => {
    const first = AlertStore.open(dir);
    const run1 = options(first);
    const result = await runWatchers(run1);
    first.close();
    const failed = run1.sent.filter((a) => a.kind === 'backup-failed').map((a) => a.key);
    expect(failed).toEqual([`backup-failed:${FAILED_MANUAL}`, `backup-failed:${FAILED_RUN}`]);
    expect(result.delivered).toEqual(run1.sent);
    expect(run1.sent.map((a) => a.key)).toContain('tailnet-key:edge-gateway');

    const second = AlertStore.open(dir);
    const run2 = options(second, { now: NOW + 5 * 60_000 });
    const again = await runWatchers(run2);
    second.close();
    expect(run2.sent).toEqual([]);
    expect(again.suppressed).toBe(run1.sent.length);
  });

  it('raises nothing for a failure a later backup of the same guests fixed: history, as in status', async () => {
    const store = AlertStore.open(dir);
    const later = { ...TASKS[0]!, upid: 'UPID:proxmox:00009999:0000ABCD:69254F00:vzdump::root@pam:', starttime: NOW / 1000 - 3600, endtime: NOW / 1000 - 3000 };
    const run = options(store, { ports: { proxmox: fakeProxmox({ listTasks: async () => [...TASKS, later], taskLog: async (u) => LOGS[u === later.upid ? TASKS[0]!.upid : u] ?? [] }), tailnet: fakeTailnet() } });
    await runWatchers(run);
    store.close();
    expect(run.sent.filter((a) => a.kind === 'backup-failed' || a.key.startsWith('backup-missing:'))).toEqual([]);
  });

  it('raises a drift alert once while the drift is unchanged, again when it changes, and after it was fixed and came back', async () => {
    const store = AlertStore.open(dir);
    let drift: DriftSummary | undefined = { phase: 'phase0', actionCount: 1, lines: ['~ vm/100 (edge-gateway): tags'], hash: 'h1' };
    const driftAlerts: Alert[] = [];
    const run = async (minutes: number) => {
      const o = options(store, { now: NOW + minutes * 60_000, drift: async () => drift, deliver: (a) => void (a.kind === 'drift' && driftAlerts.push(a)) });
      await runWatchers(o);
      return driftAlerts.length;
    };
    expect(await run(0)).toBe(1);
    expect(await run(10)).toBe(1);
    expect(await run(24 * 60)).toBe(1);
    drift = { ...drift, actionCount: 2, lines: [...drift.lines, '+ bridge/vmbr1'], hash: 'h2' };
    expect(await run(24 * 60 + 10)).toBe(2);
    drift = undefined;
    expect(await run(24 * 60 + 20)).toBe(2);
    drift = { phase: 'phase0', actionCount: 2, lines: [], hash: 'h2' };
    expect(await run(24 * 60 + 30)).toBe(3);
    store.close();
  });

  it('holds alerts during quiet hours and delivers them once afterwards', async () => {
    const store = AlertStore.open(dir);
    const quiet = { ...THRESHOLDS, quietHours: '00:00-07:30' };
    const night = options(store, { thresholds: quiet, now: Date.parse('2026-11-25T06:00:00Z') });
    const held = await runWatchers(night);
    expect(night.sent).toEqual([]);
    expect(held.held.length).toBeGreaterThan(0);
    const morning = options(store, { thresholds: quiet, now: NOW });
    await runWatchers(morning);
    expect(morning.sent.map((a) => a.key).sort()).toEqual(held.held.map((a) => a.key).sort());
    const later = options(store, { thresholds: quiet, now: NOW + 60_000 });
    await runWatchers(later);
    expect(later.sent).toEqual([]);
    store.close();
  });

  it('keeps an alert whose delivery failed for the next run', async () => {
    const store = AlertStore.open(dir);
    await expect(runWatchers(options(store, { deliver: () => Promise.reject(new Error('chat down')) }))).rejects.toThrow('chat down');
    const retry = options(store, { now: NOW + 60_000 });
    await runWatchers(retry);
    expect(retry.sent.length).toBeGreaterThan(0);
    store.close();
  });

  it('snooze silences a key until it ends', () => {
    const store = AlertStore.open(dir);
    const drift: Alert = { key: 'drift', kind: 'drift', severity: 'warning', title: 'd', lines: [], actions: [], raisedAt: '', fingerprint: 'h1' };
    const hygiene = { cooldownMinutes: 0 };
    expect(store.admit(drift, hygiene, NOW)).toBe('deliver');
    store.snooze('drift', NOW + 3_600_000, NOW);
    expect(store.admit({ ...drift, fingerprint: 'h2' }, hygiene, NOW + 60_000)).toBe('suppress');
    expect(store.admit({ ...drift, fingerprint: 'h2' }, hygiene, NOW + 3_600_001)).toBe('deliver');
    store.close();
  });

  it('the scheduler runs passes on its cron schedule and reports each result until stopped', async () => {
    const store = AlertStore.open(dir);
    const { now: _now, sent, ...base } = options(store);
    const results: WatchResult[] = [];
    const errors: unknown[] = [];
    await new Promise<void>((resolve) => {
      const job = scheduleWatchers('* * * * * *', base, {
        onResult: (r) => {
          results.push(r);
          job.stop();
          resolve();
        },
        onError: (e) => errors.push(e),
      });
      expect(job.nextRun()).toBeInstanceOf(Date);
    });
    expect(errors).toEqual([]);
    expect(results[0]!.delivered.length).toBeGreaterThan(0);
    expect(sent).toEqual(results[0]!.delivered);
    store.close();
  });

  it('a loop beats under its name: status sees it; one that completes no round in twice its interval is alerted once, and its return said once', async () => {
    const store = AlertStore.open(dir);
    const sent: Alert[] = [];
    let release: () => void = () => undefined;
    const hung = new Promise<undefined>((resolve) => (release = () => resolve(undefined)));
    const { now: _now, ...base } = options(store, { drift: () => hung, deliver: (a) => void sent.push(a) });
    const job = scheduleWatchers('* * * * * *', base, { heartbeat: 'bot' });
    expect(store.watchers()).toEqual([{ name: 'bot', everyMs: 1000, since: expect.any(Number) }]);
    const stalled = () => sent.filter((a) => a.key === 'watcher-stalled:bot');
    await waitUntil(() => stalled().length > 0, 'the stalled alert');
    expect(stalled()[0]).toMatchObject({ severity: 'critical', title: expect.stringMatching(/^The bot watchers have not completed a round in \d+ s \(they run every 1 s\)$/) });
    expect(watcherSummaries(store.watchers(), Date.now())).toEqual([expect.objectContaining({ name: 'bot', level: 'critical' })]);

    release();
    await waitUntil(() => sent.some((a) => a.kind === 'recovered'), 'the recovery');
    await waitUntil(() => store.watchers()[0]?.lastRoundAt !== undefined, 'a completed round');
    expect(sent.filter((a) => a.kind === 'recovered').map((a) => a.title)).toEqual(['The bot watchers complete their rounds again']);
    expect(stalled()).toHaveLength(1);
    job.stop();
    // Stopped on purpose: no longer expected to beat, so status does not call it stalled.
    expect(store.watchers()).toEqual([]);
    store.close();
  }, 20_000);
});

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

