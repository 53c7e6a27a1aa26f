import { describe, expect, it } from 'vitest';
import { backupFailureAlerts, conditionAlerts, decide, driftAlert, inQuietHours, type AlertRecord } from '../../monitor/alerts.ts';
import { buildStatus } from '../../monitor/status.ts';
import { known } from '../../planner/state.ts';
import type { Alert } from '../../monitor/types.ts';
import { collected, FAILED_MANUAL, FAILED_RUN, NOW, THRESHOLDS } from './fixtures.ts';

describe('backup failure alerts', () => {
  it('raises one alert per failed task, keyed by UPID, with job, VM, error line, duration, log tail, last good age and buttons', () => {
    const alerts = backupFailureAlerts(collected(), NOW);
    expect(alerts.map((a) => a.key)).toEqual([`backup-failed:${FAILED_MANUAL}`, `backup-failed:${FAILED_RUN}`]);
    const run = alerts[1]!;
    expect(run).toMatchObject({ kind: 'backup-failed', severity: 'critical', title: 'Backup failed: VM 300 (app-host)' });
    expect(run.lines).toEqual([
      'job: jarvis-daily',
      'VM: 300 (app-host)',
      "error: ERROR: Backup of VM 300 failed - unable to create temporary directory '/var/lib/vz/dump/vzdump-qemu-300.tmp' - No space left on device",
      'started 2026-11-25T02:30:00.000Z, took 3 min 5 s',
      'last good backup of 300: 29 h ago',
      `task: ${FAILED_RUN}`,
    ]);
    expect(run.logTail?.at(-1)).toBe('TASK ERROR: job errors');
    expect(run.actions).toEqual([
      { id: `show-log:${FAILED_RUN}`, label: 'Show log' },
      { id: 'plan-retry:300', label: 'Plan a retry of VM 300' },
    ]);
    const manual = alerts[0]!;
    expect(manual.lines[0]).toBe('job: not named in the task log (the VM is in jarvis-daily)');
    expect(manual.lines).toContain('last good backup of 400: 5 h ago');
  });

  it('says the log is unknown instead of guessing the VM when the log of a multi-guest run cannot be read', () => {
    const c = collected({ taskLogs: { [FAILED_RUN]: { known: false, reason: 'Proxmox answered 403' } } });
    const alert = backupFailureAlerts(c, NOW).find((a) => a.key === `backup-failed:${FAILED_RUN}`)!;
    expect(alert.title).toBe('Backup failed: VM (unknown: log not read)');
    expect(alert.lines).toContain('log: unknown (Proxmox answered 403)');
    expect(alert.lines).toContain('error: job errors');
    expect(alert.actions).toEqual([{ id: `show-log:${FAILED_RUN}`, label: 'Show log' }]);
  });
});

describe('status and watch agree', () => {
  it.each([0, 20, 30, 60, 24 * 8])('on how bad each guest’s backups are, %s h after the fixtures’ morning', (hours) => {
    const now = NOW + hours * 3_600_000;
    const c = collected({ tasksSince: now / 1000 - 7 * 24 * 3600 });
    const report = buildStatus(c, { now, thresholds: THRESHOLDS });
    const alerts = [...backupFailureAlerts(c, now), ...conditionAlerts(report, THRESHOLDS, now)];
    const rank = { none: 0, warn: 1, critical: 2 } as const;
    for (const vmid of [100, 300, 400]) {
      const mine = alerts.filter((a) => a.key === `backup-missing:${vmid}` || (a.kind === 'backup-failed' && a.lines.some((l) => l.startsWith('VM: ') && l.includes(`${vmid} (`))));
      const watch = mine.reduce<keyof typeof rank>((worst, a) => (rank[a.severity === 'critical' ? 'critical' : 'warn'] > rank[worst] ? (a.severity === 'critical' ? 'critical' : 'warn') : worst), 'none');
      const items = report.attention.filter((a) => a.section === 'backups' && a.text.includes(`VM ${vmid} (`));
      const status = items.reduce<keyof typeof rank>((worst, a) => (rank[a.level as 'warn' | 'critical'] > rank[worst] ? (a.level as 'warn' | 'critical') : worst), 'none');
      expect(`VM ${vmid}: ${watch}`).toBe(`VM ${vmid}: ${status}`);
    }
  });
});

describe('condition alerts', () => {
  it('raises absence, storage, Funnel and key-expiry alerts with stable keys', () => {
    const c = collected({
      storageStatus: known([{ storage: 'local', type: 'dir', content: 'backup', active: 1, enabled: 1, total: 100, used: 96 }]),
      tailnet: {
        devices: known([{ id: '1', nodeId: 'n1', name: 'e', hostname: 'edge-gateway', addresses: [], authorized: true, expires: '2026-11-30T08:00:00Z', keyExpiryDisabled: false, advertisedRoutes: [], enabledRoutes: [] }]),
        policy: known({ nodeAttrs: [{ target: ['tag:web'], attr: ['funnel'] }] }),
      },
    });
    const report = buildStatus(c, { now: NOW, thresholds: THRESHOLDS });
    const alerts = conditionAlerts(report, THRESHOLDS, NOW);
    expect(alerts.map((a) => [a.key, a.severity])).toEqual([
      ['backup-uncovered', 'warning'],
      ['backup-missing:300', 'warning'],
      ['storage-full:local', 'critical'],
      ['tailnet-key:edge-gateway', 'warning'],
      ['funnel', 'critical'],
    ]);
    expect(alerts[1]!.title).toBe('No successful backup of VM 300 (app-host) within 26 h');
    expect(alerts[1]!.lines).toContain('last attempt failed 5 h ago: unable to create temporary directory \'/var/lib/vz/dump/vzdump-qemu-300.tmp\' - No space left on device');
    expect(alerts[0]).toMatchObject({ title: 'VM 150 (lab) is not covered by any backup job and has no backup in 168 h', fingerprint: '150' });
  });
});

const record = (over: Partial<AlertRecord> = {}): AlertRecord => ({ key: 'k', severity: 'warning', held: false, deliveredAt: NOW - 60_000, ...over });
const alert = (over: Partial<Alert> = {}): Alert => ({ key: 'k', kind: 'storage-full', severity: 'warning', title: 't', lines: [], actions: [], raisedAt: '', ...over });
const hygiene = { cooldownMinutes: 60, timeZone: 'UTC' };

describe('hygiene', () => {
  it('delivers a failed task once, ever', () => {
    const failed = alert({ kind: 'backup-failed' });
    expect(decide(failed, undefined, hygiene, NOW)).toBe('deliver');
    expect(decide(failed, record({ deliveredAt: NOW - 30 * 86_400_000 }), hygiene, NOW)).toBe('suppress');
  });

  it('repeats a lasting condition only after the cooldown, or at once when it gets worse', () => {
    expect(decide(alert(), record({ deliveredAt: NOW - 59 * 60_000 }), hygiene, NOW)).toBe('suppress');
    expect(decide(alert(), record({ deliveredAt: NOW - 60 * 60_000 }), hygiene, NOW)).toBe('deliver');
    expect(decide(alert({ severity: 'critical' }), record({ deliveredAt: NOW - 60_000 }), hygiene, NOW)).toBe('deliver');
  });

  it('alerts on drift only when its hash changes, and not while snoozed', () => {
    const drift = (hash: string) => driftAlert({ phase: 'phase0', actionCount: 1, lines: ['~ vm/100: tags'], hash }, NOW);
    expect(drift('a').actions.map((a) => a.id)).toEqual(['plan-fix:phase0', 'snooze:drift']);
    expect(decide(drift('a'), undefined, hygiene, NOW)).toBe('deliver');
    expect(decide(drift('a'), record({ fingerprint: 'a', deliveredAt: NOW - 7 * 86_400_000 }), hygiene, NOW)).toBe('suppress');
    expect(decide(drift('b'), record({ fingerprint: 'a' }), hygiene, NOW)).toBe('deliver');
    expect(decide(drift('b'), record({ fingerprint: 'a', snoozedUntil: NOW + 1 }), hygiene, NOW)).toBe('suppress');
  });

  it('holds news during quiet hours, including across midnight', () => {
    const quiet = { ...hygiene, quietHours: '22:00-07:00' };
    expect(inQuietHours('22:00-07:00', Date.parse('2026-11-25T23:30:00Z'), 'UTC')).toBe(true);
    expect(inQuietHours('22:00-07:00', Date.parse('2026-11-25T06:59:00Z'), 'UTC')).toBe(true);
    expect(inQuietHours('22:00-07:00', Date.parse('2026-11-25T07:00:00Z'), 'UTC')).toBe(false);
    expect(inQuietHours('12:00-13:00', Date.parse('2026-11-25T12:30:00Z'), 'UTC')).toBe(true);
    expect(decide(alert(), undefined, quiet, Date.parse('2026-11-25T23:30:00Z'))).toBe('hold');
    expect(decide(alert(), undefined, quiet, NOW)).toBe('deliver');
  });
});
