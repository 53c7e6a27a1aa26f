// Firewall commit-confirm on pve-firewall's timing: a written change is in force only once the daemon's update cycle
// has loaded it (pve_firewall.pm, `$updatetime = 10`), so probes count only after that, and they cover two cycles.
// The fake daemon here loads the configuration when a test says so; management answers by what it has loaded.
import { describe, expect, it } from 'vitest';
import { applyPlan } from '../../deploy/engine.ts';
import { FakePve } from './support/fake-pve.ts';
import { action, context, firewallLockOutAction, memoryJournal, plan, withFingerprints } from './support/plans.ts';

const CYCLE_MS = 60;

/** pve-firewall as the node runs it: the ruleset in force is what the last cycle loaded from the configuration. */
function daemon(pve: FakePve) {
  const state = { loaded: {} as Record<string, string | number>, statusReads: 0 };
  const configured = () => ({ ...(pve.firewall.get('/cluster')?.options ?? {}) });
  return {
    state,
    load: () => {
      state.loaded = configured();
    },
    pending: () => JSON.stringify(configured()) !== JSON.stringify(state.loaded),
    /** New connections to 8006/22: refused once a DROP policy is loaded (the fake has no ACCEPT rules). */
    probe: async () => {
      const locked = state.loaded.enable === 1 && state.loaded.policy_in === 'DROP';
      return { ok: !locked, detail: locked ? '127.0.0.1:8006 did not answer within 3000 ms' : '127.0.0.1:8006 accepts connections' };
    },
  };
}

describe('firewall commit-confirm waits for pve-firewall', () => {
  it('counts probes only once the daemon has loaded the change, so a lock-out the old ruleset hid is reverted', async () => {
    const pve = new FakePve();
    const fw = daemon(pve);
    const p = await withFingerprints(plan([firewallLockOutAction()], { phase: 'firewall' }), pve);
    const timeline: string[] = [];
    const ctx = context(pve, memoryJournal(), {
      confirmWindowMs: 300,
      firewallCycleMs: CYCLE_MS,
      // The next cycle comes on the third look at the status; the restore is loaded by the cycle after it.
      firewallStatus: async () => {
        fw.state.statusReads += 1;
        if (fw.state.statusReads % 3 === 0) fw.load();
        const pending = fw.pending();
        timeline.push(pending ? 'status: pending' : 'status: loaded');
        return { pending, line: `Status: enabled/running${pending ? ' (pending changes)' : ''}` };
      },
      probeManagement: async () => {
        const result = await fw.probe();
        timeline.push(`probe ${result.ok ? 'ok' : 'fails'}`);
        return result;
      },
    });
    const report = await applyPlan(p, ctx);
    // Before the cycle the old ruleset was in force and management answered; no probe was counted then.
    expect(timeline.slice(0, 3)).toEqual(['status: pending', 'status: pending', 'status: loaded']);
    expect(timeline[3]).toBe('probe fails');
    expect(report.actions[0]).toMatchObject({ outcome: 'reverted' });
    expect(report.actions[0]!.detail).toMatch(/pve-firewall loaded the change after [\d.]+ s \(Status: enabled\/running\)/);
    // The restore is waited for too: management is probed again only once the daemon has loaded it.
    expect(report.actions[0]!.detail).toMatch(/previous state restored after [\d.]+ s; pve-firewall loaded the change after .*; management reachable again$/);
    expect(pve.firewall.get('/cluster')?.options.policy_in).toBe('ACCEPT');
  });

  it('confirms a change only after probing over two update cycles', async () => {
    const pve = new FakePve();
    const fw = daemon(pve);
    const p = await withFingerprints(plan([firewallLockOutAction()], { phase: 'firewall' }), pve);
    const probes: number[] = [];
    let loadedAt = 0;
    const ctx = context(pve, memoryJournal(), {
      confirmWindowMs: 100,
      firewallCycleMs: CYCLE_MS,
      firewallStatus: async () => {
        if (loadedAt === 0) loadedAt = Date.now();
        return { pending: false, line: 'Status: enabled/running' };
      },
      probeManagement: async () => {
        probes.push(Date.now());
        return { ok: true, detail: 'reachable' };
      },
    });
    const report = await applyPlan(p, ctx);
    expect(report.status).toBe('applied');
    expect(report.actions[0]?.detail).toContain('management reachable after the change, over 2 update cycles');
    expect(probes.length).toBeGreaterThan(1);
    expect(probes.at(-1)! - loadedAt).toBeGreaterThanOrEqual(2 * CYCLE_MS);
    expect(fw.state.statusReads).toBe(0);
  });

  it('without a way to read pve-firewall status, waits a cycle and a half before the first probe counts', async () => {
    let written = 0;
    const pve = new FakePve({ afterRequest: (r) => (r.path === '/cluster/firewall/options' ? (written = Date.now()) : undefined) });
    const p = await withFingerprints(plan([firewallLockOutAction()], { phase: 'firewall' }), pve);
    const probes: number[] = [];
    const ctx = context(pve, memoryJournal(), {
      confirmWindowMs: 100,
      firewallCycleMs: CYCLE_MS,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      probeManagement: async () => {
        probes.push(Date.now());
        return { ok: true, detail: 'reachable' };
      },
    });
    const report = await applyPlan(p, ctx);
    expect(report.status).toBe('applied');
    expect(report.actions[0]?.detail).toMatch(/waited [\d.]+ s for pve-firewall's update cycle/);
    expect(probes[0]! - written).toBeGreaterThanOrEqual(1.5 * CYCLE_MS - 5);
  });

  it('does not wait for pve-firewall after a network change (ifreload applies it at once)', async () => {
    const pve = new FakePve();
    const network = action('network.apply', {
      type: 'network.apply',
      targetKey: 'network',
      commitConfirm: true,
      params: { channel: 'pve', requests: [{ method: 'PUT', path: '/nodes/proxmox/network', params: {}, async: false }], revert: [] },
    });
    const p = await withFingerprints(plan([network], { phase: 'phase2' }), pve);
    let statusReads = 0;
    const ctx = context(pve, memoryJournal(), {
      firewallCycleMs: 10_000,
      firewallStatus: async () => {
        statusReads += 1;
        return { pending: true, line: 'Status: enabled/running (pending changes)' };
      },
    });
    const report = await applyPlan(p, ctx);
    expect(report.status).toBe('applied');
    expect(statusReads).toBe(0);
  });
});
