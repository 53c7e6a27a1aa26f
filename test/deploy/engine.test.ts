import { describe, expect, it } from 'vitest';
import { applyPlan } from '../../deploy/engine.ts';
import { acquireApplyLock, freeze, readLockHolder } from '../../deploy/lock.ts';
import { UnreachableError } from '../../lib/errors.ts';
import { FakePve } from './support/fake-pve.ts';
import { action, context, memoryJournal, plan, startVmRequest, vmCreateAction, withFingerprints } from './support/plans.ts';

const creates = (pve: FakePve, vmid: number) => pve.requests.filter((r) => r.method === 'POST' && r.path === '/nodes/proxmox/qemu' && r.params.vmid === vmid).length;

describe('applyPlan: order and parallelism', () => {
  it('runs actions in dependency order; dependents wait for their dependencies', async () => {
    const pve = new FakePve({ taskMs: 15 });
    const journal = memoryJournal();
    const p = await withFingerprints(
      plan([
        vmCreateAction(100),
        action('vm.start:100', { targetKey: 'vm/100', dependsOn: ['vm.create:100'], params: { channel: 'pve', requests: [startVmRequest(100)] } }),
        vmCreateAction(300),
      ]),
      pve,
    );
    const ctx = context(pve, journal);
    const report = await applyPlan(p, ctx);
    expect(report.status).toBe('applied');
    expect(report.actions.map((a) => a.outcome)).toEqual(['done', 'done', 'done']);
    const createSpan = pve.taskSpans.find((s) => s.path === '/nodes/proxmox/qemu' && pve.requests.length > 0)!;
    const startSpan = pve.taskSpans.find((s) => s.path.endsWith('/status/start'))!;
    expect(startSpan.start).toBeGreaterThanOrEqual(createSpan.end!);
    expect(pve.vms.get(100)?.status).toBe('running');
    const started = ctx.events.filter((e) => e.type === 'action.started').map((e) => (e as { actionId: string }).actionId);
    expect(started.indexOf('vm.start:100')).toBeGreaterThan(started.indexOf('vm.create:100'));
  });

  it('runs independent actions side by side, never more than the bound', async () => {
    const pve = new FakePve({ taskMs: 40 });
    const p = await withFingerprints(plan([100, 101, 102, 103, 104].map((vmid) => vmCreateAction(vmid))), pve);
    const report = await applyPlan(p, context(pve, memoryJournal(), { concurrency: 2 }));
    expect(report.status).toBe('applied');
    expect(pve.maxParallelTasks()).toBe(2);
  });

  it('never runs two actions on the same VM at once, even without a declared dependency', async () => {
    const pve = new FakePve({ taskMs: 30 });
    pve.addVm(100);
    const p = await withFingerprints(
      plan([
        action('vm.start:100', { targetKey: 'vm/100', params: { channel: 'pve', requests: [startVmRequest(100)] } }),
        action('vm.snapshot:100', {
          targetKey: 'vm/100#snap',
          params: { channel: 'pve', requests: [{ method: 'POST', path: '/nodes/proxmox/qemu/100/snapshot', params: { snapname: 'manual' }, async: true }] },
        }),
      ]),
      pve,
    );
    expect((await applyPlan(p, context(pve, memoryJournal()))).status).toBe('applied');
    expect(pve.maxParallelTasks()).toBe(1);
  });
});

describe('applyPlan: refusals come before any write', () => {
  const setup = async () => {
    const pve = new FakePve();
    pve.addVm(100, { config: { name: 'edge', memory: 1024 } });
    const p = await withFingerprints(
      plan([action('vm.update:100', { targetKey: 'vm/100', params: { channel: 'pve', requests: [{ method: 'PUT', path: '/nodes/proxmox/qemu/100/config', params: { memory: 2048 }, async: false }] } })]),
      pve,
    );
    return { pve, p, journal: memoryJournal() };
  };

  it('refuses an unapproved plan (CLI: --yes; chat: approval)', async () => {
    const { pve, p, journal } = await setup();
    const cli = await applyPlan(p, context(pve, journal, { approved: false, via: 'cli' }));
    expect(cli.refusal).toMatchObject({ code: 'not-approved', message: expect.stringContaining('--yes') });
    const chat = await applyPlan(p, context(pve, journal, { approved: false, via: 'chat' }));
    expect(chat.refusal?.message).toContain('no recorded approval');
    expect(pve.requests).toEqual([]);
    expect(journal.auditEntries().filter((e) => e.kind === 'apply.refused')).toHaveLength(2);
  });

  it('refuses while another apply holds the lock, naming the holder', async () => {
    const { pve, p, journal } = await setup();
    acquireApplyLock(journal, { who: 'discord:owner', planId: 'other-plan', now: Date.now });
    const report = await applyPlan(p, context(pve, journal));
    expect(report.status).toBe('refused');
    expect(report.refusal?.code).toBe('locked');
    expect(report.refusal?.message).toMatch(/discord:owner .*other-plan since \d{4}-/);
    expect(pve.requests).toEqual([]);
  });

  it('refuses a stale plan and shows what moved', async () => {
    const { pve, p, journal } = await setup();
    pve.vms.get(100)!.config.cores = 4; // a manual change after planning
    const report = await applyPlan(p, context(pve, journal));
    expect(report.refusal?.code).toBe('stale');
    expect(report.refusal?.moved).toEqual([{ targetKey: 'vm/100', planned: p.stateFingerprint['vm/100'], now: pve.digest(100), actions: ['vm.update:100'] }]);
    expect(report.next).toContain('re-plan: jarvis plan phase0');
    expect(pve.requests).toEqual([]);
  });

  it('refuses during a freeze', async () => {
    const { pve, p, journal } = await setup();
    freeze(journal, 'discord:owner', 'exams week', Date.now);
    const report = await applyPlan(p, context(pve, journal));
    expect(report.refusal).toMatchObject({ code: 'frozen', message: expect.stringContaining('exams week') });
    expect(pve.requests).toEqual([]);
  });

  it('refuses an unknown plan format, a plan with violations and a broken dependency graph', async () => {
    const { pve, p, journal } = await setup();
    const ctx = context(pve, journal);
    expect((await applyPlan({ ...p, formatVersion: 99 }, ctx)).refusal?.code).toBe('format');
    const violating = { ...p, violations: [{ ruleId: 'fw.management-access', message: 'DROP without 8006', actionId: 'x' }] };
    expect((await applyPlan(violating, ctx)).refusal).toMatchObject({ code: 'violations', message: expect.stringContaining('fw.management-access') });
    const cyclic = plan([action('a', { dependsOn: ['b'] }), action('b', { dependsOn: ['a'] })]);
    expect((await applyPlan(cyclic, ctx)).refusal?.message).toContain('cycle');
    expect(pve.requests).toEqual([]);
    expect(readLockHolder(journal)).toBeUndefined();
  });
});

describe('applyPlan: crash safety', () => {
  it('never creates twice: an intent without UPID is reconciled by looking for the VM', async () => {
    let lose = true;
    const pve = new FakePve({
      afterRequest: (request) => {
        if (lose && request.path === '/nodes/proxmox/qemu') throw new UnreachableError('connection reset by peer');
      },
    });
    const journal = memoryJournal();
    const p = await withFingerprints(
      plan([vmCreateAction(100), action('vm.start:100', { targetKey: 'vm/100', dependsOn: ['vm.create:100'], params: { channel: 'pve', requests: [startVmRequest(100)] } })]),
      pve,
    );
    const first = await applyPlan(p, context(pve, journal));
    expect(first.status).toBe('unreachable');
    expect(readLockHolder(journal)).toBeUndefined();

    lose = false;
    const second = await applyPlan(p, context(pve, journal));
    expect(second.status).toBe('applied');
    expect(creates(pve, 100)).toBe(1);
    expect(second.actions[0]?.detail).toContain('reconciled');
    expect(pve.vms.get(100)?.status).toBe('running');
  });

  it('follows a journaled UPID instead of sending the task again, and skips finished actions', async () => {
    const pve = new FakePve({ taskMs: 10 });
    let dropWait = true;
    const realWait = pve.waitForTask.bind(pve);
    pve.waitForTask = async (upid, opts) => {
      if (dropWait && upid.includes(':qmstart:')) throw new UnreachableError('connection lost while following the task');
      return realWait(upid, opts);
    };
    const journal = memoryJournal();
    const p = await withFingerprints(
      plan([vmCreateAction(100), action('vm.start:100', { targetKey: 'vm/100', dependsOn: ['vm.create:100'], params: { channel: 'pve', requests: [startVmRequest(100)] } })]),
      pve,
    );
    expect((await applyPlan(p, context(pve, journal))).status).toBe('unreachable');
    dropWait = false;
    const ctx = context(pve, journal);
    const second = await applyPlan(p, ctx);
    expect(second.status).toBe('applied');
    expect(second.actions.map((a) => a.outcome)).toEqual(['already-done', 'done']);
    expect(pve.requests.filter((r) => r.path.endsWith('/status/start'))).toHaveLength(1);
    expect(creates(pve, 100)).toBe(1);
    expect(ctx.events).toContainEqual(expect.objectContaining({ type: 'action.skipped', actionId: 'vm.create:100' }));
  });

  it('stops when a task outlives its time limit, and a later run follows the same UPID instead of starting it again', async () => {
    const pve = new FakePve({ taskMs: 150 });
    const journal = memoryJournal();
    const p = await withFingerprints(plan([vmCreateAction(100)]), pve);
    const first = await applyPlan(p, context(pve, journal, { taskTimeoutMs: 20 }));
    expect(first.status).toBe('failed');
    expect(first.actions[0]?.detail).toContain('still running');
    expect(journal.steps(p.planHash, 'vm.create:100').get('request:0')?.phase).toBe('upid');
    const second = await applyPlan(p, context(pve, journal));
    expect(second.status).toBe('applied');
    expect(creates(pve, 100)).toBe(1);
  });

  it('does not call a target stale that its own failed change may have moved for a dependent action', async () => {
    const pve = new FakePve();
    pve.addVm(100);
    let failing = true;
    // The start fails after it already changed what the next action works on (a step that advertised routes in a
    // guest, then could not read back its result, has moved the tailnet the next action approves them in).
    pve.options.failTask = (request) => {
      if (!failing || !request.path.endsWith('/status/start')) return undefined;
      pve.firewall.set('/cluster', { options: { enable: 1 }, rules: [] });
      return 'start failed: could not read back the result';
    };
    const journal = memoryJournal();
    const p = await withFingerprints(
      plan([
        action('vm.start:100', { targetKey: 'vm/100', params: { channel: 'pve', requests: [startVmRequest(100)] } }),
        action('firewall.options:cluster', {
          targetKey: 'firewall/cluster',
          dependsOn: ['vm.start:100'],
          params: { channel: 'pve', requests: [{ method: 'PUT', path: '/cluster/firewall/options', params: { enable: 1 }, async: false }] },
        }),
      ]),
      pve,
    );
    expect((await applyPlan(p, context(pve, journal))).status).toBe('failed');
    failing = false;
    const resumed = await applyPlan(p, context(pve, journal));
    expect(resumed.refusal).toBeUndefined();
    expect(resumed.status).toBe('applied');
  });

  it('does not call its own finished change stale on resume, but does notice a manual one', async () => {
    const pve = new FakePve();
    let failStart = true;
    pve.options.failTask = (request) => (failStart && request.path.endsWith('/status/start') ? 'start failed: no memory' : undefined);
    const journal = memoryJournal();
    const p = await withFingerprints(
      plan([vmCreateAction(100), action('vm.start:100', { targetKey: 'vm/100', dependsOn: ['vm.create:100'], params: { channel: 'pve', requests: [startVmRequest(100)] } })]),
      pve,
    );
    expect((await applyPlan(p, context(pve, journal))).status).toBe('failed');
    failStart = false;
    // Our own create changed vm/100 since the plan: not stale. A failed start leaves the key unpredictable: not checked.
    expect((await applyPlan(p, context(pve, journal))).status).toBe('applied');

    // After our create finished, someone edits the VM before the rest of the plan ran: that is stale.
    const pve2 = new FakePve();
    const journal2 = memoryJournal();
    const p2 = await withFingerprints(
      plan([
        vmCreateAction(200),
        action('storage.add:tank', { targetKey: 'storage/tank', params: { channel: 'pve', requests: [{ method: 'POST', path: '/storage', params: { storage: 'tank', type: 'zfspool' }, async: false }] } }),
        // Not dependent on storage.add: an interrupted action leaves its dependents' targets unpredictable.
        action('vm.tags:200', { targetKey: 'vm/200', dependsOn: ['vm.create:200'], params: { channel: 'pve', requests: [{ method: 'PUT', path: '/nodes/proxmox/qemu/200/config', params: { tags: 'x' }, async: false }] } }),
      ], { phase: 'phase1' }),
      pve2,
    );
    pve2.options.beforeRequest = (request) => {
      if (request.path === '/storage') throw new UnreachableError('gone');
    };
    expect((await applyPlan(p2, context(pve2, journal2, { concurrency: 1 }))).status).toBe('unreachable');
    pve2.options.beforeRequest = undefined;
    // Our own finished create is expected: the dry-run sees nothing stale.
    const preview = await applyPlan(p2, context(pve2, journal2, { dryRun: true }));
    expect(preview.status).toBe('dry-run');
    expect(preview.dryRun?.stale).toBeUndefined();
    pve2.vms.get(200)!.config.cores = 8;
    const resumed = await applyPlan(p2, context(pve2, journal2));
    expect(resumed.refusal?.code).toBe('stale');
    expect(resumed.refusal?.moved?.map((m) => m.targetKey)).toEqual(['vm/200']);
    expect(creates(pve2, 200)).toBe(1);
  });
});

describe('applyPlan: failure', () => {
  it('stops at a failing task with its log tail, keeps what succeeded, says what to do next and frees the lock', async () => {
    const pve = new FakePve({ taskMs: 5, failTask: (r) => (r.path.endsWith('/300/status/start') ? 'start failed: QEMU exited with code 1' : undefined) });
    const journal = memoryJournal();
    const p = await withFingerprints(
      plan([
        vmCreateAction(300),
        action('vm.start:300', {
          targetKey: 'vm/300',
          dependsOn: ['vm.create:300'],
          rollbackHint: 'stop VM 300',
          params: { channel: 'pve', requests: [startVmRequest(300)] },
        }),
        action('vm.tags:300', { targetKey: 'vm/300', dependsOn: ['vm.start:300'], params: { channel: 'pve', requests: [{ method: 'PUT', path: '/nodes/proxmox/qemu/300/config', params: { tags: 'a' }, async: false }] } }),
      ]),
      pve,
    );
    const ctx = context(pve, journal);
    const report = await applyPlan(p, ctx);
    expect(report.status).toBe('failed');
    expect(report.actions.map((a) => a.outcome)).toEqual(['done', 'failed', 'not-run']);
    expect(report.actions[1]?.logTail).toContain('TASK ERROR: start failed: QEMU exited with code 1');
    expect(report.actions[1]?.detail).toContain('QEMU exited');
    expect(report.next.join('\n')).toContain(`jarvis apply ${p.id} --yes`);
    expect(report.next.join('\n')).toContain('to undo vm.create:300');
    expect(pve.vms.has(300)).toBe(true);
    expect(readLockHolder(journal)).toBeUndefined();
    expect(ctx.events).toContainEqual(expect.objectContaining({ type: 'action.failed', actionId: 'vm.start:300' }));
    expect(journal.actionRecord(p.planHash, 'vm.start:300')?.status).toBe('failed');
  });

  it('releases the lock when the lab cannot be read for the stale check', async () => {
    const pve = new FakePve();
    const journal = memoryJournal();
    const p = await withFingerprints(plan([vmCreateAction(100)]), pve);
    const ctx = context(pve, journal, {
      fingerprint: async () => {
        throw new UnreachableError('https://127.0.0.1:1 did not answer');
      },
    });
    const report = await applyPlan(p, ctx);
    expect(report.status).toBe('unreachable');
    expect(report.refusal?.message).toBe('could not read vm/100: https://127.0.0.1:1 did not answer; nothing was changed, try again');
    expect(readLockHolder(journal)).toBeUndefined();
    expect(pve.requests).toEqual([]);
  });

  it('reverts pending network changes when the network apply fails', async () => {
    const pve = new FakePve({ failTask: (r) => (r.method === 'PUT' && r.path === '/nodes/proxmox/network' ? 'ifreload failed' : undefined) });
    const p = plan([
      action('network.bridge.create:vmbr1', {
        targetKey: 'bridge/vmbr1',
        params: { channel: 'pve', requests: [{ method: 'POST', path: '/nodes/proxmox/network', params: { iface: 'vmbr1', type: 'bridge' }, async: false }] },
      }),
      action('network.apply', {
        targetKey: 'network',
        dependsOn: ['network.bridge.create:vmbr1'],
        params: { channel: 'pve', requests: [{ method: 'PUT', path: '/nodes/proxmox/network', params: {}, async: true }] },
      }),
    ]);
    const report = await applyPlan(await withFingerprints(p, pve), context(pve, memoryJournal()));
    expect(report.status).toBe('failed');
    expect(report.actions[1]?.detail).toContain('pending network changes reverted');
    expect(pve.requests.at(-1)).toMatchObject({ method: 'DELETE', path: '/nodes/proxmox/network' });
    expect(pve.network.map((i) => i.iface)).toEqual(['vmbr0']);
  });

  it('reports accepted vs achieved from the re-scan', async () => {
    const pve = new FakePve();
    const p = await withFingerprints(plan([vmCreateAction(100), vmCreateAction(101)]), pve);
    const report = await applyPlan(
      p,
      context(pve, memoryJournal(), {
        validate: async () => ({
          remaining: [{ actionId: 'vm.update:101', targetKey: 'vm/101', summary: 'memory 1024 → 2048' }],
          probes: [{ name: 'vm/100 running', targetKey: 'vm/100', ok: true, detail: 'running' }],
        }),
      }),
    );
    expect(report.status).toBe('failed');
    expect(report.actions.map((a) => [a.actionId, a.accepted, a.achieved])).toEqual([
      ['vm.create:100', true, true],
      ['vm.create:101', true, false],
    ]);
    expect(report.validation?.ok).toBe(false);
    expect(report.next.join('\n')).toContain('still pending after apply: vm.update:101');
  });
});
