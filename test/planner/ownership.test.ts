// One owner for each firewall rule: the firewall wave (preprod-firewall) and phase 2 (jarvis-homelab) state the same
// management rules; each plan owns what it writes (a tag at the end of the comment), never deletes or rewrites a rule
// the other owns, counts an identical rule of the other as there, and tags a matching rule nobody owned yet.
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../planner/artifact.ts';
import { ownerOf, withOwner, withoutOwner } from '../../planner/firewall-owner.ts';
import { alignRules, type Comparable } from '../../planner/diff/rule-align.ts';
import { loadSpec } from '../../planner/spec/load.ts';
import { known, type LiveFirewallRule, type LiveState } from '../../planner/state.ts';
import { OPNSENSE_INSTALLER } from '../../planner/boot-media.ts';
import { loadReference, phase0State } from './fixtures.ts';

const reference = await loadReference();
const wave = await loadSpec(new URL('../../specs/preprod.firewall.desired.yaml', import.meta.url).pathname);

const planOf = (loaded: typeof reference, phase: 'phase2' | 'firewall', state: LiveState) =>
  buildPlan({ spec: loaded.spec, specPath: loaded.source.path, specSha256: loaded.source.sha256, phase, state, requestedBy: 'test', now: '2026-01-01T00:00:00Z', id: 'p' });

const rule = (pos: number, action: string, source: string, dport: string, comment: string): LiveFirewallRule => ({ pos, type: 'in', action, enable: true, source, proto: 'tcp', dport, comment });
const MANAGEMENT = (owner: string | undefined, from = 0): LiveFirewallRule[] => [
  rule(from, 'ACCEPT', '192.168.1.0/24', '22', owner ? withOwner('admin LAN to SSH', owner) : 'admin LAN to SSH'),
  rule(from + 1, 'ACCEPT', '192.168.1.0/24', '8006', owner ? withOwner('admin LAN to the web UI', owner) : 'admin LAN to the web UI'),
  rule(from + 2, 'ACCEPT', '100.64.0.0/10', '22,8006', owner ? withOwner('Tailscale management', owner) : 'Tailscale management'),
];
const DROPS = (owner: string): LiveFirewallRule[] => [
  rule(0, 'DROP', '+seg-services', '22,8006', withOwner('SERVICES must not reach Proxmox management', owner)),
  rule(1, 'DROP', '+seg-iot', '22,8006', withOwner('IOT must not reach Proxmox management', owner)),
];

function labWith(clusterRules: LiveFirewallRule[]): LiveState {
  const state = phase0State();
  state.publishedSums = { [OPNSENSE_INSTALLER.sums]: known({ 'OPNsense-25.7-dvd-amd64.iso.bz2': 'a'.repeat(64) }) };
  const fw = (state.firewall as { value: Extract<LiveState['firewall'], { known: true }>['value'] }).value;
  fw.cluster.rules = clusterRules.map((r, pos) => ({ ...r, pos }));
  fw.cluster.options = { enable: 1, policy_in: 'DROP', policy_out: 'ACCEPT' };
  fw.cluster.ipsets = ['mgmt-admins', 'seg-services', 'seg-iot'].map((name) => ({ name, cidrs: [name === 'mgmt-admins' ? '192.168.1.0/24' : name === 'seg-services' ? '10.10.20.0/24' : '10.10.30.0/24'] }));
  fw.cluster.aliases = [{ name: 'proxmox-host', cidr: '192.168.1.10', comment: 'the node' }];
  fw.node.options = { enable: 1 };
  return state;
}

const clusterRuleActions = (state: LiveState, loaded: typeof reference, phase: 'phase2' | 'firewall') =>
  planOf(loaded, phase, state).actions.filter((a) => a.id.startsWith('firewall.rule.') && a.targetKey === 'firewall/cluster').map((a) => [a.type, a.changes.map((c) => `${c.path}: ${String(c.to)}`).join('; ')]);

describe('owner tags', () => {
  it('are read, added and replaced at the end of a comment', () => {
    expect(withOwner('admin LAN to SSH', 'preprod-firewall')).toBe('admin LAN to SSH [jarvis:preprod-firewall]');
    expect(withOwner('admin LAN to SSH [jarvis:old]', 'new')).toBe('admin LAN to SSH [jarvis:new]');
    expect(withOwner(undefined, 'x')).toBe('[jarvis:x]');
    expect(ownerOf('admin LAN to SSH [jarvis:preprod-firewall]')).toBe('preprod-firewall');
    expect(ownerOf('made by hand')).toBeUndefined();
    expect(withoutOwner('[jarvis:x]')).toBeUndefined();
  });

  it('keep another owner\'s rules in place while this spec\'s are aligned around them', () => {
    const mine = (c: string): Comparable => ({ type: 'in', action: 'ACCEPT', comment: `${c} [jarvis:me]` });
    const theirs = (c: string): Comparable => ({ type: 'in', action: 'DROP', comment: `${c} [jarvis:other]` });
    expect(alignRules([mine('a'), theirs('x'), mine('b')], [mine('a'), mine('c')], 'me').map((o) => o.op)).toEqual(['keep', 'skip', 'update']);
    expect(alignRules([theirs('x'), mine('old')], [], 'me').map((o) => o.op)).toEqual(['skip', 'delete']);
    // The very rule this spec wants, owned by another: it serves both, untouched.
    expect(alignRules([{ ...mine('a'), comment: 'a [jarvis:other]' }], [mine('a')], 'me').map((o) => o.op)).toEqual(['keep']);
    // The same rule nobody owned yet: this spec takes it over (its comment gets the tag).
    expect(alignRules([{ ...mine('a'), comment: 'a' }], [mine('a')], 'me').map((o) => o.op)).toEqual(['update']);
  });
});

describe('the firewall wave and phase 2 never undo each other', () => {
  it('phase 2 after the wave adds its DROP rules before the wave\'s management rules and deletes none of them', () => {
    const actions = clusterRuleActions(labWith(MANAGEMENT('preprod-firewall')), reference, 'phase2');
    expect(actions).toEqual([
      ['firewall.rule.create', 'rules[0]: IN DROP +seg-services → any tcp/22,8006 "SERVICES must not reach Proxmox management"'],
      ['firewall.rule.create', 'rules[1]: IN DROP +seg-iot → any tcp/22,8006 "IOT must not reach Proxmox management"'],
    ]);
  });

  it('the wave after phase 2 plans nothing: phase 2\'s DROP rules are not the wave\'s to delete, and its management rules serve both', () => {
    const state = labWith([...DROPS('jarvis-homelab'), ...MANAGEMENT('jarvis-homelab', 2)]);
    expect(clusterRuleActions(state, wave, 'firewall')).toEqual([]);
  });

  it('a spec still removes its own rule it no longer wants, and one made by hand, but not the other\'s', () => {
    const state = labWith([
      ...DROPS('jarvis-homelab'),
      ...MANAGEMENT('preprod-firewall', 2),
      rule(5, 'ACCEPT', '10.99.0.0/16', '22', withOwner('retired VPN', 'preprod-firewall')),
      rule(6, 'ACCEPT', '10.98.0.0/16', '22', 'added by hand'),
    ]);
    expect(clusterRuleActions(state, wave, 'firewall').map(([type]) => type)).toEqual(['firewall.rule.delete', 'firewall.rule.delete']);
    const deleted = planOf(wave, 'firewall', state).actions.filter((a) => a.type === 'firewall.rule.delete').map((a) => String(a.changes[0]!.from));
    expect(deleted).toEqual(['IN ACCEPT 10.99.0.0/16 → any tcp/22 "retired VPN"', 'IN ACCEPT 10.98.0.0/16 → any tcp/22 "added by hand"']);
  });

  it('takes over a matching rule nobody owned (an older lab) by tagging it, once', () => {
    const state = labWith([...MANAGEMENT(undefined)]);
    const updates = planOf(wave, 'firewall', state).actions.filter((a) => a.type === 'firewall.rule.update');
    expect(updates.map((a) => a.changes.map((c) => [c.path, c.to]))).toEqual([
      [['rules[0].comment', 'admin LAN to SSH [jarvis:preprod-firewall]']],
      [['rules[1].comment', 'admin LAN to the web UI [jarvis:preprod-firewall]']],
      [['rules[2].comment', 'Tailscale management [jarvis:preprod-firewall]']],
    ]);
  });
});
