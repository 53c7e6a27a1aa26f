// Staleness tells "changed" from "could not read": a target whose read fails is read again with growing pauses, and
// if it still cannot be read apply stops before any write with "could not read …; nothing was changed, try again"
// (exit 4), never "stale". A target that really changed is stale whatever the others say.
import { describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../cli/commands/apply.ts';
import { applyPlan } from '../../deploy/engine.ts';
import { readLockHolder } from '../../deploy/lock.ts';
import { renderReport } from '../../deploy/render.ts';
import type { TargetReading } from '../../planner/index.ts';
import { EXIT } from '../../lib/errors.ts';
import { FakePve } from './support/fake-pve.ts';
import { action, context, fakeFingerprint, memoryJournal, plan, withFingerprints } from './support/plans.ts';

const PROBE_500 = 'vm/100: cannot read in-guest facts: Proxmox answered 500 to POST /nodes/{node}/qemu/{vmid}/agent/exec: simulated server error';

async function setup() {
  const pve = new FakePve();
  pve.addVm(100, { config: { name: 'edge', memory: 1024 } });
  const p = await withFingerprints(
    plan([
      action('vm.update:100', { targetKey: 'vm/100', params: { channel: 'pve', requests: [{ method: 'PUT', path: '/nodes/proxmox/qemu/100/config', params: { memory: 2048 }, async: false }] } }),
      action('guest.tailscale.join:100', { targetKey: 'guest/100', dependsOn: ['vm.update:100'], params: { channel: 'pve', requests: [] } }),
    ]),
    pve,
  );
  return { pve, p, journal: memoryJournal() };
}

/** The fake lab's fingerprints, with guest/100's facts probe failing for the first `failures` reads that ask for it. */
function flakyGuest(pve: FakePve, failures: number, reads: string[][]): (keys: string[]) => Promise<TargetReading> {
  const real = fakeFingerprint(pve);
  let left = failures;
  return async (keys) => {
    reads.push([...keys]);
    const reading = await real(keys);
    if (!keys.includes('guest/100') || left === 0) return reading;
    left -= 1;
    return { fingerprints: { ...reading.fingerprints, 'guest/100': 'unknown' }, unreadable: { 'guest/100': PROBE_500 } };
  };
}

describe('apply: a target that cannot be read', () => {
  it('is read again with growing pauses, then stops before any write with "could not read", exit 4, never "stale"', async () => {
    const { pve, p, journal } = await setup();
    const reads: string[][] = [];
    const pauses: number[] = [];
    const ctx = context(pve, journal, { fingerprint: flakyGuest(pve, Infinity, reads), sleep: async (ms) => void pauses.push(ms) });
    const report = await applyPlan(p, ctx);
    expect(report.status).toBe('unreachable');
    expect(report.refusal).toEqual({
      code: 'unreadable',
      message: `could not read guest/100: ${PROBE_500}; nothing was changed, try again`,
      unreadable: [{ targetKey: 'guest/100', reason: PROBE_500 }],
    });
    expect(exitCodeOf(report)).toBe(EXIT.unreachable);
    expect(report.next).toEqual([`try again: jarvis apply ${p.id} --yes`]);
    expect(renderReport(report)).toContain(`Not applied: could not read guest/100: ${PROBE_500}; nothing was changed, try again`);
    expect(renderReport(report)).not.toMatch(/stale|re-plan/);
    // One read of both targets, then only the unreadable one again, after longer and longer pauses.
    expect(reads).toEqual([['vm/100', 'guest/100'], ['guest/100'], ['guest/100'], ['guest/100']]);
    expect(pauses).toEqual([500, 1_000, 2_000]);
    expect(pve.requests).toEqual([]);
    expect(readLockHolder(journal)).toBeUndefined();
    expect(ctx.events.at(-1)).toEqual({ type: 'apply.finished', status: 'unreachable' });
  });

  it('applies when a later read succeeds and the target is as planned', async () => {
    const { pve, p, journal } = await setup();
    const reads: string[][] = [];
    const report = await applyPlan(p, context(pve, journal, { fingerprint: flakyGuest(pve, 2, reads) }));
    expect(report.status).toBe('applied');
    expect(reads.slice(0, 3)).toEqual([['vm/100', 'guest/100'], ['guest/100'], ['guest/100']]);
  });

  it('is stale, not unreadable, when another target changed: a new plan is needed anyway', async () => {
    const { pve, p, journal } = await setup();
    pve.vms.get(100)!.config.cores = 4;
    const reads: string[][] = [];
    const report = await applyPlan(p, context(pve, journal, { fingerprint: flakyGuest(pve, Infinity, reads) }));
    expect(report.status).toBe('refused');
    expect(report.refusal?.code).toBe('stale');
    expect(report.refusal?.moved?.map((m) => m.targetKey)).toEqual(['vm/100']);
    expect(reads).toHaveLength(1);
    expect(exitCodeOf(report)).toBe(EXIT.refused);
  });

  it('is stale when a target read at last turns out changed', async () => {
    const { pve, p, journal } = await setup();
    const real = fakeFingerprint(pve);
    let calls = 0;
    const fingerprint = async (keys: string[]): Promise<TargetReading> => {
      const reading = await real(keys);
      calls += 1;
      if (calls === 1) return { fingerprints: { ...reading.fingerprints, 'guest/100': 'unknown' }, unreadable: { 'guest/100': PROBE_500 } };
      return { fingerprints: { ...reading.fingerprints, 'guest/100': 'tailscale-left' }, unreadable: {} };
    };
    const report = await applyPlan(p, context(pve, journal, { fingerprint }));
    expect(report.refusal?.code).toBe('stale');
    expect(report.refusal?.moved).toEqual([{ targetKey: 'guest/100', planned: 'same', now: 'tailscale-left', actions: ['guest.tailscale.join:100'] }]);
  });

  it('is stale when it reads as unknown for a reason that is the target’s state (no failed read to retry)', async () => {
    const { pve, p, journal } = await setup();
    const real = fakeFingerprint(pve);
    const fingerprint = async (keys: string[]): Promise<TargetReading> => {
      const reading = await real(keys);
      return { fingerprints: { ...reading.fingerprints, ...(keys.includes('guest/100') ? { 'guest/100': 'unknown' } : {}) }, unreadable: {} };
    };
    const report = await applyPlan(p, context(pve, journal, { fingerprint }));
    expect(report.refusal?.code).toBe('stale');
  });

  it('a dry run says it could not check staleness, and does not call the plan stale', async () => {
    const { pve, p, journal } = await setup();
    const ctx = context(pve, journal, { dryRun: true, fingerprint: flakyGuest(pve, Infinity, []) });
    const report = await applyPlan(p, ctx);
    expect(report.status).toBe('dry-run');
    expect(report.dryRun?.stale).toBeUndefined();
    expect(ctx.events).toContainEqual({ type: 'warning', message: expect.stringMatching(/^could not check staleness: could not read guest\/100: /) });
    expect(exitCodeOf(report)).toBe(EXIT.ok);
  });

  it('validation reads again when its only failures are reads that failed, not when something is left to do', async () => {
    const { pve, p, journal } = await setup();
    const unread = { name: 'read in-guest state of VM 100', targetKey: 'guest/100', ok: false, detail: 'not verified: 500', unreadable: true };
    let calls = 0;
    const flaky = context(pve, journal, {
      validate: async () => (++calls === 1 ? { remaining: [], probes: [unread] } : { remaining: [], probes: [{ ...unread, ok: true, detail: 'read' }] }),
    });
    expect((await applyPlan(p, flaky)).status).toBe('applied');
    expect(calls).toBe(2);

    calls = 0;
    const { pve: pve2, p: p2, journal: journal2 } = await setup();
    const left = context(pve2, journal2, {
      validate: async () => {
        calls += 1;
        return { remaining: [{ actionId: 'vm.update:100', targetKey: 'vm/100', summary: 'memory' }], probes: [unread] };
      },
    });
    expect((await applyPlan(p2, left)).status).toBe('failed');
    expect(calls).toBe(1);
  });
});
