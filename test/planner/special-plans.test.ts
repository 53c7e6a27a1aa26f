// The pure builders of rollback and backup-retry plans: requests valid for the official PVE schema, a hash apply can
// recompute, a fingerprint in the planner's own form, and ratings from the catalogue.
import { describe, expect, it } from 'vitest';
import { validatePveRequest } from '../../lib/pve-schema/index.ts';
import { computePlanHash } from '../../planner/artifact.ts';
import { buildBackupRunPlan, buildRollbackPlan, isSpecialPlan } from '../../planner/special-plans.ts';

const base = { node: 'proxmox', spec: { path: 'specs/nas.desired.yaml', sha256: 'b'.repeat(64) }, phase: 'phase0' as const, requestedBy: 'discord:400', now: '2026-11-26T02:00:00.000Z', id: 'plan-x' };

describe('buildRollbackPlan', () => {
  it('a running VM: rollback with start=1 after a pre-snapshot; high risk; downtime; valid for the schema', () => {
    const plan = buildRollbackPlan({ ...base, vmid: 300, vmName: 'app-host', snapshot: 'before-upgrade', liveDigest: 'abc', running: true });
    const [action] = plan.actions;
    expect(plan.stateFingerprint).toEqual({ 'vm/300': 'digest=abc;status=running' });
    expect(action).toMatchObject({ type: 'vm.rollback', risk: 'high', target: 'vm/300 (app-host)', expectedDowntimeSeconds: 60 });
    expect(plan.summary.maxRisk).toBe('high');
    const pre = action!.preSnapshot as { vmid: number; name: string };
    expect(pre.name).toMatch(/^jarvis-pre-[0-9a-f]{8}$/);
    expect(action!.rollbackHint).toContain(`qm rollback 300 ${pre.name}`);
    const request = action!.params.channel === 'pve' ? action!.params.requests[0]! : undefined;
    expect(request).toMatchObject({ method: 'POST', path: '/nodes/proxmox/qemu/300/snapshot/before-upgrade/rollback', params: { start: 1 }, async: true });
    expect(validatePveRequest(request!.method, request!.path, request!.params)).toMatchObject({ ok: true, async: true });
    expect(plan.planHash).toBe(computePlanHash(plan));
    expect(isSpecialPlan(plan)).toBe(true);
  });

  it('a stopped VM stays stopped and has no downtime; another target or state gives another hash and snapshot name', () => {
    const stopped = buildRollbackPlan({ ...base, vmid: 300, snapshot: 'before-upgrade', liveDigest: 'abc', running: false });
    const request = stopped.actions[0]!.params.channel === 'pve' ? stopped.actions[0]!.params.requests[0]! : undefined;
    expect(request?.params).toEqual({});
    expect(stopped.actions[0]!.expectedDowntime).toBe('none');
    const other = buildRollbackPlan({ ...base, vmid: 300, snapshot: 'before-upgrade', liveDigest: 'def', running: false });
    expect(other.planHash).not.toBe(stopped.planHash);
    expect(other.actions[0]!.preSnapshot).not.toEqual(stopped.actions[0]!.preSnapshot);
  });
});

describe('buildBackupRunPlan', () => {
  it('one vzdump run with the job’s storage and retention; low risk, no pre-snapshot, no downtime in snapshot mode', () => {
    const plan = buildBackupRunPlan({ ...base, vmid: 100, liveDigest: 'd1', running: true, storage: 'local', mode: 'snapshot', compress: 'zstd', pruneBackups: 'keep-daily=7', jobId: 'jarvis-daily' });
    const [action] = plan.actions;
    expect(action).toMatchObject({ type: 'backup.run', risk: 'low', preSnapshot: false, expectedDowntime: 'none' });
    const request = action!.params.channel === 'pve' ? action!.params.requests[0]! : undefined;
    expect(request).toEqual({ method: 'POST', path: '/nodes/proxmox/vzdump', params: { vmid: '100', storage: 'local', mode: 'snapshot', compress: 'zstd', 'prune-backups': 'keep-daily=7' }, async: true });
    expect(validatePveRequest(request!.method, request!.path, request!.params)).toMatchObject({ ok: true, async: true });
  });

  it('stop mode on a running VM announces downtime', () => {
    const plan = buildBackupRunPlan({ ...base, vmid: 100, liveDigest: 'd1', running: true, storage: 'local', mode: 'stop' });
    expect(plan.actions[0]!.expectedDowntimeSeconds).toBeGreaterThan(0);
    expect(plan.summary.expectedDowntimeSeconds).toBe(plan.actions[0]!.expectedDowntimeSeconds);
  });
});
