// Plan guardrails: the foundation's rules applied to the state the plan would leave, not only to the spec.
//  - mgmt-lockout: replaying the plan's firewall requests over the scanned firewall, after every step and at the end,
//    each management CIDR (and the Tailscale range when expected) must still reach the node on 22 and 8006;
//  - phase0-host-network: a phase-0 plan never touches host networking unless the spec allows it.
import { reachesManagement, type ReachFirewall, type ReachRule } from './spec/firewall-reach.ts';
import type { PlanAction, PlanPhase, PlanViolation, PveRequest } from './plan.ts';
import type { DesiredState } from './desired-state.ts';
import type { LiveFirewall, LiveFirewallRule } from './state.ts';

const MANAGEMENT_PORTS = [22, 8006] as const;

interface HostFirewall {
  options: Record<string, string | number>;
  nodeEnable: boolean;
  rules: LiveFirewallRule[];
  nodeRules: LiveFirewallRule[];
  groups: Map<string, LiveFirewallRule[]>;
  ipsets: Map<string, string[]>;
  aliases: Map<string, string>;
}

function fromLive(fw: LiveFirewall): HostFirewall {
  return {
    options: { ...fw.cluster.options },
    nodeEnable: fw.node.options.enable === undefined || Number(fw.node.options.enable) === 1,
    rules: fw.cluster.rules.map((r) => ({ ...r })),
    nodeRules: fw.node.rules.map((r) => ({ ...r })),
    groups: new Map(fw.cluster.groups.map((g) => [g.group, g.rules.map((r) => ({ ...r }))])),
    ipsets: new Map(fw.cluster.ipsets.map((s) => [s.name, [...s.cidrs]])),
    aliases: new Map(fw.cluster.aliases.map((a) => [a.name, a.cidr])),
  };
}

const toRule = (params: Record<string, string | number>): LiveFirewallRule => ({
  pos: 0,
  type: String(params.type ?? 'in'),
  action: String(params.action ?? ''),
  enable: Number(params.enable ?? 0) === 1,
  ...Object.fromEntries(['source', 'dest', 'proto', 'dport', 'sport', 'iface', 'macro'].filter((k) => params[k] !== undefined).map((k) => [k, String(params[k])])),
});

/** Applies one request to the host-relevant firewall (datacenter + node); VM-level requests do not matter here. */
function applyRequest(fw: HostFirewall, node: string, request: PveRequest): void {
  const path = request.path;
  const listFor = (base: string): LiveFirewallRule[] | undefined => {
    if (base === '/cluster/firewall/rules') return fw.rules;
    if (base === `/nodes/${node}/firewall/rules`) return fw.nodeRules;
    const group = /^\/cluster\/firewall\/groups\/([^/]+)$/.exec(base);
    if (group) {
      if (!fw.groups.has(group[1]!)) fw.groups.set(group[1]!, []);
      return fw.groups.get(group[1]!);
    }
    return undefined;
  };
  if (path === '/cluster/firewall/options' && request.method === 'PUT') {
    for (const key of String(request.params.delete ?? '').split(',').filter(Boolean)) delete fw.options[key];
    for (const [k, v] of Object.entries(request.params)) if (k !== 'delete' && k !== 'digest') fw.options[k] = v;
    return;
  }
  if (path === `/nodes/${node}/firewall/options` && request.method === 'PUT' && request.params.enable !== undefined) {
    fw.nodeEnable = Number(request.params.enable) === 1;
    return;
  }
  const direct = listFor(path);
  if (direct && request.method === 'POST') {
    const pos = Math.min(Number(request.params.pos ?? 0), direct.length);
    direct.splice(pos, 0, toRule(request.params));
    return;
  }
  const positioned = /^(.*)\/(\d+)$/.exec(path);
  const list = positioned ? listFor(positioned[1]!) : undefined;
  if (positioned && list) {
    const pos = Number(positioned[2]);
    if (request.method === 'DELETE') list.splice(pos, 1);
    else if (request.method === 'PUT' && list[pos]) {
      const merged = { ...list[pos]!, ...toRule({ ...list[pos], ...request.params, enable: request.params.enable ?? (list[pos]!.enable ? 1 : 0) }) } as LiveFirewallRule & Record<string, unknown>;
      for (const key of String(request.params.delete ?? '').split(',').filter(Boolean)) delete merged[key];
      list[pos] = merged;
    }
    return;
  }
  const ipset = /^\/cluster\/firewall\/ipset\/([^/]+)(?:\/(.+))?$/.exec(path);
  if (ipset) {
    const entries = fw.ipsets.get(ipset[1]!) ?? [];
    if (request.method === 'POST') entries.push(String(request.params.cidr));
    if (request.method === 'DELETE' && ipset[2]) entries.splice(entries.indexOf(decodeURIComponent(ipset[2])), 1);
    fw.ipsets.set(ipset[1]!, entries);
    return;
  }
  if (path === '/cluster/firewall/ipset' && request.method === 'POST') fw.ipsets.set(String(request.params.name), fw.ipsets.get(String(request.params.name)) ?? []);
  if (path === '/cluster/firewall/aliases' && request.method === 'POST') fw.aliases.set(String(request.params.name), String(request.params.cidr));
  const alias = /^\/cluster\/firewall\/aliases\/([^/]+)$/.exec(path);
  if (alias && request.method === 'PUT') fw.aliases.set(alias[1]!, String(request.params.cidr));
}

/** The firewall that governs the node's own ports: node rules first, then datacenter rules, datacenter policy_in. */
function reachView(fw: HostFirewall): ReachFirewall {
  const rule = (r: LiveFirewallRule): ReachRule => ({ ...r });
  const policy = String(fw.options.policy_in ?? 'DROP').toUpperCase();
  return {
    enable: Number(fw.options.enable ?? 0) === 1 && fw.nodeEnable,
    policy_in: policy === 'ACCEPT' || policy === 'REJECT' ? policy : 'DROP',
    rules: [...fw.nodeRules, ...fw.rules].map(rule),
    groups: Object.fromEntries([...fw.groups].map(([k, v]) => [k, v.map(rule)])),
    ipsets: Object.fromEntries(fw.ipsets),
    aliases: Object.fromEntries(fw.aliases),
  };
}

/** A request to the datacenter or a node firewall (VM firewalls do not govern the node's own ports). */
export const touchesHostFirewall = (request: Pick<PveRequest, 'path'>): boolean => /^\/(?:cluster|nodes\/[^/]+)\/firewall(?:\/|$)/.test(request.path);

export function managementSources(desired: DesiredState): string[] {
  const guards = desired.guards;
  return [...guards.managementAccessCidrs, ...(guards.tailscaleManagement.expected ? [guards.tailscaleManagement.cidr] : [])];
}

function blocked(fw: HostFirewall, sources: string[]): string[] {
  const view = reachView(fw);
  return sources.flatMap((source) => MANAGEMENT_PORTS.filter((port) => !reachesManagement(view, source, port)).map((port) => `${source} → ${port}`));
}

/** A spec guardrail finding (planner/spec/guardrails.ts checkSpec), as much of it as a plan needs. */
export type SpecFinding = { severity: 'error' | 'warning'; ruleId: string; file: string; line: number; col: number; path: string; message: string; fromPhase?: number };

/** What refuses a plan before its actions are looked at: the spec's guardrail errors and the resolved phase's problems. */
export function specViolations(findings: ReadonlyArray<SpecFinding>, desired: Pick<DesiredState, 'problems'>): PlanViolation[] {
  return [
    ...findings
      .filter((f) => f.severity === 'error')
      .map((f) => ({ ruleId: f.ruleId, message: f.path ? `${f.path}: ${f.message}` : f.message, location: `${f.file}:${f.line}:${f.col}` })),
    ...desired.problems.map((p) => ({ ruleId: p.ruleId, message: p.message, location: p.location })),
  ];
}

export function checkPlan(input: { desired: DesiredState; phase: PlanPhase; liveFirewall?: LiveFirewall; actions: PlanAction[] }): PlanViolation[] {
  const { desired, actions } = input;
  const violations: PlanViolation[] = [];
  if (input.phase === 'phase0' && !desired.guards.allowHostNetworkChanges) {
    for (const action of actions.filter((a) => a.type.startsWith('network.'))) {
      violations.push({
        ruleId: 'phase0.host-network',
        message: `${action.id} changes host networking in a phase-0 plan; set safetyGuards.allowHostNetworkChanges to allow it`,
        actionId: action.id,
      });
    }
  }
  // By what the requests do, not by the action's type: an edited plan could hide a firewall request in any pve action.
  const firewallActions = actions.filter((a) => a.params.channel === 'pve' && a.params.requests.some(touchesHostFirewall));
  if (firewallActions.length === 0 || !input.liveFirewall) return violations;
  const sources = managementSources(desired);
  const fw = fromLive(input.liveFirewall);
  const before = new Set(blocked(fw, sources));
  for (const action of firewallActions) {
    if (action.params.channel !== 'pve') continue;
    for (const request of action.params.requests) applyRequest(fw, desired.node, request);
    const lost = blocked(fw, sources).filter((flow) => !before.has(flow));
    if (lost.length) {
      violations.push({
        ruleId: 'firewall.lockout',
        message: `after ${action.id} the node's management would be unreachable from ${lost.join(', ')}; refused (keep ACCEPT rules for the management CIDRs on 22 and 8006 before any DROP)`,
        actionId: action.id,
      });
      return violations;
    }
  }
  return violations;
}
