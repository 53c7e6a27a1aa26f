// Whole phases through the engine against the simulator in this process (HTTPS, pinned client), with the simulator's
// guest and host shells attached so provisioning steps run for real in their sandboxes: apply, then the plan for the
// same phase is empty.
import { afterEach, describe, expect, it } from 'vitest';
import { applyOnSim, planFor, simLab, type Cleanups } from './support/sim-lab.ts';

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe.each([
  { phase: 'phase1' as const, scenario: 'phase0' as const, expect: ['zfs.pool.create:tank', 'zfs.dataset.create:tank/media', 'migration.data:plex-media', 'host.apt.sources:no-subscription'], owner: [] as string[], blocked: [] as string[] },
  // The full reference at phase 2: router 150 boots its installer until the owner installs and configures OPNsense;
  // the moves, the tags that say where the guests live and the routes into the segments wait for that.
  {
    phase: 'firewall' as const,
    scenario: 'phase1' as const,
    expect: ['firewall.options:cluster', 'network.apply'],
    owner: ['manual.step:150:router'],
    blocked: ['guest.tailscale.routes:100', 'tailnet.routes.approve:edge-gateway', 'vm.nic.reattach:300:net0', 'vm.nic.reattach:400:net0', 'vm.tags:300', 'vm.tags:400'],
  },
])('$phase from $scenario', ({ phase, scenario, expect: mustHave, owner, blocked }) => {
  it('applies, validates, and the plan for the same phase is empty afterwards but for the owner\'s manual steps', async () => {
    const { sim, lab, mgmt } = await simLab(scenario, cleanups);
    const { loaded, plan } = await planFor(lab, phase, `${phase}-from-${scenario}`);
    expect(plan.violations).toEqual([]);
    expect(plan.actions.map((a) => a.id)).toEqual(expect.arrayContaining(mustHave));
    const { report, journal } = await applyOnSim({ sim, lab, mgmt }, loaded, plan, 5_000, cleanups);
    expect(report.actions.filter((a) => a.outcome !== 'done' && !owner.includes(a.actionId) && !blocked.includes(a.actionId))).toEqual([]);
    expect(report.actions.filter((a) => a.outcome === 'waiting').map((a) => a.actionId)).toEqual(owner);
    expect(report.actions.filter((a) => a.outcome === 'not-run').map((a) => a.actionId).sort()).toEqual([...blocked].sort());
    expect(report.validation?.remaining).toEqual([]);
    expect(report.validation?.waiting?.map((w) => w.actionId)).toEqual(owner);
    expect(report.validation?.blocked?.map((b) => b.actionId).sort() ?? []).toEqual([...blocked].sort());
    expect(report.status).toBe(owner.length ? 'waiting-for-owner' : 'applied');
    expect(report.actions.filter((a) => !a.achieved).map((a) => a.actionId).sort()).toEqual([...owner, ...blocked].sort());
    expect((await planFor(lab, phase, `${phase}-again`)).plan.actions.map((a) => a.id).sort()).toEqual([...owner, ...blocked].sort());
    expect(journal.verifyAuditChain().ok).toBe(true);
  }, 180_000);
});
