// Apply's stale check re-reads only the plan's targets: that must give exactly the fingerprints the plan recorded
// while the lab is unchanged, and a different one for a target that moved.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSimLab, type Lab } from '../../app/lab.ts';
import { FACT_READERS } from '../../infra/facts/readers.ts';
import { buildPlan, fingerprintTargets, scanLab, type ScanPorts } from '../../planner/index.ts';
import { loadReference } from './fixtures.ts';

const { spec, source } = await loadReference();
let lab: Lab;
let ports: ScanPorts;

beforeAll(async () => {
  lab = await openSimLab({ scenario: 'phase1' });
  ports = { ...lab.ports, facts: FACT_READERS };
});
afterAll(async () => {
  await lab.close();
});

describe('fingerprintTargets', () => {
  it('matches the plan for every target its actions touch, and changes when a VM config changes', async () => {
    const state = await scanLab(ports, spec, 2);
    const plan = buildPlan({ spec, specPath: 's', specSha256: source.sha256, phase: 'phase2', state, requestedBy: 't', now: 'n', id: 'i' });
    const keys = [...new Set(plan.actions.map((a) => a.targetKey))].sort();
    expect(keys).toEqual(expect.arrayContaining(['network', 'vm/300', 'vm/400', 'firewall/cluster', 'guest/100']));
    const again = await fingerprintTargets(ports, keys, spec);
    expect(again).toEqual(Object.fromEntries(keys.map((k) => [k, plan.stateFingerprint[k]])));
    // Each key on its own, too: a target's fingerprint does not depend on which others are asked for.
    for (const key of keys) expect(await fingerprintTargets(ports, [key], spec), key).toEqual({ [key]: plan.stateFingerprint[key] });
    await lab.ports.pve.setVmConfig(300, { memory: '4096' });
    const moved = await fingerprintTargets(ports, ['vm/300', 'vm/400'], spec);
    expect(moved['vm/300']).not.toBe(plan.stateFingerprint['vm/300']);
    expect(moved['vm/400']).toBe(plan.stateFingerprint['vm/400']);
  });
});
