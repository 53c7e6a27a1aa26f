// Lock-out evaluator: would a NEW TCP connection from every address of a management CIDR reach a port on the node,
// given a firewall configuration? Walks the IN rules the way pve-firewall does (first match wins; groups expand in
// place; ipsets and aliases resolve; disabled rules are skipped; DROP/REJECT end the walk) and falls back to
// policy_in. It answers "certainly reaches": an ACCEPT counts only when it surely matches the whole CIDR, while a
// DROP/REJECT counts as soon as it might match part of it. Pure; shared by spec guardrails, plan guardrails and the sim.
import { cidrRange, parseCidr, parseFwAddrSpec, parseFwPortSpec } from '../../lib/pve-formats.ts';

export interface ReachRule {
  type: string;
  action: string;
  /** false or 0 = disabled; absent = enabled (the spec's default). */
  enable?: boolean | number;
  source?: string;
  dest?: string;
  proto?: string;
  dport?: string | number;
  sport?: string | number;
  iface?: string;
  macro?: string;
}

export interface ReachFirewall {
  enable: boolean;
  policy_in: 'ACCEPT' | 'DROP' | 'REJECT';
  rules: ReachRule[];
  groups?: Record<string, ReachRule[]>;
  ipsets?: Record<string, string[]>;
  aliases?: Record<string, string>;
}

/** Macros that can decide a TCP port question; any other macro is treated as "unknown" (conservatively). */
const MACROS: Record<string, Array<{ proto: string; dport?: string }>> = {
  SSH: [{ proto: 'tcp', dport: '22' }],
  HTTP: [{ proto: 'tcp', dport: '80' }],
  HTTPS: [{ proto: 'tcp', dport: '443' }],
  Web: [{ proto: 'tcp', dport: '80' }, { proto: 'tcp', dport: '443' }],
  DNS: [{ proto: 'tcp', dport: '53' }, { proto: 'udp', dport: '53' }],
  Ping: [{ proto: 'icmp' }],
};

type Interval = [bigint, bigint];
interface Target {
  family: 4 | 6;
  range: Interval;
}
/** sure = the rule matches every address of the target; maybe = it matches at least one of them. */
interface MatchResult {
  sure: boolean;
  maybe: boolean;
}
const NONE: MatchResult = { sure: false, maybe: false };
const ALL: MatchResult = { sure: true, maybe: true };

function covers(ranges: Interval[], [lo, hi]: Interval): boolean {
  let next = lo;
  for (const [a, b] of [...ranges].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))) {
    if (a > next) break;
    if (b >= next) next = b + 1n;
    if (next > hi) return true;
  }
  return next > hi;
}

const overlaps = (ranges: Interval[], [lo, hi]: Interval) => ranges.some(([a, b]) => a <= hi && b >= lo);

/** Resolves one address entry (IP, CIDR, list, range, alias) to intervals; undefined = cannot tell. */
function resolveAddresses(entry: string, fw: ReachFirewall, target: Target, depth = 0): Interval[] | undefined {
  const parsed = parseFwAddrSpec(entry);
  if (typeof parsed === 'string' || depth > 4) return undefined;
  if (parsed.kind === 'addresses') return parsed.family === target.family ? parsed.ranges : [];
  if (parsed.kind === 'alias') {
    const cidr = fw.aliases?.[parsed.name];
    return cidr === undefined ? undefined : resolveAddresses(cidr, fw, target, depth + 1);
  }
  return undefined;
}

function matchAddress(spec: string | undefined, fw: ReachFirewall, target: Target): MatchResult {
  if (spec === undefined || spec === '') return ALL;
  const parsed = parseFwAddrSpec(spec);
  if (typeof parsed === 'string') return { sure: false, maybe: true };
  if (parsed.kind !== 'ipset') {
    const ranges = resolveAddresses(spec, fw, target);
    return ranges === undefined ? { sure: false, maybe: true } : { sure: covers(ranges, target.range), maybe: overlaps(ranges, target.range) };
  }
  const entries = fw.ipsets?.[parsed.name];
  if (entries === undefined) return { sure: false, maybe: true };
  const included: Interval[] = [];
  const excluded: Interval[] = [];
  let unknown = false;
  for (const raw of entries) {
    const negated = raw.startsWith('!');
    const ranges = resolveAddresses(negated ? raw.slice(1) : raw, fw, target);
    if (ranges === undefined) unknown = true;
    else (negated ? excluded : included).push(...ranges);
  }
  return {
    sure: !unknown && covers(included, target.range) && !overlaps(excluded, target.range),
    maybe: unknown || overlaps(included, target.range),
  };
}

function matchProtoPort(proto: string | undefined, dport: string | undefined, port: number): MatchResult {
  const p = proto?.toLowerCase();
  if (p !== undefined && p !== 'tcp' && p !== '6') return NONE;
  if (dport === undefined || dport === '') return ALL;
  const ranges = parseFwPortSpec(dport);
  if (typeof ranges === 'string') return { sure: false, maybe: true };
  const hit = ranges.some(([lo, hi]) => lo <= port && port <= hi);
  return { sure: hit, maybe: hit };
}

function matchRule(rule: ReachRule, fw: ReachFirewall, target: Target, port: number, node?: Target): MatchResult {
  let service: MatchResult;
  if (rule.macro !== undefined && rule.macro !== '') {
    const macro = MACROS[rule.macro] ?? Object.entries(MACROS).find(([name]) => name.toLowerCase() === rule.macro!.toLowerCase())?.[1];
    if (!macro) service = { sure: false, maybe: true };
    else {
      const parts = macro.map((m) => matchProtoPort(m.proto, rule.dport === undefined ? m.dport : String(rule.dport), port));
      service = { sure: parts.some((m) => m.sure), maybe: parts.some((m) => m.maybe) };
    }
  } else {
    service = matchProtoPort(rule.proto, rule.dport === undefined ? undefined : String(rule.dport), port);
  }
  const source = matchAddress(rule.source, fw, target);
  // Without the node's address a dest restriction is uncertain; sport and iface restrictions always are.
  const dest = node ? matchAddress(rule.dest, fw, node) : rule.dest ? { sure: false, maybe: true } : ALL;
  const restricted = [rule.sport, rule.iface].some((v) => v !== undefined && v !== '');
  return { sure: service.sure && source.sure && dest.sure && !restricted, maybe: service.maybe && source.maybe && dest.maybe };
}

/** Walks rules in order; returns the verdict of the first deciding rule, or undefined to fall through. */
function walk(rules: ReachRule[], fw: ReachFirewall, target: Target, port: number, depth: number, node?: Target): boolean | undefined {
  for (const rule of rules) {
    if (rule.enable === false || rule.enable === 0) continue;
    if (rule.type === 'group') {
      const group = fw.groups?.[rule.action];
      if (!group) continue;
      if (depth > 4) return false;
      const verdict = walk(group, fw, target, port, depth + 1, node);
      if (verdict !== undefined) return verdict;
      continue;
    }
    if (rule.type !== 'in') continue;
    const action = rule.action.toUpperCase();
    const match = matchRule(rule, fw, target, port, node);
    if (action === 'ACCEPT' && match.sure) return true;
    if ((action === 'DROP' || action === 'REJECT') && match.maybe) return false;
  }
  return undefined;
}

const toTarget = (text: string): Target | undefined => {
  const cidr = parseCidr(text);
  return cidr ? { family: cidr.family, range: cidrRange(cidr) } : undefined;
};

/**
 * True when a new TCP connection from every address of `source` (a CIDR or address) certainly reaches `port`.
 * `nodeAddress` (optional) is the node's management IP, so rules with a `dest` can be decided. An unparseable
 * source never reaches. A disabled firewall lets everything through.
 */
export function reachesManagement(fw: ReachFirewall, source: string, port: number, nodeAddress?: string): boolean {
  if (!fw.enable) return true;
  const target = toTarget(source);
  if (!target) return false;
  const node = nodeAddress === undefined ? undefined : toTarget(nodeAddress);
  return walk(fw.rules, fw, target, port, 0, node) ?? fw.policy_in === 'ACCEPT';
}
