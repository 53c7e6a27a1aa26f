import { describe, expect, it } from 'vitest';
import { watcherSummaries } from '../../monitor/alert-store.ts';
import { collect } from '../../monitor/collect.ts';
import { buildStatus, renderStatusText } from '../../monitor/status.ts';
import { known, unknown } from '../../planner/state.ts';
import { UnreachableError } from '../../lib/errors.ts';
import { PveError } from '../../infra/proxmox/errors.ts';
import { collected, fakeProxmox, fakeTailnet, NOW, THRESHOLDS, FAILED_MANUAL, FAILED_RUN, LOGS, RESOURCES, sec, TASKS } from './fixtures.ts';

const inputs = { now: NOW, thresholds: THRESHOLDS };

describe('buildStatus', () => {
  it('names each failing guest once (its last error and last good backup), the uncovered guest and the full storage, criticals first', () => {
    const report = buildStatus(collected({ storageStatus: known([{ storage: 'local', type: 'dir', content: 'backup', active: 1, enabled: 1, total: 100, used: 85 }]) }), inputs);
    expect(report.level).toBe('critical');
    expect(report.headline).toMatch(/^4 things need attention: /);
    expect(report.headline).not.toContain('VM 150 (lab): no successful backup');
    expect(report.attention.map((a) => a.level)).toEqual(['critical', 'critical', 'warn', 'warn']);
    expect(report.attention[0]?.text).toBe(
      "backup of VM 300 (app-host) failed 5 h ago: unable to create temporary directory '/var/lib/vz/dump/vzdump-qemu-300.tmp' - No space left on device; last good backup 29 h ago",
    );
    expect(report.headline).toContain('backup of VM 400 (haos) failed 3 h ago');
    expect(report.headline).toContain('VM 150 (lab) is not covered by any backup job (no backup in 168 h)');
    expect(report.headline).toContain('storage local: 85% used (warning at 80%)');
  });

  it('says all good when every guest was backed up recently and nothing else is wrong', () => {
    const okTasks = TASKS.map((t) => ({ ...t, status: 'OK' }));
    const report = buildStatus(
      collected({
        resources: known(RESOURCES.filter((r) => r.vmid !== 150)),
        tasks: known(okTasks),
        taskLogs: { [FAILED_RUN]: known(LOGS[FAILED_RUN]!.filter((l) => !l.t.startsWith('ERROR'))) },
        notBackedUp: known([]),
      }),
      inputs,
    );
    expect(report.headline).toBe('all good');
    expect(report.level).toBe('ok');
  });

  it('derives per-VM last backup, last good backup and covering jobs from tasks and their logs', () => {
    const report = buildStatus(collected(), inputs);
    if (!report.backups.known) throw new Error(report.backups.reason);
    const byVm = Object.fromEntries(report.backups.value.perVm.map((b) => [b.vmid, b]));
    expect(byVm[100]!.last).toMatchObject({ ok: true, ageHours: 5.4 });
    expect(byVm[100]!.jobs).toEqual(['jarvis-daily']);
    expect(byVm[300]!.last).toMatchObject({ ok: false, upid: FAILED_RUN });
    expect(byVm[300]!.lastGood).toMatchObject({ ageHours: 29.4 });
    expect(byVm[400]!.last).toMatchObject({ ok: false, upid: FAILED_MANUAL });
    expect(byVm[400]!.lastGood).toMatchObject({ ageHours: 5.4 });
    expect(byVm[150]!).toMatchObject({ level: 'critical', jobs: [], note: 'no successful backup in the last 168 h' });
    expect(report.backups.value.notCovered).toEqual([{ vmid: 150, name: 'lab', type: 'qemu' }]);
    expect(report.backups.value.failedTasks.map((f) => [f.upid, f.vmids, f.jobId])).toEqual([
      [FAILED_MANUAL, [400], undefined],
      [FAILED_RUN, [300], 'jarvis-daily'],
    ]);
  });

  it('reads a task the node stamped a few minutes ahead of Jarvis\'s clock as just now, never as a negative age', () => {
    // FAILED_MANUAL ended 3 h before NOW: seen from a clock 3.1 h behind, it ends 6 min in the future.
    const report = buildStatus(collected(), { ...inputs, now: NOW - 3.1 * 3600 * 1000 });
    if (!report.backups.known) throw new Error(report.backups.reason);
    const failed = report.backups.value.failedTasks.find((f) => f.upid === FAILED_MANUAL)!;
    expect(failed.ageHours).toBe(0);
    expect(report.backups.value.perVm.find((b) => b.vmid === 400)!.last).toMatchObject({ ageHours: 0 });
    expect(report.attention.map((a) => a.text)).toContainEqual(expect.stringContaining('backup of VM 400 (haos) failed 0 min ago'));
  });

  it('keeps a failure that a later backup of the same guests fixed out of the headline: it is history, listed with its task id', () => {
    const later = { ...TASKS[0]!, upid: 'UPID:proxmox:00009999:0000ABCD:69254F00:vzdump::root@pam:', starttime: sec('2026-11-25T06:00:00Z'), endtime: sec('2026-11-25T06:05:00Z') };
    const c = collected({
      tasks: known([...TASKS, later]),
      taskLogs: { ...collected().taskLogs, [later.upid]: known(LOGS[TASKS[0]!.upid]!) },
      notBackedUp: known([]),
      resources: known(RESOURCES.filter((r) => r.vmid !== 150)),
    });
    const report = buildStatus(c, inputs);
    expect(report.level).toBe('ok');
    expect(report.attention).toEqual([]);
    if (!report.backups.known) throw new Error(report.backups.reason);
    expect(report.backups.value.failedTasks.map((f) => [f.upid, f.recovered])).toEqual([
      [FAILED_MANUAL, true],
      [FAILED_RUN, true],
    ]);
    const text = renderStatusText(report);
    expect(text).toContain(`VM 300 failed: unable to create temporary directory '/var/lib/vz/dump/vzdump-qemu-300.tmp' - No space left on device (fixed by a later backup) · task ${FAILED_RUN}`);
    expect(text).toContain(`VM 400 failed: VM 400 qmp command 'backup' failed - got timeout (fixed by a later backup) · task ${FAILED_MANUAL}`);
  });

  it('keeps the headline short with a thousand guests no job covers: one item naming a few', () => {
    const many = Array.from({ length: 1000 }, (_, i) => ({ id: `qemu/${1000 + i}`, type: 'qemu', vmid: 1000 + i, node: 'proxmox', name: `u-${1000 + i}`, status: 'stopped' }));
    const c = collected({
      resources: known([...RESOURCES.filter((r) => r.vmid !== 150), ...many]),
      notBackedUp: known(many.map((m) => ({ vmid: m.vmid, type: 'qemu', name: m.name }))),
    });
    const report = buildStatus(c, inputs);
    const uncovered = report.attention.filter((a) => a.text.includes('not covered'));
    expect(uncovered).toEqual([
      {
        level: 'warn',
        section: 'backups',
        text: '1000 guests are not covered by any backup job (1000 without a backup in 168 h): VM 1000 (u-1000), VM 1001 (u-1001), VM 1002 (u-1002), VM 1003 (u-1003), VM 1004 (u-1004) and 995 more',
      },
    ]);
    expect(report.attention).toHaveLength(3);
  });

  it('warns, then turns critical, as the last good backup ages past the thresholds', () => {
    const okOnly = known([{ ...TASKS[0]!, status: 'OK' }]);
    const logs = { [TASKS[0]!.upid]: known(LOGS[TASKS[0]!.upid]!) };
    const at = (hoursAfterBackup: number) =>
      buildStatus(collected({ tasks: okOnly, taskLogs: logs, notBackedUp: known([]) }), { ...inputs, now: (TASKS[0]!.endtime! + hoursAfterBackup * 3600) * 1000 });
    const levelOf100 = (h: number) => {
      const r = at(h);
      return r.backups.known ? r.backups.value.perVm.find((b) => b.vmid === 100)!.level : 'unread';
    };
    expect(levelOf100(25)).toBe('ok');
    expect(levelOf100(27)).toBe('warn');
    expect(levelOf100(51)).toBe('critical');
  });

  it('reports unreadable parts as unknown with the reason and counts them in the headline', () => {
    const report = buildStatus(collected({ storageStatus: unknown('Proxmox answered 403 to GET /nodes/proxmox/storage: Permission check failed') }), inputs);
    expect(report.storages).toEqual({ known: false, reason: expect.stringContaining('403') });
    expect(report.attention).toContainEqual({ level: 'unknown', section: 'storage', text: expect.stringContaining('storage usage unknown: Proxmox answered 403') });
  });

  it('flags Funnel exposure, expiring keys and routes awaiting approval in the tailnet', () => {
    const c = collected({
      tailnet: {
        devices: known([
          { id: '1', nodeId: 'n1', name: 'e', hostname: 'edge-gateway', addresses: [], authorized: true, connectedToControl: true, expires: '2026-12-01T00:00:00Z', keyExpiryDisabled: false, advertisedRoutes: ['10.10.20.0/24'], enabledRoutes: [] },
          { id: '2', nodeId: 'n2', name: 'a', hostname: 'app-host', addresses: [], authorized: true, connectedToControl: false, expires: '2026-12-01T00:00:00Z', keyExpiryDisabled: true, advertisedRoutes: [], enabledRoutes: [] },
        ]),
        policy: known({ nodeAttrs: [{ target: ['autogroup:member'], attr: ['funnel'] }] }),
      },
    });
    const report = buildStatus(c, inputs);
    if (!report.tailnet?.known) throw new Error('tailnet unread');
    expect(report.tailnet.value).toMatchObject({ online: 1, total: 2, funnelTargets: ['autogroup:member'] });
    expect(report.tailnet.value.keysExpiringSoon).toEqual([{ hostname: 'edge-gateway', expires: '2026-12-01T00:00:00Z', inDays: 5.7 }]);
    expect(report.tailnet.value.routesAwaitingApproval).toEqual([{ hostname: 'edge-gateway', routes: ['10.10.20.0/24'] }]);
    expect(report.attention.find((a) => a.section === 'tailnet' && a.level === 'critical')?.text).toMatch(/Funnel allowed for autogroup:member/);
  });

  it('reports pool health and stale dataset snapshots when host facts are given', () => {
    const c = collected({
      zfsPools: known([{ name: 'tank', size: 4e12, alloc: 1e12, free: 3e12, health: 'DEGRADED' }]),
      zfsDetails: { tank: known({ name: 'tank', state: 'DEGRADED', status: 'One or more devices has been removed.' }) },
      hostFacts: known({
        datasets: [
          { name: 'tank/media', properties: {}, newestSnapshot: { name: 'daily-1', creation: sec('2026-11-23T00:00:00Z') } },
          { name: 'tank/appdata', properties: {}, newestSnapshot: { name: 'daily-2', creation: sec('2026-11-25T00:00:00Z') } },
          { name: 'tank/backups', properties: {} },
        ],
        snapshotPolicies: [
          { dataset: 'tank/media', frequency: 'daily', retention: { 'keep-daily': 7 } },
          { dataset: 'tank/appdata', frequency: 'daily', retention: { 'keep-daily': 14 } },
        ],
      }),
    });
    const report = buildStatus(c, inputs);
    expect(report.zfsPools).toEqual(known([expect.objectContaining({ name: 'tank', level: 'critical', usedPercent: 25, detail: 'One or more devices has been removed.' })]));
    expect(report.datasets).toEqual(
      known([
        expect.objectContaining({ name: 'tank/media', level: 'warn', newestSnapshot: expect.objectContaining({ ageHours: 56 }) }),
        expect.objectContaining({ name: 'tank/appdata', level: 'ok' }),
        expect.objectContaining({ name: 'tank/backups', level: 'ok' }),
      ]),
    );
    expect(report.headline).toContain('dataset tank/media: newest snapshot 56 h old (max 26 h)');
  });

  it('shows drift, gates and pending plans; the text rendering starts with the headline count', () => {
    const report = buildStatus(collected(), {
      ...inputs,
      drift: known({ phase: 'phase0', actionCount: 2, lines: ['~ vm/100 (edge-gateway): tags', '+ backup/jarvis-daily'], hash: 'h1' }),
      lock: { holder: 'discord:1234567', since: '2026-11-25T07:00:00Z' },
      pendingPlans: [{ id: 'p-1', phase: 'phase0', createdAt: '2026-11-25T07:30:00Z', actions: 2, maxRisk: 'medium' }],
    });
    expect(report.headline).toContain('drift from the phase0 spec: 2 changes');
    const text = renderStatusText(report);
    expect(text.split('\n')[0]).toBe('✗ 4 things need attention');
    expect(text).toContain('lock held by discord:1234567');
    expect(text).toContain('1 pending plan (p-1 phase0)');
    expect(text).toContain('~ vm/100 (edge-gateway): tags');
    expect(text).toMatch(/local +\[#####-----\] 50%/);
  });
});

describe('the watchers in status', () => {
  it('shows the bot’s heartbeat, and a loop with no round in twice its interval as critical', () => {
    const beats = [
      { name: 'bot', everyMs: 600_000, since: NOW - 3_600_000, lastRoundAt: NOW - 120_000 },
      { name: 'watch', everyMs: 600_000, since: NOW - 7_200_000, lastRoundAt: NOW - 1_500_000 },
    ];
    const report = buildStatus(collected({ notBackedUp: known([]) }), { ...inputs, watchers: watcherSummaries(beats, NOW) });
    expect(report.watchers?.map((w) => [w.name, w.level])).toEqual([
      ['bot', 'ok'],
      ['watch', 'critical'],
    ]);
    expect(report.attention[0]).toEqual({
      level: 'critical',
      section: 'watchers',
      text: 'the watch watchers are stalled (last completed round 2026-11-25T07:35:00.000Z; they run every 10 min 0 s): no alert is raised meanwhile',
    });
    const text = renderStatusText(report);
    expect(text).toContain('Watchers\n  ✓ bot: last round 2 min ago, every 10 min 0 s\n  ✗ watch: last round 25 min ago, every 10 min 0 s — STALLED: no alert is raised');
  });
});

describe('collect', () => {
  it('reads everything in one dependent round trip, logs only for failed and multi-guest runs, and counts requests', async () => {
    const calls: string[] = [];
    const c = await collect({ proxmox: fakeProxmox({}, calls), tailnet: fakeTailnet() }, { now: NOW, historyHours: 168 });
    expect(c.unreadable).toBeUndefined();
    expect(Object.keys(c.taskLogs).sort()).toEqual([...Object.keys(LOGS)].sort());
    // 7 first-round reads + 3 task logs + 3 running VMs' status; no pool detail (no pools).
    expect(c.proxmoxRequests).toBe(13);
    expect(calls.filter((n) => n !== 'listDevices' && n !== 'getPolicy')).toHaveLength(13);
    expect(c.tailnet?.devices.known).toBe(true);
    const report = buildStatus(c, inputs);
    expect(report.proxmoxRequests).toBe(13);
    expect(report.vms.known && report.vms.value.find((v) => v.vmid === 400)?.agent).toBe(false);
  });

  it('marks the node unreadable with the client message, headlines it critical and guesses nothing', async () => {
    const down = () => Promise.reject(new UnreachableError('cannot reach https://127.0.0.1:1/api2/json: connect ECONNREFUSED'));
    const api = fakeProxmox({ nodeStatus: down, clusterResources: down, nodeStorageStatus: down, listBackupJobs: down, notBackedUp: down, listTasks: down, listZfsPools: down });
    const c = await collect({ proxmox: api }, { now: NOW, historyHours: 168 });
    expect(c.unreadable?.reason).toContain('ECONNREFUSED');
    const report = buildStatus(c, inputs);
    expect(report.node.known).toBe(false);
    expect(report.backups.known).toBe(false);
    expect(report.level).toBe('critical');
    // One item for the cause, not one per part it left unknown.
    expect(report.attention).toEqual([{ level: 'critical', section: 'node', text: expect.stringMatching(/^Jarvis cannot read Proxmox, so nothing below is current: cannot reach .*ECONNREFUSED; check that the node is up/) }]);
  });

  it.each([
    [401, 'authentication failure', /API token was rejected: check PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET/],
    [403, 'Permission check failed (/, Sys.Audit)', /lacks a privilege/],
  ])('counts a %s answer as not being able to read the lab, with its fix', async (status, message, fix) => {
    const refused = () => Promise.reject(new PveError(status, message, {}, 'GET /nodes/proxmox/status'));
    const c = await collect({ proxmox: fakeProxmox({ nodeStatus: refused }) }, { now: NOW, historyHours: 168 });
    expect(c.unreadable?.reason).toBe(`Proxmox answered ${status} to GET /nodes/proxmox/status: ${message}`);
    expect(c.unreadable?.fix).toMatch(fix);
    expect(buildStatus(c, inputs).level).toBe('critical');
  });

  it('does not count a part that is merely missing (a 500 on one read) as an unreadable lab', async () => {
    const broken = () => Promise.reject(new PveError(500, 'internal error', {}, 'GET /cluster/backup-info/not-backed-up'));
    const c = await collect({ proxmox: fakeProxmox({ notBackedUp: broken }) }, { now: NOW, historyHours: 168 });
    expect(c.unreadable).toBeUndefined();
  });

  it('ends a collection that outlasts its deadline: what was not read is unknown and the lab unreadable', async () => {
    const hang = () => new Promise<never>(() => undefined);
    const c = await collect({ proxmox: fakeProxmox({ listTasks: hang }) }, { now: NOW, historyHours: 168, deadlineMs: 50 });
    expect(c.unreadable).toEqual({ reason: 'the collection did not finish within 50 ms', fix: expect.stringContaining('answers too slowly') });
    expect(c.tasks).toEqual({ known: false, reason: 'not read: the collection did not finish within 50 ms' });
    expect(c.nodeStatus.known).toBe(true);
  });
});
