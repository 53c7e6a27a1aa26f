// Firewall diff at datacenter, node and VM level. Rules are compared as an ordered list: the spec's list is aligned
// with the live one (planner/diff/rule-align.ts: longest common subsequence on the rule's meaning, owners respected),
// unmatched rules in the same gap become updates, the rest creates or deletes; positions are computed as they will be
// when the actions run in order. Every rule a spec writes carries its owner tag; a rule deleted by hand is re-created,
// one added by hand is removed, and another spec's rule is never touched. Every action carries the requests that
// restore the previous state (commit-confirm).
import type { PveRequest } from '../plan.ts';
import type { DesiredFirewallRule, FirewallOptions } from '../desired-state.ts';
import type { LiveFirewall, LiveFirewallRule } from '../state.ts';
import { withOwner } from '../firewall-owner.ts';
import { ruleLine } from '../rule-text.ts';
import { alignRules, type Comparable } from './rule-align.ts';
import { chain, change, draft, type DiffContext, type DraftAction } from './types.ts';

type Level = 'cluster' | 'node' | 'vm';
interface Scope {
  level: Level;
  label: string;
  /** Path of the rules collection (`/cluster/firewall/rules`, `/cluster/firewall/groups/G`…). */
  rulesPath: string;
  optionsPath?: string;
  chainKey: string;
  vmid?: number;
}

const RULE_KEYS = ['type', 'action', 'enable', 'source', 'dest', 'proto', 'dport', 'sport', 'iface', 'macro', 'log', 'comment'] as const;

function comparable(rule: DesiredFirewallRule | LiveFirewallRule): Comparable {
  const out: Comparable = {};
  for (const key of RULE_KEYS) {
    const value = rule[key];
    if (value === undefined || value === '') continue;
    let text = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
    if (key === 'dport' || key === 'sport') text = text.replace(/\s+/g, '');
    if (key === 'proto' || key === 'type') text = text.toLowerCase();
    if (key === 'log' && text === 'nolog') continue;
    out[key] = text;
  }
  return out;
}

const ruleParams = (rule: Comparable): Record<string, string | number> => {
  const params: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(rule)) params[k] = k === 'enable' ? Number(v) : v;
  if (params.enable === undefined) params.enable = 0;
  return params;
};

function diffRules(ctx: DiffContext, scope: Scope, liveRules: LiveFirewallRule[], wanted: DesiredFirewallRule[], requires: string[]): DraftAction[] {
  const owner = ctx.desired.owner;
  const ops = alignRules(liveRules.map(comparable), wanted.map((rule) => comparable({ ...rule, comment: withOwner(rule.comment, owner) })), owner);
  const out: DraftAction[] = [];
  // pos: where the next rule sits as the actions run in order; liveIndex/wantIndex: stable ids across re-plans.
  let pos = 0;
  let liveIndex = 0;
  let wantIndex = 0;
  const base = { channel: 'pve' as const, target: `firewall/${scope.label}`, targetKey: `firewall/${scope.chainKey}`, facts: { firewallLevel: scope.level, vmid: scope.vmid } };
  const refs = (r: Comparable) => [r.source, r.dest].flatMap((v) => referencedObjects(v)).concat(r.type === 'group' && r.action ? [`fw-group:${r.action}`] : []);
  for (const op of ops) {
    if (op.op === 'keep' || op.op === 'skip') {
      pos++;
      liveIndex++;
      if (op.op === 'keep') wantIndex++;
      continue;
    }
    const at = pos;
    const wantId = `${scope.chainKey}:${wantIndex}`;
    let action: DraftAction;
    if (op.op === 'insert') {
      const params = { ...ruleParams(op.want), pos: at };
      action = draft({
        ...base,
        id: `firewall.rule.create:${wantId}`,
        type: 'firewall.rule.create',
        kind: 'create',
        changes: [change(`rules[${at}]`, null, ruleLine(op.want))],
        params: req([{ method: 'POST', path: scope.rulesPath, params, async: false }], [{ method: 'DELETE', path: `${scope.rulesPath}/${at}`, params: {}, async: false }]),
        requires: [...requires, ...refs(op.want)],
      });
      pos++;
    } else if (op.op === 'delete') {
      action = draft({
        ...base,
        id: `firewall.rule.delete:${scope.chainKey}:was${liveIndex}`,
        type: 'firewall.rule.delete',
        kind: 'delete',
        changes: [change(`rules[${at}]`, ruleLine(op.live), null)],
        params: req([{ method: 'DELETE', path: `${scope.rulesPath}/${at}`, params: {}, async: false }], [{ method: 'POST', path: scope.rulesPath, params: { ...ruleParams(op.live), pos: at }, async: false }]),
        requires,
      });
    } else {
      const removed = Object.keys(op.live).filter((k) => !(k in op.want) && k !== 'type' && k !== 'action' && k !== 'enable');
      const added = Object.keys(op.want).filter((k) => !(k in op.live) && k !== 'type' && k !== 'action' && k !== 'enable');
      const params: Record<string, string | number> = { ...ruleParams(op.want), ...(removed.length ? { delete: removed.join(',') } : {}) };
      const revert: Record<string, string | number> = { ...ruleParams(op.live), ...(added.length ? { delete: added.join(',') } : {}) };
      action = draft({
        ...base,
        id: `firewall.rule.update:${wantId}`,
        type: 'firewall.rule.update',
        kind: 'update',
        changes: [...new Set([...Object.keys(op.live), ...Object.keys(op.want)])]
          .filter((k) => op.live[k as keyof Comparable] !== op.want[k as keyof Comparable])
          .map((k) => change(`rules[${at}].${k}`, op.live[k as keyof Comparable], op.want[k as keyof Comparable])),
        params: req([{ method: 'PUT', path: `${scope.rulesPath}/${at}`, params, async: false }], [{ method: 'PUT', path: `${scope.rulesPath}/${at}`, params: revert, async: false }]),
        requires: [...requires, ...refs(op.want)],
      });
      pos++;
    }
    if (op.op !== 'insert') liveIndex++;
    if (op.op !== 'delete') wantIndex++;
    action.provides.push(`fw-rules:${scope.chainKey}`);
    out.push(chain(ctx, `fw:${scope.chainKey}`, action));
  }
  return out;
}

/** `+seg-iot` → fw-ipset:seg-iot; a bare alias name → fw-alias:name; CIDR lists reference nothing. */
function referencedObjects(value: string | undefined): string[] {
  if (!value) return [];
  const ipset = /^\+(?:(?:dc|guest|sdn)\/)?([A-Za-z][A-Za-z0-9\-_]+)$/.exec(value);
  if (ipset) return [`fw-ipset:${ipset[1]}`];
  const alias = /^(?:(?:dc|guest)\/)?([A-Za-z][A-Za-z0-9\-_]+)$/.exec(value);
  return alias ? [`fw-alias:${alias[1]}`] : [];
}

const req = (requests: PveRequest[], revert: PveRequest[]) => ({ channel: 'pve' as const, requests, revert });

/** Live option with Proxmox's default when absent. */
const OPTION_DEFAULTS: Record<Level, Record<string, string>> = {
  cluster: { enable: '0', policy_in: 'DROP', policy_out: 'ACCEPT', policy_forward: 'ACCEPT' },
  node: { enable: '1' },
  vm: { enable: '0', policy_in: 'DROP', policy_out: 'ACCEPT', dhcp: '1', macfilter: '1', ipfilter: '0' },
};

const optionText = (v: string | boolean | number | undefined) => (typeof v === 'boolean' ? (v ? '1' : '0') : v === undefined ? undefined : String(v));

function diffOptions(ctx: DiffContext, scope: Scope, live: Record<string, string | number>, want: FirewallOptions): DraftAction[] {
  const params: Record<string, string | number> = {};
  const revert: Record<string, string | number> = {};
  const removeOnRevert: string[] = [];
  const changes = [];
  for (const [key, value] of Object.entries(want)) {
    const target = optionText(value);
    if (target === undefined) continue;
    const current = live[key] !== undefined ? String(live[key]) : OPTION_DEFAULTS[scope.level][key];
    if (current === target) continue;
    params[key] = key === 'enable' ? Number(target) : target;
    if (live[key] !== undefined) revert[key] = key === 'enable' ? Number(live[key]) : String(live[key]);
    else removeOnRevert.push(key);
    changes.push(change(key, current ?? null, target));
  }
  if (changes.length === 0) return [];
  if (removeOnRevert.length) revert.delete = removeOnRevert.join(',');
  const action = draft({
    id: `firewall.options:${scope.chainKey}`,
    type: 'firewall.options',
    kind: 'update',
    channel: 'pve',
    target: `firewall/${scope.label}`,
    targetKey: `firewall/${scope.chainKey}`,
    changes,
    params: req([{ method: 'PUT', path: scope.optionsPath!, params, async: false }], [{ method: 'PUT', path: scope.optionsPath!, params: revert, async: false }]),
    facts: { firewallLevel: scope.level, vmid: scope.vmid },
    // Allow rules first: a DROP policy is switched on only once the ACCEPTs are in place.
    requires: [`fw-rules:${scope.chainKey}`, ...(scope.level === 'vm' ? [`vm:${scope.vmid}`] : [])],
    provides: [`fw-options:${scope.chainKey}`],
  });
  return [chain(ctx, `fw:${scope.chainKey}`, action)];
}

export function diffFirewall(ctx: DiffContext): DraftAction[] {
  const desired = ctx.desired.firewall;
  if (!desired.cluster && !desired.node && Object.keys(desired.vms).length === 0) return [];
  if (!ctx.state.firewall.known) {
    ctx.unknowns.push({ what: 'firewall', reason: ctx.state.firewall.reason });
    return [];
  }
  const live = ctx.state.firewall.value;
  const node = ctx.desired.node;
  const out: DraftAction[] = [];
  if (desired.cluster) out.push(...diffCluster(ctx, desired.cluster, live.cluster));
  if (desired.node) {
    const scope: Scope = { level: 'node', label: `node/${node}`, rulesPath: `/nodes/${node}/firewall/rules`, optionsPath: `/nodes/${node}/firewall/options`, chainKey: 'node' };
    out.push(...diffRules(ctx, scope, live.node.rules, desired.node.rules, []));
    out.push(...diffOptions(ctx, scope, live.node.options, desired.node.options));
  }
  for (const [vmidText, want] of Object.entries(desired.vms)) {
    const vmid = Number(vmidText);
    const exists = ctx.state.vms[vmid] !== undefined;
    const created = ctx.desired.vms.some((vm) => vm.vmid === vmid);
    const liveVm = live.vms[vmid];
    if (exists && !liveVm) {
      ctx.unknowns.push({ what: `firewall of VM ${vmid}`, reason: 'the VM firewall could not be read' });
      continue;
    }
    if (!exists && !created) {
      ctx.warnings.push({ code: 'firewall-vm-missing', message: `VM ${vmid}${want.vmName ? ` (${want.vmName})` : ''} does not exist; its firewall rules wait until it does` });
      continue;
    }
    const base = `/nodes/${node}/qemu/${vmid}/firewall`;
    const scope: Scope = { level: 'vm', label: `vm/${vmid}`, rulesPath: `${base}/rules`, optionsPath: `${base}/options`, chainKey: `vm/${vmid}`, vmid };
    out.push(...diffRules(ctx, scope, liveVm?.rules ?? [], want.rules, [`vm:${vmid}`]));
    out.push(...diffOptions(ctx, scope, liveVm?.options ?? {}, want.options));
  }
  return out;
}

/** An alias, IP set or group action: one request, one revert request, at datacenter level. */
function objectAction(
  type: 'firewall.alias.create' | 'firewall.alias.update' | 'firewall.ipset.create' | 'firewall.group.create',
  name: string,
  target: string,
  kind: 'create' | 'update',
  changes: DraftAction['changes'],
  request: Omit<PveRequest, 'async'>,
  revert: Omit<PveRequest, 'async'>,
  provides: string[],
): DraftAction {
  return draft({
    id: `${type}:${name}`,
    type,
    kind,
    channel: 'pve',
    target: `firewall/${target}`,
    targetKey: 'firewall/cluster',
    changes,
    params: req([{ ...request, async: false }], [{ ...revert, async: false }]),
    facts: { firewallLevel: 'cluster', undo: name },
    provides,
  });
}

function diffCluster(ctx: DiffContext, want: NonNullable<DiffContext['desired']['firewall']['cluster']>, live: LiveFirewall['cluster']): DraftAction[] {
  const out: DraftAction[] = [];
  const path = '/cluster/firewall';
  const fact = { firewallLevel: 'cluster' as const };
  for (const alias of want.aliases) {
    const current = live.aliases.find((a) => a.name.toLowerCase() === alias.name.toLowerCase());
    const params = { name: alias.name, cidr: alias.cidr, ...(alias.comment ? { comment: alias.comment } : {}) };
    if (!current) {
      out.push(
        objectAction('firewall.alias.create', alias.name, `alias/${alias.name}`, 'create', [change('cidr', null, alias.cidr)],
          { method: 'POST', path: `${path}/aliases`, params },
          { method: 'DELETE', path: `${path}/aliases/${alias.name}`, params: {} },
          [`fw-alias:${alias.name}`]),
      );
    } else if (current.cidr !== alias.cidr) {
      out.push(
        objectAction('firewall.alias.update', alias.name, `alias/${alias.name}`, 'update', [change('cidr', current.cidr, alias.cidr)],
          { method: 'PUT', path: `${path}/aliases/${alias.name}`, params: { cidr: alias.cidr } },
          { method: 'PUT', path: `${path}/aliases/${alias.name}`, params: { cidr: current.cidr } },
          [`fw-alias:${alias.name}`]),
      );
    }
  }
  for (const set of want.ipsets) {
    const current = live.ipsets.find((s) => s.name.toLowerCase() === set.name.toLowerCase());
    const entryPath = `${path}/ipset/${set.name}`;
    if (!current) {
      out.push(
        objectAction('firewall.ipset.create', set.name, `ipset/${set.name}`, 'create', [change('ipset', null, set.name)],
          { method: 'POST', path: `${path}/ipset`, params: { name: set.name, ...(set.comment ? { comment: set.comment } : {}) } },
          { method: 'DELETE', path: entryPath, params: {} },
          [`fw-ipset-exists:${set.name}`]),
      );
    }
    const have = current?.cidrs ?? [];
    const add = set.cidrs.filter((c) => !have.includes(c));
    const remove = have.filter((c) => !set.cidrs.includes(c));
    if (add.length || remove.length) {
      const cidrPath = (c: string) => `${entryPath}/${encodeURIComponent(c)}`;
      out.push(
        draft({
          id: `firewall.ipset.entry:${set.name}`,
          type: 'firewall.ipset.entry',
          kind: current ? 'update' : 'create',
          channel: 'pve',
          target: `firewall/ipset/${set.name}`,
          targetKey: 'firewall/cluster',
          changes: [...add.map((c) => change(`cidrs`, null, c)), ...remove.map((c) => change('cidrs', c, null))],
          params: req(
            [...add.map((c): PveRequest => ({ method: 'POST', path: entryPath, params: { cidr: c }, async: false })), ...remove.map((c): PveRequest => ({ method: 'DELETE', path: cidrPath(c), params: {}, async: false }))],
            [...add.map((c): PveRequest => ({ method: 'DELETE', path: cidrPath(c), params: {}, async: false })), ...remove.map((c): PveRequest => ({ method: 'POST', path: entryPath, params: { cidr: c }, async: false }))],
          ),
          facts: fact,
          provides: [`fw-ipset:${set.name}`],
          requires: [`fw-ipset-exists:${set.name}`],
        }),
      );
    } else if (!current) {
      out[out.length - 1]!.provides.push(`fw-ipset:${set.name}`);
    }
  }
  for (const group of want.groups) {
    const current = live.groups.find((g) => g.group === group.group);
    const groupPath = `${path}/groups/${group.group}`;
    if (!current) {
      out.push(
        objectAction('firewall.group.create', group.group, `group/${group.group}`, 'create', [change('group', null, group.group)],
          { method: 'POST', path: `${path}/groups`, params: { group: group.group, ...(group.comment ? { comment: group.comment } : {}) } },
          { method: 'DELETE', path: groupPath, params: {} },
          [`fw-group-exists:${group.group}`]),
      );
    }
    const scope: Scope = { level: 'cluster', label: `group/${group.group}`, rulesPath: groupPath, chainKey: `group/${group.group}` };
    const rules = diffRules(ctx, scope, current?.rules ?? [], group.rules, [`fw-group-exists:${group.group}`]);
    for (const r of rules) r.provides.push(`fw-group:${group.group}`);
    out.push(...rules);
  }
  const scope: Scope = { level: 'cluster', label: 'cluster', rulesPath: `${path}/rules`, optionsPath: `${path}/options`, chainKey: 'cluster' };
  out.push(...diffRules(ctx, scope, live.rules, want.rules, []));
  out.push(...diffOptions(ctx, scope, live.options, want.options));
  return out;
}
