// The monitor against the simulator with the real clients: what it counts is what the node saw, every request is one
// the real API accepts, and the webhook and polling paths share one alert per failed task.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertStore } from '../../monitor/alert-store.ts';
import { collect } from '../../monitor/collect.ts';
import { statusToReport } from '../../app/status-report.ts';
import { openSimLab, type Lab } from '../../app/lab.ts';
import type { MonitorPorts } from '../../monitor/collect.ts';
import type { RunningSim } from '../../sim/server.ts';
import { buildStatus } from '../../monitor/status.ts';
import type { Alert } from '../../monitor/types.ts';
import { handleWebhookNotification, historyHours, runWatchers } from '../../monitor/watch.ts';
import { parseNotification } from '../../monitor/webhook.ts';
import { THRESHOLDS } from './fixtures.ts';

let lab: Lab;
let sim: RunningSim;
let ports: MonitorPorts;
let dir: string;
beforeAll(async () => {
  lab = await openSimLab({ scenario: 'backup-failures' });
  sim = lab.sim!;
  ports = { proxmox: lab.ports.pve, tailnet: lab.ports.tailnet };
  dir = mkdtempSync(join(tmpdir(), 'jarvis-monitor-sim-'));
});
afterAll(async () => {
  await lab.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('monitor against the simulator', () => {
  it('counts exactly the requests the node received, all valid for the PVE schema', async () => {
    const before = sim.requests.length;
    const now = Date.now();
    const collected = await collect(ports, { now, historyHours: historyHours(THRESHOLDS) });
    expect(collected.unreadable).toBeUndefined();
    expect(sim.requests.length - before).toBe(collected.proxmoxRequests);
    expect(sim.schemaViolations).toEqual([]);
    expect(sim.requests.slice(before).every((r) => r.method === 'GET')).toBe(true);
    const report = buildStatus(collected, { now, thresholds: THRESHOLDS });
    expect(report.node).toMatchObject({ known: true, value: { name: 'proxmox' } });
    const generic = statusToReport(report);
    expect(generic.headline).toBe(`${report.attention.length} things need attention`);
    expect(generic.sections[0]).toEqual({ title: 'Needs attention', lines: expect.arrayContaining([expect.stringContaining('No space left on device')]) });
    expect(generic.sections.map((s) => s.title)).toEqual(expect.arrayContaining(['Node', 'Storage', 'Guests', 'Backups', 'Tailnet', 'Gates']));
  });

  it('a Proxmox notification for a failure already polled raises nothing; one per failed task in total', async () => {
    const store = AlertStore.open(dir);
    const sent: Alert[] = [];
    const options = { ports, store, thresholds: THRESHOLDS, now: Date.now(), deliver: (a: Alert) => void sent.push(a) };
    await runWatchers(options);
    const failedKeys = sent.filter((a) => a.kind === 'backup-failed').map((a) => a.key);
    const failedTasks = sim.lab.tasks.tasks.filter((t) => t.type === 'vzdump' && t.exitstatus !== undefined && t.exitstatus !== 'OK');
    expect(failedKeys.sort()).toEqual(failedTasks.map((t) => `backup-failed:${t.upid}`).sort());

    sent.length = 0;
    const upid = failedTasks[0]!.upid;
    const notification = parseNotification({
      title: 'vzdump backup status (proxmox): backup failed',
      message: `ERROR: Backup of VM 300 failed - No space left on device\n${upid}`,
      severity: 'error',
      fields: { type: 'vzdump', hostname: 'proxmox' },
    });
    expect(await handleWebhookNotification({ ...options, now: Date.now() }, notification)).toEqual([]);
    expect(sent).toEqual([]);
    store.close();
  });
});
