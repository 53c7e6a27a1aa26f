// Apply's stale check re-reads only the plan's targets: that must give exactly the fingerprints the plan recorded
// while the lab is unchanged, and a different one for a target that moved.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSimLab, type Lab } from '../../app/lab.ts';
import { FACT_READERS } from '../../infra/facts/readers.ts';
import { buildPlan, readTargets, scanLab, type ScanPorts } from '../../planner/index.ts';
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

describe('readTargets', () => {
  it('matches the plan for every target its actions touch, and changes when a VM config changes', async () => {
    const state = await scanLab(ports, spec, 2);
    const plan = buildPlan({ spec, specPath: 's', specSha256: source.sha256, phase: 'phase2', state, requestedBy: 't', now: 'n', id: 'i' });
    const keys = [...new Set(plan.actions.map((a) => a.targetKey))].sort();
    expect(keys).toEqual(expect.arrayContaining(['network', 'vm/300', 'vm/400', 'firewall/cluster', 'guest/100']));
    const again = await readTargets(ports, keys, spec);
    expect(again.unreadable).toEqual({});
    expect(again.fingerprints).toEqual(Object.fromEntries(keys.map((k) => [k, plan.stateFingerprint[k]])));
    // Each key on its own, too: a target's fingerprint does not depend on which others are asked for.
    for (const key of keys) expect((await readTargets(ports, [key], spec)).fingerprints, key).toEqual({ [key]: plan.stateFingerprint[key] });
    await lab.ports.pve.setVmConfig(300, { memory: '4096' });
    const { fingerprints: moved } = await readTargets(ports, ['vm/300', 'vm/400'], spec);
    expect(moved['vm/300']).not.toBe(plan.stateFingerprint['vm/300']);
    expect(moved['vm/400']).toBe(plan.stateFingerprint['vm/400']);
  });

  it('names the targets whose read failed, with the cause, and not a guest whose VM is stopped', async () => {
    const failing: ScanPorts = {
      ...ports,
      guestShell: (vmid) => ({ host: `vm/${vmid}`, transport: 'agent', close: async () => {}, exec: async () => Promise.reject(new Error('Proxmox answered 500 to POST …/agent/exec')) }),
    };
    const reading = await readTargets(failing, ['guest/100', 'vm/100'], spec);
    expect(reading.fingerprints['guest/100']).toBe('unknown');
    expect(reading.unreadable).toEqual({ 'guest/100': expect.stringContaining('Proxmox answered 500 to POST …/agent/exec') });
    lab.sim!.lab.vm('100').status = 'stopped';
    try {
      const stopped = await readTargets(failing, ['guest/100'], spec);
      expect(stopped).toEqual({ fingerprints: { 'guest/100': 'unknown' }, unreadable: {} });
    } finally {
      lab.sim!.lab.vm('100').status = 'running';
    }
  });
});
