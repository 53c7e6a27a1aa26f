// Firewall guardrails: address and port formats, references, lock-out, public exposure, and the phase-2 matrix.
import {
  checkFwPortSpec,
  cidrContains,
  cidrRange,
  parseCidr,
  parseFwAddrSpec,
  parseFwPortSpec,
} from '../../lib/pve-formats.ts';
import type { SpecPath } from './diagnostic.ts';
import { reachesManagement, type ReachFirewall, type ReachRule } from './firewall-reach.ts';
import type { GuardrailContext } from './guardrail-context.ts';
import type { FirewallRuleSpec, Spec } from './schema.ts';

export const MANAGEMENT_PORTS = [22, 8006] as const;
const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'udplite', 'dccp', 'sctp', '6', '17']);
const POLICY_ACTIONS = new Set(['ACCEPT', 'DROP', 'REJECT']);

interface RuleAt {
  rule: FirewallRuleSpec;
  path: SpecPath;
}

/** Every firewall rule list in the spec, with where it lives. */
function allRules(spec: Spec): RuleAt[] {
  const out: RuleAt[] = [];
  const add = (rules: FirewallRuleSpec[] | undefined, base: SpecPath) => rules?.forEach((rule, i) => out.push({ rule, path: [...base, i] }));
  add(spec.firewall?.cluster?.rules, ['firewall', 'cluster', 'rules']);
  spec.firewall?.cluster?.groups.forEach((g, gi) => add(g.rules, ['firewall', 'cluster', 'groups', gi, 'rules']));
  add(spec.firewall?.node?.rules, ['firewall', 'node', 'rules']);
  spec.vms.forEach((vm, vi) => add(vm.firewall?.rules, ['vms', vi, 'firewall', 'rules']));
  return out;
}

function lookups(spec: Spec) {
  const cluster = spec.firewall?.cluster;
  return {
    groups: Object.fromEntries((cluster?.groups ?? []).map((g) => [g.group, g.rules as ReachRule[]])),
    ipsets: Object.fromEntries((cluster?.ipsets ?? []).map((s) => [s.name, s.cidrs])),
    aliases: Object.fromEntries((cluster?.aliases ?? []).map((a) => [a.name, a.cidr])),
  };
}

export function checkFirewallFormats(ctx: GuardrailContext): void {
  const { spec } = ctx;
  const { groups, ipsets, aliases } = lookups(spec);
  const declared = (kind: 'ipset' | 'alias', list: Array<{ name: string }> | undefined, base: SpecPath) => {
    const seen = new Set<string>();
    list?.forEach((item, i) => {
      if (seen.has(item.name)) ctx.report('firewall.references', [...base, i, 'name'], `${kind} "${item.name}" is declared twice`, `keep one ${kind} named "${item.name}"`);
      seen.add(item.name);
    });
  };
  declared('ipset', spec.firewall?.cluster?.ipsets, ['firewall', 'cluster', 'ipsets']);
  declared('alias', spec.firewall?.cluster?.aliases, ['firewall', 'cluster', 'aliases']);

  spec.firewall?.cluster?.ipsets.forEach((set, si) =>
    set.cidrs.forEach((entry, ci) => {
      const value = entry.startsWith('!') ? entry.slice(1) : entry;
      if (!parseCidr(value) && !(value in aliases)) {
        ctx.report('firewall.source-format', ['firewall', 'cluster', 'ipsets', si, 'cidrs', ci], `"${entry}" is not an IP, CIDR or declared alias`,
          'write an address such as 192.168.1.0/24 (ports are not allowed in IP sets)');
      }
    }),
  );
  spec.firewall?.cluster?.aliases.forEach((alias, ai) => {
    if (!parseCidr(alias.cidr)) {
      ctx.report('firewall.source-format', ['firewall', 'cluster', 'aliases', ai, 'cidr'], `"${alias.cidr}" is not an IP address or CIDR`, 'write an address such as 192.168.1.10 or 192.168.1.0/24, without a port');
    }
  });

  for (const { rule, path } of allRules(spec)) {
    for (const field of ['source', 'dest'] as const) {
      const value = rule[field];
      if (value === undefined) continue;
      const parsed = parseFwAddrSpec(value);
      if (typeof parsed === 'string') {
        ctx.report('firewall.source-format', [...path, field], parsed, `use an IP, CIDR, range a-b, alias or +ipset${/:\d+$/.test(value) ? ` (e.g. ${field}: ${value.replace(/:\d+$/, '')} with dport: '${value.replace(/^.*:/, '')}')` : ''}`);
      } else if (parsed.kind === 'ipset' && (parsed.scope === 'guest' || parsed.scope === 'sdn' || !(parsed.name in ipsets))) {
        ctx.report('firewall.references', [...path, field], `IP set "${parsed.name}" is not declared in firewall.cluster.ipsets`, `declare it under firewall.cluster.ipsets or fix the name (${Object.keys(ipsets).join(', ') || 'none declared'})`);
      } else if (parsed.kind === 'alias' && (parsed.scope === 'guest' || !(parsed.name in aliases))) {
        ctx.report('firewall.references', [...path, field], `alias "${parsed.name}" is not declared in firewall.cluster.aliases`, `declare it under firewall.cluster.aliases or fix the name (${Object.keys(aliases).join(', ') || 'none declared'})`);
      }
    }
    if (rule.type === 'group') {
      if (!(rule.action in groups)) ctx.report('firewall.references', [...path, 'action'], `security group "${rule.action}" is not declared`, 'declare it under firewall.cluster.groups or fix the name');
    } else if (!POLICY_ACTIONS.has(rule.action)) {
      ctx.report('firewall.references', [...path, 'action'], `action "${rule.action}" is not ACCEPT, DROP or REJECT`, 'use ACCEPT, DROP or REJECT (or type: group with a group name)');
    }
    for (const field of ['dport', 'sport'] as const) {
      const value = rule[field];
      if (value === undefined) continue;
      const why = checkFwPortSpec(value);
      if (why) ctx.report('firewall.port-format', [...path, field], why, "list ports as '22,8006' or ranges as '8000:8010' (at most 15 numbers)");
      if (!rule.macro && (rule.proto === undefined || !PORT_PROTOCOLS.has(rule.proto.toLowerCase()))) {
        ctx.report('firewall.port-format', [...path, field], `${field} needs proto tcp or udp (got ${rule.proto ?? 'none'})`, 'add proto: tcp (or udp)');
      }
    }
  }
}

/** The host's IN firewall: node rules first, then datacenter rules, datacenter policy (pve-firewall order). */
export function hostFirewall(spec: Spec): { fw: ReachFirewall; path: SpecPath } | undefined {
  const cluster = spec.firewall?.cluster;
  if (!cluster || cluster.options.enable !== true || spec.firewall?.node?.options.enable === false) return undefined;
  const rules = [...(spec.firewall?.node?.rules ?? []), ...cluster.rules] as ReachRule[];
  const path: SpecPath = cluster.options.policy_in ? ['firewall', 'cluster', 'options', 'policy_in'] : ['firewall', 'cluster', 'options', 'enable'];
  return { fw: { enable: true, policy_in: cluster.options.policy_in ?? 'DROP', rules, ...lookups(spec) }, path };
}

/** Sources that must keep reaching 22 and 8006: safetyGuards.managementAccessCidrs plus the tailnet when expected. */
export function managementSources(spec: Spec): string[] {
  const { managementAccessCidrs, tailscaleManagement } = spec.safetyGuards;
  return [...managementAccessCidrs, ...(tailscaleManagement.expected ? [tailscaleManagement.cidr] : [])];
}

function nodeAddress(spec: Spec): string | undefined {
  const lan = spec.network.bridges.find((b) => b.role === 'lan' && b.cidr);
  return lan?.cidr?.split('/')[0];
}

export function checkLockout(ctx: GuardrailContext): void {
  const { spec } = ctx;
  const levels: Array<{ fw: ReachFirewall; path: SpecPath; what: string; node?: string }> = [];
  const host = hostFirewall(spec);
  if (host) levels.push({ ...host, what: 'the node', node: nodeAddress(spec) });
  spec.vms.forEach((vm, vi) => {
    const f = vm.firewall;
    if (!f || f.options.enable !== true) return;
    const path: SpecPath = ['vms', vi, 'firewall', 'options', f.options.policy_in ? 'policy_in' : 'enable'];
    // An unset VM policy_in is treated as DROP so the check never assumes the permissive case.
    levels.push({ fw: { enable: true, policy_in: f.options.policy_in ?? 'DROP', rules: f.rules as ReachRule[], ...lookups(spec) }, path, what: `VM ${vm.vmid}` });
  });
  for (const level of levels) {
    for (const source of managementSources(spec)) {
      const blocked = MANAGEMENT_PORTS.filter((port) => !reachesManagement(level.fw, source, port, level.node));
      if (blocked.length === 0) continue;
      ctx.report('firewall.lockout', level.path,
        `with policy_in ${level.fw.policy_in} on ${level.what}, management source ${source} cannot reach tcp/${blocked.join(' and tcp/')}`,
        `add { action: ACCEPT, source: ${source}, proto: tcp, dport: '${blocked.join(',')}' } before any DROP/REJECT rule that matches it`);
    }
  }
}

const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', 'fc00::/7', 'fe80::/10', '::1/128'];

/** True when a firewall address spec (resolved through aliases and IP sets) includes any public address. */
function admitsPublic(spec: Spec, value: string | undefined): boolean {
  if (value === undefined || value === '') return true;
  const { ipsets, aliases } = lookups(spec);
  const parsed = parseFwAddrSpec(value);
  if (typeof parsed === 'string') return false; // reported by firewall.source-format
  const entries = parsed.kind === 'ipset' ? (ipsets[parsed.name] ?? []).filter((e) => !e.startsWith('!')) : [parsed.kind === 'alias' ? (aliases[parsed.name] ?? '') : value];
  return entries.some((entry) => {
    const resolved = parseFwAddrSpec(aliases[entry] ?? entry);
    if (typeof resolved === 'string' || resolved.kind !== 'addresses') return false;
    return resolved.ranges.some(([lo, hi]) => !PRIVATE_RANGES.some((p) => {
      const cidr = parseCidr(p)!;
      if (cidr.family !== resolved.family) return false;
      const [a, b] = cidrRange(cidr);
      return a <= lo && hi <= b;
    }));
  });
}

function touchesManagement(rule: FirewallRuleSpec): boolean {
  if (rule.macro) return /^ssh$/i.test(rule.macro);
  if (rule.proto !== undefined && !['tcp', '6'].includes(rule.proto.toLowerCase())) return false;
  if (rule.dport === undefined) return true;
  const ranges = parseFwPortSpec(rule.dport);
  return typeof ranges === 'string' || ranges.some(([lo, hi]) => MANAGEMENT_PORTS.some((p) => lo <= p && p <= hi));
}

export function checkPublicExposure(ctx: GuardrailContext): void {
  const { spec } = ctx;
  if (spec.tailscale?.funnel) ctx.report('exposure.public', ['tailscale', 'funnel'], 'Tailscale Funnel publishes services to the internet', 'set funnel: false; remote access goes through the tailnet only');
  spec.vms.forEach((vm, vi) => {
    const provisions: Array<[SpecPath, boolean | undefined]> = [
      [['vms', vi, 'provision', 'tailscale', 'funnel'], vm.provision?.tailscale?.funnel],
      [['vms', vi, 'overrides', 'phase1', 'provision', 'tailscale', 'funnel'], vm.overrides?.phase1?.provision?.tailscale?.funnel],
      [['vms', vi, 'overrides', 'phase2', 'provision', 'tailscale', 'funnel'], vm.overrides?.phase2?.provision?.tailscale?.funnel],
    ];
    for (const [path, funnel] of provisions) {
      if (funnel) ctx.report('exposure.public', path, `Funnel on ${vm.name} publishes it to the internet`, 'set funnel: false; reach it through the tailnet');
    }
  });
  for (const { rule, path } of allRules(spec)) {
    if (rule.action !== 'ACCEPT' || rule.enable === false || (rule.type !== 'in' && rule.type !== 'forward')) continue;
    const explicitWorld = rule.source !== undefined && (cidrContains(rule.source, '0.0.0.0/1') || cidrContains(rule.source, '::/1'));
    if (explicitWorld) {
      ctx.report('exposure.public', [...path, 'source'], `ACCEPT from ${rule.source} admits the whole internet`, 'restrict source to the admin LAN, the tailnet (100.64.0.0/10) or an ipset of them');
    } else if (touchesManagement(rule) && admitsPublic(spec, rule.source)) {
      ctx.report('exposure.public', rule.source === undefined ? path : [...path, 'source'],
        `ACCEPT to a management port (22/8006) from ${rule.source ?? 'any address'} includes public addresses`,
        'set source to a management CIDR (safetyGuards.managementAccessCidrs) or the tailnet range');
    }
  }
  spec.safetyGuards.managementAccessCidrs.forEach((cidr, i) => {
    const parsed = parseCidr(cidr);
    if (!parsed) {
      ctx.report('safety.management-cidrs', ['safetyGuards', 'managementAccessCidrs', i], `"${cidr}" is not an IP address or CIDR`, 'write a CIDR such as 192.168.1.0/24 (no port)');
    } else if (admitsPublic(spec, cidr)) {
      ctx.report('exposure.public', ['safetyGuards', 'managementAccessCidrs', i], `management access from ${cidr} includes public addresses`, 'list only the admin LAN or tailnet ranges; remote access is Tailscale-only');
    }
  });
  const ts = spec.safetyGuards.tailscaleManagement;
  if (!parseCidr(ts.cidr)) ctx.report('safety.management-cidrs', ['safetyGuards', 'tailscaleManagement', 'cidr'], `"${ts.cidr}" is not a CIDR`, 'use 100.64.0.0/10');
}

export function checkSegmentation(ctx: GuardrailContext): void {
  const { spec } = ctx;
  const seg = spec.firewall?.segmentation;
  if (!seg) return;
  const base: SpecPath = ['firewall', 'segmentation'];
  if (seg.defaultPolicy !== 'deny') {
    ctx.report('segmentation.default-deny', [...base, 'defaultPolicy'], 'traffic between segments must be denied by default', 'set defaultPolicy: deny and list the allowed flows under allow');
  }
  const names = new Set<string>(seg.segments.map((s) => s.name));
  seg.segments.forEach((s, i) => {
    const bridge = spec.network.bridges.find((b) => b.iface === s.bridge);
    if (!bridge || bridge.role !== s.name) {
      ctx.report('segmentation.default-deny', [...base, 'segments', i, 'bridge'], `segment ${s.name} is on ${s.bridge}, which is not the declared ${s.name} bridge`, `declare ${s.bridge} under network.bridges with role: ${s.name}, or point the segment at that bridge`);
    }
    if (!parseCidr(s.cidr)) ctx.report('segmentation.default-deny', [...base, 'segments', i, 'cidr'], `"${s.cidr}" is not a CIDR`, 'write a CIDR such as 10.10.20.0/24');
  });
  for (const needed of ['services', 'iot'] as const) {
    if (!seg.blockManagementFrom.includes(needed)) {
      ctx.report('segmentation.default-deny', [...base, 'blockManagementFrom'], `${needed.toUpperCase()} may reach Proxmox management`, `add ${needed} to blockManagementFrom`);
    }
  }
  const ha = spec.vms.find((vm) => vm.role === 'home-assistant');
  const mqtt = ha?.provision?.homeAssistant?.mqtt === true;
  seg.allow.forEach((flow, i) => {
    const path: SpecPath = [...base, 'allow', i];
    if (/^(wan|internet|any|world|public)$/i.test(flow.from) || (parseCidr(flow.from) && admitsPublic(spec, flow.from))) {
      ctx.report('exposure.public', [...path, 'from'], `a flow from "${flow.from}" admits the internet (a port-forward by another name)`, 'remove it; remote access goes through the tailnet');
    } else if (!names.has(flow.from)) {
      ctx.report('segmentation.default-deny', [...path, 'from'], `"${flow.from}" is not a declared segment`, `use one of ${[...names].join(', ')}`);
    }
    const toVm = spec.vms.find((vm) => vm.name === flow.to);
    if (!toVm && !names.has(flow.to)) ctx.report('segmentation.default-deny', [...path, 'to'], `"${flow.to}" is neither a segment nor a VM name`, 'name a segment or a VM');
    const ports = parseFwPortSpec(flow.dport);
    if (typeof ports === 'string') {
      ctx.report('firewall.port-format', [...path, 'dport'], ports, "write ports as '8123' or '8000:8010'");
      return;
    }
    if (flow.from === 'iot') {
      const allowed = new Set([8123, ...(mqtt ? [1883] : [])]);
      const extra = ports.some(([lo, hi]) => lo !== hi || !allowed.has(lo));
      if (toVm?.role !== 'home-assistant' || extra) {
        ctx.report('segmentation.default-deny', path, `IOT may only reach Home Assistant on ${[...allowed].join(' and ')} (got ${flow.to} ${flow.proto}/${flow.dport})`,
          `remove the flow${mqtt ? '' : ', or set provision.homeAssistant.mqtt: true on VM 400 for 1883'}`);
      }
    }
  });
  if (spec.metadata.scope === 'full') {
    const router = spec.vms.find((vm) => vm.role === 'firewall-router');
    const bridges = new Set(router?.net.map((n) => n.bridge));
    const missing = seg.segments.map((s) => s.bridge).filter((b) => !bridges.has(b));
    if (!router || router.phase > seg.phase || missing.length > 0) {
      ctx.report('segmentation.router', base, router ? `firewall-router has no NIC on ${missing.join(', ') || 'the segments before this phase'}` : 'segmentation needs the router VM 150 firewall-router',
        'declare VM 150 firewall-router with NICs on vmbr0, vmbr1 and vmbr2 in the same phase');
    }
  }
}

/** Advertised Tailscale routes must be CIDRs; a default route would turn the guest into an exit node. */
export function checkTailscaleRoutes(ctx: GuardrailContext): void {
  ctx.spec.vms.forEach((vm, vi) => {
    const sources: Array<[SpecPath, string[] | undefined]> = [
      [['vms', vi, 'provision', 'tailscale', 'advertiseRoutes'], vm.provision?.tailscale?.advertiseRoutes],
      [['vms', vi, 'overrides', 'phase1', 'provision', 'tailscale', 'advertiseRoutes'], vm.overrides?.phase1?.provision?.tailscale?.advertiseRoutes],
      [['vms', vi, 'overrides', 'phase2', 'provision', 'tailscale', 'advertiseRoutes'], vm.overrides?.phase2?.provision?.tailscale?.advertiseRoutes],
    ];
    for (const [path, routes] of sources) {
      routes?.forEach((route, ri) => {
        const cidr = parseCidr(route);
        if (!cidr || !route.includes('/')) {
          ctx.report('tailscale.routes', [...path, ri], `"${route}" is not a CIDR`, 'advertise subnets such as 10.10.20.0/24');
        } else if (cidr.prefix === 0) {
          ctx.report('tailscale.routes', [...path, ri], `${route} makes ${vm.name} an exit node`, 'advertise only the SERVICES/IOT subnets', 'warning');
        }
      });
    }
  });
}
