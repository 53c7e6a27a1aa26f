// Rollback and backup-retry plans through the real services over the simulator (phase0): built from live facts,
// refused with a clear message when the snapshot is unknown, applied only with an approval, validated by probing.
import { describe, expect, it } from 'vitest';
import type { Lab } from '../../app/lab.ts';
import type { RunningServices } from '../../app/services.ts';
import type { ApprovalRecord, Requester } from '../../commands/services.ts';
import { validatePveRequest } from '../../lib/pve-schema/index.ts';
import { AlertStore } from '../../monitor/alert-store.ts';
import { planContent, planContentHash } from '../../planner/artifact.ts';
import type { Plan } from '../../planner/plan.ts';
import { servicesOnSimAroundAll } from '../support/services-on-sim.ts';

const owner: Requester = { platform: 'console', id: 'owner', displayName: 'owner' };
const approval = (plan: Plan): ApprovalRecord => ({ approver: 'console:owner', planId: plan.id, planHash: plan.planHash, contentHash: planContentHash(plan), at: new Date().toISOString(), via: 'text' });

let lab: Lab;
let running: RunningServices;
let dir: string;

servicesOnSimAroundAll({ scenario: 'phase0', taskSeconds: 0.05 }, (opened) => ({ lab, running, dir } = opened));

const memoryOf = async (vmid: number): Promise<number> => Number((await lab.ports.pve.vmConfig(vmid)).config.memory);

describe('a VM that does not exist', () => {
  it('is "no VM 999" for snapshots, rollback and a backup retry, not a raw 500 or "in no backup job"', async () => {
    const expected = { ok: false, code: 'not-found', message: 'no VM 999 on proxmox', next: '/jarvis status' };
    expect(await running.services.snapshots(999)).toEqual(expected);
    expect(await running.services.planRollback(999, 'before-change', owner)).toEqual(expected);
    expect(await running.services.planBackupRetry(999, owner)).toEqual(expected);
  });
});

describe('rollback plans against the simulator', () => {
  it('refuses an unknown snapshot and lists the VM’s snapshots', async () => {
    const result = await running.services.planRollback(300, 'no-such-snap', owner);
    expect(result).toMatchObject({ ok: false, code: 'not-found' });
    expect(!result.ok && result.message).toBe('VM 300 has no snapshot "no-such-snap"; it has no snapshots');
  });

  it('snapshot, change memory, plan the rollback, apply it with an approval: the memory is back', async () => {
    const pve = lab.ports.pve;
    expect((await pve.waitForTask(await pve.createSnapshot(300, 'before-change', 'test'))).ok).toBe(true);
    await pve.setVmConfig(300, { memory: 4096 });
    expect(await memoryOf(300)).toBe(4096);

    const result = await running.services.planRollback(300, 'before-change', owner);
    if (!result.ok) throw new Error(result.message);
    const { plan } = result;
    expect(plan.actions).toHaveLength(1);
    const action = plan.actions[0]!;
    expect(action).toMatchObject({ type: 'vm.rollback', risk: 'high', targetKey: 'vm/300', preSnapshot: { vmid: 300, name: expect.stringMatching(/^jarvis-pre-[0-9a-f]{8}$/) } });
    expect(action.rollbackHint).toContain(`qm rollback 300 ${(action.preSnapshot as { name: string }).name}`);
    expect(plan.spec.path).toBe('specs/nas.desired.yaml');
    expect(result.markdown).toContain('before-change');
    const request = action.params.channel === 'pve' ? action.params.requests[0]! : undefined;
    expect(request).toEqual({ method: 'POST', path: '/nodes/proxmox/qemu/300/snapshot/before-change/rollback', params: { start: 1 }, async: true });

    const refused = await running.services.apply(plan.id, { approvals: [], approvedPlan: planContent(plan), requester: owner });
    expect(refused.outcome).toBe('refused');
    expect(await memoryOf(300)).toBe(4096);

    const report = await running.services.apply(plan.id, { approvals: [approval(plan)], approvedPlan: planContent(plan), requester: owner });
    expect(report).toMatchObject({ outcome: 'applied', validated: true, validatedBy: 'vm-checks', message: 'applied 1 action(s); checks pass: vm/300 exists, vm/300 running' });
    expect(await memoryOf(300)).toBe(8192);
    const names = (await pve.listSnapshots(300)).map((s) => s.name);
    expect(names).toContain((action.preSnapshot as { name: string }).name);
    expect((await pve.vmStatus(300)).status).toBe('running');
    expect(lab.sim!.schemaViolations).toEqual([]);
  });

  it('a VM changed after the plan was made makes the rollback stale: nothing is rolled back', async () => {
    const result = await running.services.planRollback(300, 'before-change', owner);
    if (!result.ok) throw new Error(result.message);
    await lab.ports.pve.setVmConfig(300, { memory: 2048 });
    const report = await running.services.apply(result.plan.id, { approvals: [approval(result.plan)], approvedPlan: planContent(result.plan), requester: owner });
    expect(report.outcome).toBe('refused');
    expect(report.message).toContain('stale');
    expect(await memoryOf(300)).toBe(2048);
  });
});

describe('backup retry plans against the simulator', () => {
  it('backs the VM up with its job’s storage and settings, only once approved; the log can be read', async () => {
    const result = await running.services.planBackupRetry(100, owner);
    if (!result.ok) throw new Error(result.message);
    const action = result.plan.actions[0]!;
    expect(action).toMatchObject({ type: 'backup.run', risk: 'low', preSnapshot: false, expectedDowntime: 'none' });
    const request = action.params.channel === 'pve' ? action.params.requests[0]! : undefined;
    expect(request).toEqual({
      method: 'POST',
      path: '/nodes/proxmox/vzdump',
      params: { vmid: '100', storage: 'local', mode: 'snapshot', compress: 'zstd', 'prune-backups': 'keep-daily=7,keep-weekly=4,keep-monthly=6' },
      async: true,
    });
    expect(validatePveRequest(request!.method, request!.path, request!.params)).toMatchObject({ ok: true, async: true });

    const before = lab.sim!.lab.tasks.tasks.filter((t) => t.type === 'vzdump').length;
    const report = await running.services.apply(result.plan.id, { approvals: [approval(result.plan)], approvedPlan: planContent(result.plan), requester: owner });
    expect(report).toMatchObject({ outcome: 'applied', validated: true });
    const runs = lab.sim!.lab.tasks.tasks.filter((t) => t.type === 'vzdump');
    expect(runs.length).toBe(before + 1);

    const log = await running.services.taskLog(runs.at(-1)!.upid);
    if ('code' in log) throw new Error(log.message);
    expect(log.status).toBe('OK');
    expect(log.lines.join('\n')).toContain('Backup of VM 100');
    expect(await running.services.taskLog('not-a-upid')).toMatchObject({ ok: false, code: 'invalid' });
  });

  it('refuses a VM in no backup job', async () => {
    const pve = lab.ports.pve;
    const upid = await pve.request('POST', `/nodes/${pve.node}/qemu`, { vmid: 555, name: 'scratch', memory: 512 });
    expect((await pve.waitForTask(String(upid))).ok).toBe(true);
    expect(await running.services.planBackupRetry(555, owner)).toMatchObject({ ok: false, code: 'not-found', message: expect.stringContaining('VM 555 is in no enabled backup job') });
  });

  it('status offers a drift fix once the drift watch found drift, a retry for VMs whose backups need attention, and the log of the failed task', async () => {
    const store = AlertStore.open(dir);
    try {
      store.saveDrift({ phase: 'phase0', actionCount: 1, lines: ['~ vm/300 (app-host): memory'], hash: 'h1' });
    } finally {
      store.close();
    }
    lab.sim!.lab.failNextTask('vzdump');
    const failed = await lab.ports.pve.vzdump({ vmid: '300', storage: 'local', mode: 'snapshot' });
    expect((await lab.ports.pve.waitForTask(failed)).ok).toBe(false);
    const status = await running.services.status();
    expect(status.followUps).toContainEqual({ kind: 'plan-fix', phase: 'phase0' });
    expect(status.followUps).toContainEqual({ kind: 'plan-retry', vmid: 300 });
    expect(status.followUps).toContainEqual({ kind: 'show-log', upid: failed, label: expect.stringMatching(/^Show log: VM 300 failed \d+ min ago$/) });
    expect(status.sections.find((s) => s.title === 'Needs attention')?.lines.join('\n')).toContain('drift from the phase0 spec');
    expect(status.sections.find((s) => s.title === 'Backups')?.lines.join('\n')).toContain(`task ${failed}`);
    expect((await running.services.backups()).followUps?.map((f) => f.kind).sort()).toEqual(['plan-retry', 'show-log']);
  });

  it('snoozes an alert key in the alert store', async () => {
    const answer = await running.services.snoozeAlert('drift', 24, owner);
    expect(answer).toMatchObject({ ok: true, key: 'drift' });
    const store = AlertStore.open(dir);
    try {
      expect(store.get('drift')?.snoozedUntil).toBe(Date.parse((answer as { until: string }).until));
    } finally {
      store.close();
    }
  });
});
