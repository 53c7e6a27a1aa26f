// Firewall at cluster, node and VM level: options, rules (new rules go to the top unless `pos` says otherwise),
// security groups, IP sets and aliases, each with a digest that rejects stale writes.
import { fail, PveHttpError, str, type Params } from '../http.ts';
import type { FirewallScope, FwRule, SimLab } from '../lab.ts';
import { checkNode } from './cluster.ts';
import type { RouteContext, RouteTable } from './types.ts';

const RULE_KEYS = ['type', 'action', 'enable', 'source', 'dest', 'proto', 'dport', 'sport', 'macro', 'iface', 'log', 'comment', 'icmp-type'];
const STALE = 'detected modified configuration - file changed by other user? Try again.';

type Level = 'cluster' | 'node' | 'vm' | 'group';

function checkDigest(lab: SimLab, scope: unknown, params: Params): void {
  const digest = str(params, 'digest');
  if (digest !== undefined && digest !== lab.firewallDigest(scope)) fail(STALE);
}

/** pve-firewall's reference checks: IP sets, aliases and groups a rule names must exist. */
function checkReferences(lab: SimLab, rule: FwRule, level: Level, vmid?: number): void {
  for (const key of ['source', 'dest'] as const) {
    const value = rule[key];
    if (typeof value !== 'string' || value === '') continue;
    const ipset = /^\+(?:(dc|guest|sdn)\/)?(.+)$/.exec(value);
    if (ipset) {
      if (ipset[1] !== 'guest' && !lab.clusterFirewall.ipsets.has(ipset[2]!)) fail(`no such ipset '${ipset[2]}'`);
      continue;
    }
    const alias = /^(?:(dc|guest)\/)?([A-Za-z][A-Za-z0-9\-_]+)$/.exec(value);
    if (alias && alias[1] !== 'guest' && !lab.clusterFirewall.aliases.has(alias[2]!)) fail(`no such alias '${alias[2]}'`);
  }
  if (rule.type === 'group') {
    if (level === 'group') throw new PveHttpError(400, 'Parameter verification failed.', { type: "value 'group' does not have a value in the enumeration 'in, out, forward'" });
    if (!lab.clusterFirewall.groups.has(rule.action)) fail(`no such security group '${rule.action}'`);
  } else if (!['ACCEPT', 'DROP', 'REJECT'].includes(rule.action)) {
    throw new PveHttpError(400, 'Parameter verification failed.', { action: `value '${rule.action}' does not have a value in the enumeration 'ACCEPT, DROP, REJECT'` });
  }
  if (level === 'vm' && rule.type === 'forward') fail(`rule type 'forward' is not allowed at VM level${vmid ? ` (VM ${vmid})` : ''}`);
  if ((rule.dport !== undefined || rule.sport !== undefined) && rule.proto === undefined && rule.macro === undefined) {
    throw new PveHttpError(400, 'Parameter verification failed.', { proto: 'missing property - protocol is required when using ports' });
  }
}

function ruleFrom(params: Params, base?: FwRule): FwRule {
  const rule: Record<string, string | number> = { ...(base ?? {}) };
  for (const key of RULE_KEYS) {
    const value = str(params, key);
    if (value !== undefined) rule[key] = key === 'enable' ? Number(value) : value;
  }
  for (const key of (str(params, 'delete') ?? '').split(/[,;\s]+/).filter(Boolean)) delete rule[key];
  return rule as FwRule;
}

function ruleRows(lab: SimLab, rules: FwRule[], scope: unknown): Array<Record<string, unknown>> {
  const digest = lab.firewallDigest(scope);
  return rules.map((rule, pos) => {
    const row: Record<string, unknown> = { pos, ...rule, digest };
    if (typeof rule.source === 'string' && /^[\d.]+/.test(rule.source)) row.ipversion = 4;
    return row;
  });
}

/** Handlers for one rule list (cluster, node, VM or a security group). */
function ruleHandlers(resolve: (ctx: RouteContext) => { rules: FwRule[]; scope: unknown; level: Level; vmid?: number }) {
  return {
    list: (ctx: RouteContext) => {
      const { rules, scope } = resolve(ctx);
      return ruleRows(ctx.lab, rules, scope);
    },
    create: (ctx: RouteContext) => {
      const { rules, scope, level, vmid } = resolve(ctx);
      checkDigest(ctx.lab, scope, ctx.params);
      const rule = ruleFrom(ctx.params);
      checkReferences(ctx.lab, rule, level, vmid);
      const pos = Math.min(Number(str(ctx.params, 'pos') ?? 0), rules.length);
      rules.splice(pos, 0, rule);
      return null;
    },
    get: (ctx: RouteContext) => {
      const { rules, scope } = resolve(ctx);
      const pos = Number(ctx.path.pos);
      if (!rules[pos]) fail(`no rule at position ${pos}`);
      return ruleRows(ctx.lab, rules, scope)[pos];
    },
    update: (ctx: RouteContext) => {
      const { rules, scope, level, vmid } = resolve(ctx);
      checkDigest(ctx.lab, scope, ctx.params);
      const pos = Number(ctx.path.pos);
      const current = rules[pos] ?? fail(`no rule at position ${pos}`);
      const moveto = str(ctx.params, 'moveto');
      if (moveto !== undefined) {
        rules.splice(pos, 1);
        rules.splice(Math.min(Number(moveto), rules.length), 0, current);
        return null;
      }
      const next = ruleFrom(ctx.params, current);
      checkReferences(ctx.lab, next, level, vmid);
      rules[pos] = next;
      return null;
    },
    remove: (ctx: RouteContext) => {
      const { rules, scope } = resolve(ctx);
      checkDigest(ctx.lab, scope, ctx.params);
      const pos = Number(ctx.path.pos);
      if (!rules[pos]) fail(`no rule at position ${pos}`);
      rules.splice(pos, 1);
      return null;
    },
  };
}

function optionHandlers(resolve: (ctx: RouteContext) => FirewallScope, defaults: Record<string, string | number>) {
  return {
    get: (ctx: RouteContext) => {
      const scope = resolve(ctx);
      return { ...defaults, ...scope.options, digest: ctx.lab.firewallDigest(scope) };
    },
    set: (ctx: RouteContext) => {
      const scope = resolve(ctx);
      checkDigest(ctx.lab, scope, ctx.params);
      for (const key of (str(ctx.params, 'delete') ?? '').split(/[,;\s]+/).filter(Boolean)) delete scope.options[key];
      for (const [key, value] of Object.entries(ctx.params)) {
        if (['node', 'vmid', 'delete', 'digest'].includes(key)) continue;
        const text = Array.isArray(value) ? value.join(',') : value;
        scope.options[key] = /^\d+$/.test(text) ? Number(text) : text;
      }
      return null;
    },
  };
}

const cluster = ruleHandlers(({ lab }) => ({ rules: lab.clusterFirewall.rules, scope: lab.clusterFirewall, level: 'cluster' }));
const node = ruleHandlers(({ lab, path }) => {
  checkNode(path.node, lab);
  return { rules: lab.nodeFirewall.rules, scope: lab.nodeFirewall, level: 'node' };
});
const vm = ruleHandlers(({ lab, path }) => {
  checkNode(path.node, lab);
  const target = lab.vm(path.vmid ?? '');
  return { rules: target.firewall.rules, scope: target.firewall, level: 'vm', vmid: target.vmid };
});
const group = ruleHandlers(({ lab, path }) => {
  const entry = lab.clusterFirewall.groups.get(path.group ?? '') ?? fail(`no such security group '${path.group}'`);
  return { rules: entry.rules, scope: entry, level: 'group' };
});
const clusterOptions = optionHandlers(({ lab }) => lab.clusterFirewall, {});
const nodeOptions = optionHandlers(({ lab, path }) => {
  checkNode(path.node, lab);
  return lab.nodeFirewall;
}, {});
const vmOptions = optionHandlers(({ lab, path }) => {
  checkNode(path.node, lab);
  return lab.vm(path.vmid ?? '').firewall;
}, {});

export const firewallRoutes: RouteTable = {
  'GET /cluster/firewall/options': clusterOptions.get,
  'PUT /cluster/firewall/options': clusterOptions.set,
  'GET /cluster/firewall/rules': cluster.list,
  'POST /cluster/firewall/rules': cluster.create,
  'GET /cluster/firewall/rules/{pos}': cluster.get,
  'PUT /cluster/firewall/rules/{pos}': cluster.update,
  'DELETE /cluster/firewall/rules/{pos}': cluster.remove,

  'GET /cluster/firewall/groups': ({ lab }) =>
    [...lab.clusterFirewall.groups].map(([name, g]) => ({ group: name, comment: g.comment, digest: lab.firewallDigest(lab.clusterFirewall.groups) })),
  'POST /cluster/firewall/groups': ({ lab, params }) => {
    const name = str(params, 'group') ?? '';
    const rename = str(params, 'rename');
    const groups = lab.clusterFirewall.groups;
    checkDigest(lab, groups, params);
    if (rename !== undefined) {
      const existing = groups.get(rename) ?? fail(`no such security group '${rename}'`);
      if (groups.has(name)) fail(`security group '${name}' already exists`);
      groups.delete(rename);
      groups.set(name, { ...existing, comment: str(params, 'comment') ?? existing.comment });
      return null;
    }
    if (groups.has(name)) fail(`security group '${name}' already exists`);
    const entry: { comment?: string; rules: FwRule[] } = { rules: [] };
    const comment = str(params, 'comment');
    if (comment !== undefined) entry.comment = comment;
    groups.set(name, entry);
    return null;
  },
  'GET /cluster/firewall/groups/{group}': group.list,
  'POST /cluster/firewall/groups/{group}': group.create,
  'DELETE /cluster/firewall/groups/{group}': ({ lab, path }) => {
    const name = path.group ?? '';
    const entry = lab.clusterFirewall.groups.get(name) ?? fail(`no such security group '${name}'`);
    if (entry.rules.length) fail(`security group '${name}' is not empty`);
    const used = lab.clusterFirewall.rules.some((r) => r.type === 'group' && r.action === name) || lab.nodeFirewall.rules.some((r) => r.type === 'group' && r.action === name);
    if (used) fail(`security group '${name}' is used by a rule`);
    lab.clusterFirewall.groups.delete(name);
    return null;
  },
  'GET /cluster/firewall/groups/{group}/{pos}': group.get,
  'PUT /cluster/firewall/groups/{group}/{pos}': group.update,
  'DELETE /cluster/firewall/groups/{group}/{pos}': group.remove,

  'GET /cluster/firewall/ipset': ({ lab }) =>
    [...lab.clusterFirewall.ipsets].map(([name, s]) => ({ name, comment: s.comment, digest: lab.firewallDigest(lab.clusterFirewall.ipsets) })),
  'POST /cluster/firewall/ipset': ({ lab, params }) => {
    const name = str(params, 'name') ?? '';
    const sets = lab.clusterFirewall.ipsets;
    checkDigest(lab, sets, params);
    const rename = str(params, 'rename');
    if (rename !== undefined) {
      const existing = sets.get(rename) ?? fail(`no such IPSet '${rename}'`);
      sets.delete(rename);
      sets.set(name, { ...existing, comment: str(params, 'comment') ?? existing.comment });
      return null;
    }
    if (sets.has(name)) fail(`IPSet '${name}' already exists`);
    const entry: { comment?: string; entries: Array<{ cidr: string; nomatch?: number; comment?: string }> } = { entries: [] };
    const comment = str(params, 'comment');
    if (comment !== undefined) entry.comment = comment;
    sets.set(name, entry);
    return null;
  },
  'GET /cluster/firewall/ipset/{name}': ({ lab, path }) => {
    const set = lab.clusterFirewall.ipsets.get(path.name ?? '') ?? fail(`no such IPSet '${path.name}'`);
    const digest = lab.firewallDigest(set);
    return set.entries.map((e) => ({ ...e, digest }));
  },
  'POST /cluster/firewall/ipset/{name}': ({ lab, path, params }) => {
    const set = lab.clusterFirewall.ipsets.get(path.name ?? '') ?? fail(`no such IPSet '${path.name}'`);
    const cidr = str(params, 'cidr') ?? '';
    if (/^[A-Za-z]/.test(cidr) && !lab.clusterFirewall.aliases.has(cidr)) fail(`no such alias '${cidr}'`);
    if (set.entries.some((e) => e.cidr === cidr)) fail(`address '${cidr}' already exists`);
    const entry: { cidr: string; nomatch?: number; comment?: string } = { cidr };
    if (str(params, 'nomatch') === '1') entry.nomatch = 1;
    const comment = str(params, 'comment');
    if (comment !== undefined) entry.comment = comment;
    set.entries.push(entry);
    return null;
  },
  'DELETE /cluster/firewall/ipset/{name}': ({ lab, path, params }) => {
    const set = lab.clusterFirewall.ipsets.get(path.name ?? '') ?? fail(`no such IPSet '${path.name}'`);
    if (set.entries.length && str(params, 'force') !== '1') fail(`IPSet '${path.name}' is not empty`);
    lab.clusterFirewall.ipsets.delete(path.name ?? '');
    return null;
  },
  'GET /cluster/firewall/ipset/{name}/{cidr}': ({ lab, path }) => {
    const set = lab.clusterFirewall.ipsets.get(path.name ?? '') ?? fail(`no such IPSet '${path.name}'`);
    const entry = set.entries.find((e) => e.cidr === path.cidr) ?? fail(`no such IP/Network`);
    return { ...entry, digest: lab.firewallDigest(set) };
  },
  'PUT /cluster/firewall/ipset/{name}/{cidr}': ({ lab, path, params }) => {
    const set = lab.clusterFirewall.ipsets.get(path.name ?? '') ?? fail(`no such IPSet '${path.name}'`);
    checkDigest(lab, set, params);
    const entry = set.entries.find((e) => e.cidr === path.cidr) ?? fail(`no such IP/Network`);
    const comment = str(params, 'comment');
    if (comment !== undefined) entry.comment = comment;
    if (str(params, 'nomatch') !== undefined) entry.nomatch = Number(str(params, 'nomatch'));
    return null;
  },
  'DELETE /cluster/firewall/ipset/{name}/{cidr}': ({ lab, path, params }) => {
    const set = lab.clusterFirewall.ipsets.get(path.name ?? '') ?? fail(`no such IPSet '${path.name}'`);
    checkDigest(lab, set, params);
    set.entries = set.entries.filter((e) => e.cidr !== path.cidr);
    return null;
  },

  'GET /cluster/firewall/aliases': ({ lab }) => {
    const digest = lab.firewallDigest(lab.clusterFirewall.aliases);
    return [...lab.clusterFirewall.aliases].map(([name, a]) => ({ name, ...a, digest }));
  },
  'POST /cluster/firewall/aliases': ({ lab, params }) => {
    const name = str(params, 'name') ?? '';
    if (lab.clusterFirewall.aliases.has(name)) fail(`alias '${name}' already exists`);
    const entry: { cidr: string; comment?: string } = { cidr: str(params, 'cidr') ?? '' };
    const comment = str(params, 'comment');
    if (comment !== undefined) entry.comment = comment;
    lab.clusterFirewall.aliases.set(name, entry);
    return null;
  },
  'GET /cluster/firewall/aliases/{name}': ({ lab, path }) => {
    const alias = lab.clusterFirewall.aliases.get(path.name ?? '') ?? fail(`no such alias '${path.name}'`);
    return { name: path.name, ...alias, digest: lab.firewallDigest(lab.clusterFirewall.aliases) };
  },
  'PUT /cluster/firewall/aliases/{name}': ({ lab, path, params }) => {
    const aliases = lab.clusterFirewall.aliases;
    checkDigest(lab, aliases, params);
    const alias = aliases.get(path.name ?? '') ?? fail(`no such alias '${path.name}'`);
    alias.cidr = str(params, 'cidr') ?? alias.cidr;
    const comment = str(params, 'comment');
    if (comment !== undefined) alias.comment = comment;
    const rename = str(params, 'rename');
    if (rename !== undefined) {
      aliases.delete(path.name ?? '');
      aliases.set(rename, alias);
    }
    return null;
  },
  'DELETE /cluster/firewall/aliases/{name}': ({ lab, path, params }) => {
    checkDigest(lab, lab.clusterFirewall.aliases, params);
    if (!lab.clusterFirewall.aliases.delete(path.name ?? '')) fail(`no such alias '${path.name}'`);
    return null;
  },

  'GET /nodes/{node}/firewall/options': nodeOptions.get,
  'PUT /nodes/{node}/firewall/options': nodeOptions.set,
  'GET /nodes/{node}/firewall/rules': node.list,
  'POST /nodes/{node}/firewall/rules': node.create,
  'GET /nodes/{node}/firewall/rules/{pos}': node.get,
  'PUT /nodes/{node}/firewall/rules/{pos}': node.update,
  'DELETE /nodes/{node}/firewall/rules/{pos}': node.remove,

  'GET /nodes/{node}/qemu/{vmid}/firewall/options': vmOptions.get,
  'PUT /nodes/{node}/qemu/{vmid}/firewall/options': vmOptions.set,
  'GET /nodes/{node}/qemu/{vmid}/firewall/rules': vm.list,
  'POST /nodes/{node}/qemu/{vmid}/firewall/rules': vm.create,
  'GET /nodes/{node}/qemu/{vmid}/firewall/rules/{pos}': vm.get,
  'PUT /nodes/{node}/qemu/{vmid}/firewall/rules/{pos}': vm.update,
  'DELETE /nodes/{node}/qemu/{vmid}/firewall/rules/{pos}': vm.remove,
};
