// Two specs may state the same firewall rule, option, IP set or alias, but never differently: `jarvis check` refuses
// that (specs.ownership), located in the later file and naming the other one.
import { describe, expect, it } from 'vitest';
import { parseSpecBytes, type LoadedSpec } from '../../planner/spec/load.ts';
import { ownershipConflicts } from '../../planner/spec/ownership.ts';
import { SIM_SITE } from '../support/site.ts';
import { edit, FIREWALL, lineOf, NAS, REFERENCE } from './helpers.ts';

const load = (text: string, file: string): LoadedSpec => {
  const result = parseSpecBytes(Buffer.from(text), file, SIM_SITE);
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.loaded;
};
const RULES = ['firewall', 'cluster', 'rules'];

describe('specs side by side (specs.ownership)', () => {
  it('the canonical specs agree', () => {
    expect(ownershipConflicts([load(REFERENCE, 'specs/jarvis-homelab.desired.yaml'), load(NAS, 'specs/nas.desired.yaml'), load(FIREWALL, 'specs/preprod.firewall.desired.yaml')])).toEqual([]);
  });

  it('refuses the same rule stated differently, at the later file, naming the other', () => {
    const wave = edit(FIREWALL, [[[...RULES, 0, 'source'], '192.168.2.0/24']]);
    const found = ownershipConflicts([load(REFERENCE, 'specs/jarvis-homelab.desired.yaml'), load(wave, 'specs/preprod.firewall.desired.yaml')]);
    expect(found.map((f) => [f.severity, f.ruleId, f.file, f.path])).toEqual([['error', 'specs.ownership', 'specs/preprod.firewall.desired.yaml', 'firewall.cluster.rules[0]']]);
    expect(found[0]!.message).toBe(
      'the cluster rule IN ACCEPT 192.168.2.0/24 → any tcp/22 "admin LAN to SSH" is IN ACCEPT 192.168.1.0/24 → any tcp/22 "admin LAN to SSH" in jarvis-homelab (specs/jarvis-homelab.desired.yaml)',
    );
    expect(found[0]!.line).toBe(lineOf(wave, '192.168.2.0/24') - 2);
  });

  it('refuses a different policy, and an IP set with other addresses', () => {
    const wave = edit(FIREWALL, [
      [['firewall', 'cluster', 'options', 'policy_in'], 'REJECT'],
      [['firewall', 'cluster', 'ipsets', 2, 'cidrs'], ['10.10.40.0/24']],
    ]);
    const found = ownershipConflicts([load(REFERENCE, 'specs/a.yaml'), load(wave, 'specs/b.yaml')]);
    expect(found.map((f) => [f.path, f.message])).toEqual([
      ['firewall.cluster.options.policy_in', 'firewall option cluster.policy_in is REJECT here and DROP in jarvis-homelab (specs/a.yaml)'],
      ['firewall.cluster.ipsets[2].cidrs', 'IP set seg-iot holds 10.10.40.0/24 here and 10.10.30.0/24 in jarvis-homelab (specs/a.yaml)'],
    ]);
  });

  it('refuses two actions for the same match, even under different comments', () => {
    const wave = edit(FIREWALL, [[[...RULES, 2], { action: 'DROP', source: '100.64.0.0/10', proto: 'tcp', dport: '22,8006', comment: 'no tailnet' }]]);
    const found = ownershipConflicts([load(REFERENCE, 'specs/a.yaml'), load(wave, 'specs/b.yaml')]);
    expect(found.map((f) => f.path)).toEqual(['firewall.cluster.rules[2]']);
  });
});
