// The three canonical specs describe one lab: the bootstrap and the firewall wave must agree with the reference.
import { describe, expect, it } from 'vitest';
import { parseSpecBytes, type LoadedSpec } from '../../planner/spec/load.ts';
import { FIREWALL, NAS, REFERENCE } from './helpers.ts';
import { SIM_SITE } from '../support/site.ts';

function load(text: string): LoadedSpec {
  const result = parseSpecBytes(Buffer.from(text), 'spec.yaml', SIM_SITE);
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.loaded;
}

describe('canonical specs agree', () => {
  const reference = load(REFERENCE).spec;

  it('the bootstrap holds exactly the reference phase-0 VMs, field for field (without later overrides)', () => {
    const nas = load(NAS).spec;
    const phase0 = reference.vms.filter((vm) => vm.phase === 0).map(({ overrides: _later, ...vm }) => vm);
    expect(nas.vms).toEqual(phase0);
    expect(nas.node).toEqual(reference.node);
    expect(nas.safetyGuards).toEqual(reference.safetyGuards);
  });

  it('the bootstrap backup job is the reference job as it is in phase 0', () => {
    const nas = load(NAS).spec;
    const { overrides: _later, ...job } = reference.backups!.jobs[0]!;
    expect(nas.backups?.jobs).toEqual([job]);
    expect(nas.firewall).toBeUndefined();
    expect(nas.network.bridges).toEqual([]);
  });

  it('the firewall wave carries the reference datacenter options, IP sets and management rules', () => {
    const wave = load(FIREWALL).spec;
    const cluster = wave.firewall!.cluster!;
    const ref = reference.firewall!.cluster!;
    expect(cluster.options).toEqual(ref.options);
    expect(cluster.ipsets).toEqual(ref.ipsets);
    expect(cluster.rules).toEqual(ref.rules);
    expect(cluster.aliases).toEqual([{ name: 'proxmox-host', cidr: '192.168.1.10', comment: 'the node' }]);
    expect(wave.firewall?.node?.options).toEqual({ enable: true });
    expect(wave.safetyGuards).toEqual(reference.safetyGuards);
  });
});
