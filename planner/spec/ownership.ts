// Specs side by side: two specs may both state a firewall rule, option, IP set or alias, but never differently. Each
// spec's plans own only what they write (planner/firewall-owner.ts), so a rule both state the same way serves both;
// one they state differently would be rewritten by every plan of either: `jarvis check` refuses that, located in the
// later file, naming the other one.
import { canonicalJson } from '../hash.ts';
import { resolvePhase, toRule } from '../resolve.ts';
import type { DesiredFirewall, DesiredFirewallRule, PhaseNumber } from '../desired-state.ts';
import { withoutOwner } from '../firewall-owner.ts';
import { ruleLine } from '../rule-text.ts';
import { formatPath, type SpecDiagnostic, type SpecPath } from './diagnostic.ts';
import type { LoadedSpec } from './load.ts';
import type { FirewallRuleSpec } from './schema.ts';

export const OWNERSHIP_RULE = 'specs.ownership';

interface Claims {
  options: Map<string, { value: string; path: SpecPath }>;
  ipsets: Map<string, { cidrs: string; path: SpecPath }>;
  aliases: Map<string, { cidr: string; path: SpecPath }>;
  /** By chain (`cluster`, `node`, `group/G`, `vm/N`). */
  rules: Map<string, Array<{ rule: DesiredFirewallRule; path: SpecPath }>>;
}

const MATCH_KEYS = ['type', 'source', 'dest', 'proto', 'dport', 'sport', 'iface', 'macro'] as const;
const matchOf = (rule: DesiredFirewallRule) => canonicalJson(Object.fromEntries(MATCH_KEYS.map((k) => [k, rule[k]])));
const meaningOf = (rule: DesiredFirewallRule) => canonicalJson({ ...rule, comment: withoutOwner(rule.comment) });
const line = (rule: DesiredFirewallRule) => ruleLine({ ...rule, enable: rule.enable ? 1 : 0 });
const text = (v: unknown) => (typeof v === 'boolean' ? (v ? '1' : '0') : String(v));

/** Where an explicit rule is in the spec; a rule the segmentation compiled is located at firewall.segmentation. */
function locateRule(loaded: LoadedSpec, chain: string, rule: DesiredFirewallRule): SpecPath {
  const { spec } = loaded;
  const same = (list: FirewallRuleSpec[] | undefined, base: SpecPath): SpecPath | undefined => {
    const index = list?.findIndex((r) => canonicalJson(toRule(r)) === canonicalJson(rule)) ?? -1;
    return index >= 0 ? [...base, index] : undefined;
  };
  if (chain === 'cluster') return same(spec.firewall?.cluster?.rules, ['firewall', 'cluster', 'rules']) ?? ['firewall', 'segmentation'];
  if (chain === 'node') return same(spec.firewall?.node?.rules, ['firewall', 'node', 'rules']) ?? ['firewall', 'node'];
  const group = /^group\/(.+)$/.exec(chain);
  if (group) {
    const gi = spec.firewall?.cluster?.groups.findIndex((g) => g.group === group[1]) ?? -1;
    return (gi >= 0 ? same(spec.firewall!.cluster!.groups[gi]!.rules, ['firewall', 'cluster', 'groups', gi, 'rules']) : undefined) ?? ['firewall', 'cluster', 'groups'];
  }
  const vmid = Number(chain.slice(3));
  const vi = spec.vms.findIndex((vm) => vm.vmid === vmid);
  return (vi >= 0 ? same(spec.vms[vi]!.firewall?.rules, ['vms', vi, 'firewall', 'rules']) : undefined) ?? ['firewall', 'segmentation'];
}

function claimsOf(loaded: LoadedSpec): Claims {
  const { spec } = loaded;
  const fw: DesiredFirewall = resolvePhase(spec, spec.metadata.maxPhase as PhaseNumber).firewall;
  const claims: Claims = { options: new Map(), ipsets: new Map(), aliases: new Map(), rules: new Map() };
  const options = (level: string, values: Record<string, unknown> | undefined, base: SpecPath) => {
    for (const [key, value] of Object.entries(values ?? {})) if (value !== undefined) claims.options.set(`${level}.${key}`, { value: text(value), path: [...base, key] });
  };
  options('cluster', fw.cluster?.options, ['firewall', 'cluster', 'options']);
  options('node', fw.node?.options, ['firewall', 'node', 'options']);
  for (const [vmid, vm] of Object.entries(fw.vms)) {
    const vi = spec.vms.findIndex((v) => v.vmid === Number(vmid));
    options(`vm/${vmid}`, vm.options, vi >= 0 && spec.vms[vi]!.firewall ? ['vms', vi, 'firewall', 'options'] : ['firewall', 'segmentation']);
  }
  fw.cluster?.ipsets.forEach((set) => {
    const si = spec.firewall?.cluster?.ipsets.findIndex((s) => s.name === set.name) ?? -1;
    claims.ipsets.set(set.name, { cidrs: [...set.cidrs].sort().join(', '), path: si >= 0 ? ['firewall', 'cluster', 'ipsets', si, 'cidrs'] : ['firewall', 'segmentation', 'segments'] });
  });
  fw.cluster?.aliases.forEach((alias, ai) => claims.aliases.set(alias.name, { cidr: alias.cidr, path: ['firewall', 'cluster', 'aliases', ai, 'cidr'] }));
  const chains: Array<[string, DesiredFirewallRule[]]> = [
    ['cluster', fw.cluster?.rules ?? []],
    ['node', fw.node?.rules ?? []],
    ...(fw.cluster?.groups ?? []).map((g): [string, DesiredFirewallRule[]] => [`group/${g.group}`, g.rules]),
    ...Object.entries(fw.vms).map(([vmid, vm]): [string, DesiredFirewallRule[]] => [`vm/${vmid}`, vm.rules]),
  ];
  for (const [chain, rules] of chains) claims.rules.set(chain, rules.map((rule) => ({ rule, path: locateRule(loaded, chain, rule) })));
  return claims;
}

/** Conflicting claims of later specs against earlier ones, located in the later spec. */
export function ownershipConflicts(specs: LoadedSpec[]): SpecDiagnostic[] {
  const out: SpecDiagnostic[] = [];
  const claims = specs.map(claimsOf);
  const report = (loaded: LoadedSpec, path: SpecPath, message: string, fix: string) =>
    out.push({ severity: 'error', ruleId: OWNERSHIP_RULE, file: loaded.source.path, ...loaded.source.locate(path), path: formatPath(path), message, fix });
  specs.forEach((later, li) => {
    for (let ei = 0; ei < li; ei += 1) {
      const earlier = specs[ei]!;
      const [a, b] = [claims[ei]!, claims[li]!];
      const other = `${earlier.spec.metadata.name} (${earlier.source.path})`;
      const fix = `state it the same way in both specs, or leave it to one of them`;
      for (const [key, mine] of b.options) {
        const theirs = a.options.get(key);
        if (theirs && theirs.value !== mine.value) report(later, mine.path, `firewall option ${key} is ${mine.value} here and ${theirs.value} in ${other}`, fix);
      }
      for (const [name, mine] of b.ipsets) {
        const theirs = a.ipsets.get(name);
        if (theirs && theirs.cidrs !== mine.cidrs) report(later, mine.path, `IP set ${name} holds ${mine.cidrs} here and ${theirs.cidrs} in ${other}`, fix);
      }
      for (const [name, mine] of b.aliases) {
        const theirs = a.aliases.get(name);
        if (theirs && theirs.cidr !== mine.cidr) report(later, mine.path, `alias ${name} is ${mine.cidr} here and ${theirs.cidr} in ${other}`, fix);
      }
      for (const [chain, rules] of b.rules) {
        const theirs = a.rules.get(chain) ?? [];
        for (const { rule, path } of rules) {
          const name = withoutOwner(rule.comment);
          const clash = theirs.find(({ rule: t }) => meaningOf(t) !== meaningOf(rule) && ((name !== undefined && withoutOwner(t.comment) === name) || matchOf(t) === matchOf(rule)));
          if (clash) report(later, path, `the ${chain} rule ${line(rule)} is ${line(clash.rule)} in ${other}`, fix);
        }
      }
    }
  });
  return out;
}
