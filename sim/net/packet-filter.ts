// pve-firewall's chains for one new IPv4 connection, over the ruleset an update cycle loaded (firewall-daemon.ts).
// The host's PVEFW-HOST-IN (Firewall.pm enable_host_firewall): host rules, then datacenter rules, then the implicit
// ACCEPTs for the `management` IP set (8006, 5900:5999, 3128, 22, 60000:60050), then the datacenter policy_in.
// A VM NIC's tap chains (generate_tap_rules_direction, ruleset_create_vm_chain): only for `firewall=1` NICs of a VM
// whose firewall is enabled; DHCP to/from the guest is let through unless the VM option `dhcp` is 0; then the VM's
// rules (an `iface` rule only for that NIC); then policy_in (default DROP) or policy_out (default ACCEPT).
// Replies of an established connection pass (PVEFW-FORWARD/HOST-IN accept RELATED,ESTABLISHED first), so only the
// direction that opens a connection is judged. Rules are first-match; a group's first matching rule decides; disabled
// rules and rules with errors (an unknown IP set, alias or macro) are skipped, as compile skips them.
import { cidrRange, parseCidr, parseFwAddrSpec, parseFwPortSpec, parseIp } from '../../lib/pve-formats.ts';
import type { FwRule } from '../firewall-config.ts';
import type { CompiledFirewall, CompiledVm } from './firewall-daemon.ts';

export type Verdict = 'ACCEPT' | 'DROP' | 'REJECT';

export interface Packet {
  src: string;
  dst: string;
  proto: 'tcp' | 'udp' | 'icmp';
  dport?: number;
  sport?: number;
  /** The host interface it arrives on (host rules with `iface`). */
  iface?: string;
}

/** A subset of Firewall.pm $pve_fw_macros (imported from shorewall), as proto/dport/sport templates. */
const MACROS: Record<string, Array<{ proto: string; dport?: string; sport?: string }>> = {
  DNS: [{ proto: 'udp', dport: '53' }, { proto: 'tcp', dport: '53' }],
  DHCPfwd: [{ proto: 'udp', dport: '67:68', sport: '67:68' }],
  HTTP: [{ proto: 'tcp', dport: '80' }],
  HTTPS: [{ proto: 'tcp', dport: '443' }],
  NTP: [{ proto: 'udp', dport: '123' }],
  Ping: [{ proto: 'icmp', dport: 'echo-request' }],
  SSH: [{ proto: 'tcp', dport: '22' }],
  Squid: [{ proto: 'tcp', dport: '3128' }],
  Telnet: [{ proto: 'tcp', dport: '23' }],
  VNC: [{ proto: 'tcp', dport: '5900:5999' }],
  Web: [{ proto: 'tcp', dport: '80' }, { proto: 'tcp', dport: '443' }],
  MySQL: [{ proto: 'tcp', dport: '3306' }],
  PostgreSQL: [{ proto: 'tcp', dport: '5432' }],
  RDP: [{ proto: 'tcp', dport: '3389' }],
  Rsync: [{ proto: 'tcp', dport: '873' }],
  Syslog: [{ proto: 'udp', dport: '514' }, { proto: 'tcp', dport: '514' }],
};

/** An address match that cannot be resolved makes the rule erroneous: compile drops it. */
class RuleError extends Error {}

const ipValue = (ip: string): bigint => {
  const parsed = parseIp(ip);
  if (!parsed || parsed.family !== 4) throw new RuleError(`not an IPv4 address: ${ip}`);
  return parsed.value;
};

function inSpec(spec: string, ip: bigint, fw: CompiledFirewall, vm: CompiledVm | undefined, depth = 0): boolean {
  if (depth > 4) throw new RuleError('alias loop');
  const parsed = parseFwAddrSpec(spec);
  if (typeof parsed === 'string') throw new RuleError(parsed);
  if (parsed.kind === 'addresses') return parsed.family === 4 && parsed.ranges.some(([lo, hi]) => lo <= ip && ip <= hi);
  if (parsed.kind === 'alias') {
    // resolve_alias: a VM rule looks in the VM's aliases first (the simulator has none), then the datacenter's.
    const cidr = parsed.scope === 'guest' ? undefined : fw.aliases[parsed.name];
    if (cidr === undefined) throw new RuleError(`no such alias '${parsed.name}'`);
    return inSpec(cidr, ip, fw, vm, depth + 1);
  }
  const entries = parsed.scope === 'guest' ? undefined : fw.ipsets[parsed.name];
  if (entries === undefined) throw new RuleError(`no such ipset '${parsed.name}'`);
  // An ipset matches when an entry contains the address and no `nomatch` entry does.
  let hit = false;
  for (const entry of entries) {
    const contained = /^[A-Za-z]/.test(entry.cidr) ? inSpec(entry.cidr, ip, fw, vm, depth + 1) : cidrHolds(entry.cidr, ip);
    if (contained && entry.nomatch) return false;
    if (contained) hit = true;
  }
  return hit;
}

function cidrHolds(text: string, ip: bigint): boolean {
  const cidr = parseCidr(text);
  if (!cidr || cidr.family !== 4) return false;
  const [lo, hi] = cidrRange(cidr);
  return lo <= ip && ip <= hi;
}

function portMatches(spec: string | number | undefined, port: number | undefined): boolean {
  if (spec === undefined || spec === '') return true;
  if (port === undefined) return false;
  // pve-firewall writes ranges as `a:b`; lib's parser reads them.
  const ranges = parseFwPortSpec(String(spec));
  if (typeof ranges === 'string') throw new RuleError(ranges);
  return ranges.some(([lo, hi]) => lo <= port && port <= hi);
}

const PROTO_NUMBERS: Record<string, string> = { '6': 'tcp', '17': 'udp', '1': 'icmp' };

function templateMatches(t: { proto?: string; dport?: string | number; sport?: string | number; icmpType?: string }, p: Packet): boolean {
  const proto = t.proto === undefined ? undefined : (PROTO_NUMBERS[t.proto] ?? t.proto.toLowerCase());
  if (proto !== undefined && proto !== p.proto) return false;
  // Only echo requests open an ICMP "connection" here (ping); an icmp rule with another type does not match them.
  if (p.proto === 'icmp') return t.icmpType === undefined || t.icmpType === 'any' || t.icmpType === 'echo-request' || t.icmpType === '8';
  return portMatches(t.dport, p.dport) && portMatches(t.sport, p.sport);
}

/** Does this (enabled, non-group) rule match the packet? Throws RuleError for a rule compile would drop. */
function ruleMatches(rule: FwRule, p: Packet, fw: CompiledFirewall, vm: CompiledVm | undefined): boolean {
  if (typeof rule.source === 'string' && rule.source !== '' && !inSpec(rule.source, ipValue(p.src), fw, vm)) return false;
  if (typeof rule.dest === 'string' && rule.dest !== '' && !inSpec(rule.dest, ipValue(p.dst), fw, vm)) return false;
  if (typeof rule.macro === 'string' && rule.macro !== '') {
    const macro = MACROS[rule.macro] ?? Object.entries(MACROS).find(([name]) => name.toLowerCase() === String(rule.macro).toLowerCase())?.[1];
    if (!macro) throw new RuleError(`unknown macro '${rule.macro}'`);
    return macro.some((t) =>
      templateMatches({ proto: t.proto, dport: t.proto === 'icmp' ? undefined : (t.dport ?? rule.dport), sport: t.sport ?? rule.sport, icmpType: t.proto === 'icmp' ? t.dport : undefined }, p),
    );
  }
  const icmpType = rule['icmp-type'];
  return templateMatches({ proto: rule.proto as string | undefined, dport: rule.dport, sport: rule.sport, icmpType: icmpType === undefined ? undefined : String(icmpType) }, p);
}

const enabled = (rule: FwRule): boolean => Number(rule.enable ?? 1) === 1;

/**
 * Walks a rule list for one direction; returns the first decision, or undefined to fall through. `iface` filters
 * rules bound to another interface (a VM's netN, or a host interface).
 */
function walk(rules: FwRule[], dir: 'in' | 'out', p: Packet, fw: CompiledFirewall, vm: CompiledVm | undefined, iface: string | undefined, depth = 0): Verdict | undefined {
  for (const rule of rules) {
    if (!enabled(rule)) continue;
    if (typeof rule.iface === 'string' && rule.iface !== '' && rule.iface !== iface) continue;
    if (rule.type === 'group') {
      const group = fw.groups[rule.action];
      if (!group || depth > 0) continue;
      const verdict = walk(group, dir, p, fw, vm, iface, depth + 1);
      if (verdict) return verdict;
      continue;
    }
    if (rule.type !== dir) continue;
    try {
      if (!ruleMatches(rule, p, fw, vm)) continue;
    } catch (error) {
      if (error instanceof RuleError) continue;
      throw error;
    }
    const action = rule.action.toUpperCase();
    if (action === 'ACCEPT' || action === 'DROP' || action === 'REJECT') return action;
  }
  return undefined;
}

const policy = (value: unknown, fallback: Verdict): Verdict => (value === 'ACCEPT' || value === 'DROP' || value === 'REJECT' ? value : fallback);

/** The management ports PVEFW-HOST-IN accepts from the `management` IP set (enable_host_firewall). */
const MANAGEMENT_PORTS: Array<[number, number]> = [[8006, 8006], [5900, 5999], [3128, 3128], [22, 22], [60000, 60050]];

/** A new connection to the node itself (PVEFW-HOST-IN). */
export function hostInput(fw: CompiledFirewall, p: Packet): Verdict {
  if (!fw.enabled) return 'ACCEPT';
  // compile_iptables_filter: the host chains only exist when host.fw does not set `enable: 0`.
  if (Number(fw.hostOptions.enable ?? 1) === 0) return 'ACCEPT';
  const decided = walk([...fw.hostRules, ...fw.clusterRules], 'in', p, fw, undefined, p.iface);
  if (decided) return decided;
  if (p.proto === 'tcp' && p.dport !== undefined && MANAGEMENT_PORTS.some(([lo, hi]) => lo <= p.dport! && p.dport! <= hi)) {
    if (inSpec('+management', ipValue(p.src), fw, undefined)) return 'ACCEPT';
  }
  return policy(fw.clusterOptions.policy_in, 'DROP');
}

/**
 * A new connection through a VM NIC's tap: 'in' towards the guest, 'out' from it. ACCEPT when pve-firewall made no
 * chain for it (firewall off, `firewall=0` on the NIC).
 */
export function vmNic(fw: CompiledFirewall, vmid: number, netKey: string, dir: 'in' | 'out', p: Packet): Verdict {
  if (!fw.enabled) return 'ACCEPT';
  const vm = fw.vms[vmid];
  if (!vm?.nics[netKey]?.firewall) return 'ACCEPT';
  if (Number(vm.options.enable ?? 0) !== 1) return 'ACCEPT';
  const dhcpAllowed = Number(vm.options.dhcp ?? 1) !== 0;
  if (dhcpAllowed && p.proto === 'udp' && (dir === 'out' ? p.sport === 68 && p.dport === 67 : p.sport === 67 && p.dport === 68)) return 'ACCEPT';
  const decided = walk(vm.rules, dir, p, fw, vm, netKey);
  if (decided) return decided;
  return dir === 'in' ? policy(vm.options.policy_in, 'DROP') : policy(vm.options.policy_out, 'ACCEPT');
}
