// After a crash, a journaled intent without an outcome means a request may or may not have reached Proxmox. Before
// sending it again, read the target back: a create whose object now exists is NOT sent twice; a set whose values are
// already in place is done; an idempotent PUT may simply be re-sent; anything else is "unknown" and apply stops.
import type { FirewallLevel, FirewallRule } from '../infra/proxmox/api.ts';
import type { PveRequest } from '../planner/plan.ts';
import type { ApplyPve } from './types.ts';

export type RequestEffect = 'applied' | 'not-applied' | 'unknown';

const NODE = '/nodes/[^/]+';
const VM = `${NODE}/qemu/(\\d+)`;
const re = (pattern: string): RegExp => new RegExp(`^${pattern}$`);

/** Parameters that steer a call rather than describe the result. */
const CONTROL_PARAMS = new Set(['digest', 'delete', 'revert', 'skiplock', 'background_delay', 'pos', 'moveto', 'start']);

/** `virtio,bridge=vmbr1` is satisfied by `virtio=BC:24:11:00:00:01,bridge=vmbr1`: PVE fills in generated parts. */
function valueSatisfied(current: unknown, wanted: string | number): boolean {
  if (current === undefined || current === null) return false;
  if (String(current) === String(wanted)) return true;
  const wantedText = String(wanted);
  if (!wantedText.includes('=') && !wantedText.includes(',')) return false;
  const have = new Map(
    String(current)
      .split(',')
      .map((item) => {
        const eq = item.indexOf('=');
        return eq < 0 ? ([item, undefined] as const) : ([item.slice(0, eq), item.slice(eq + 1)] as const);
      }),
  );
  return wantedText.split(',').every((item) => {
    const eq = item.indexOf('=');
    if (eq < 0) return have.has(item);
    return have.get(item.slice(0, eq)) === item.slice(eq + 1);
  });
}

function paramsSatisfied(current: Record<string, unknown>, params: PveRequest['params']): boolean {
  for (const [key, value] of Object.entries(params)) {
    if (CONTROL_PARAMS.has(key)) continue;
    if (!valueSatisfied(current[key], value)) return false;
  }
  const deleted = typeof params.delete === 'string' ? params.delete.split(',').filter(Boolean) : [];
  return deleted.every((key) => current[key] === undefined);
}

function firewallLevel(prefix: string): FirewallLevel | undefined {
  if (prefix === '/cluster') return { level: 'cluster' };
  if (re(NODE).test(prefix)) return { level: 'node' };
  const vm = re(VM).exec(prefix);
  return vm ? { level: 'vm', vmid: Number(vm[1]) } : undefined;
}

function ruleMatches(rule: FirewallRule, params: PveRequest['params']): boolean {
  return paramsSatisfied(rule as unknown as Record<string, unknown>, params);
}

function rulesDigest(rules: FirewallRule[]): string | undefined {
  return rules.find((rule) => rule.digest !== undefined)?.digest;
}

/** Seconds of clock difference between Jarvis and the node tolerated when matching a task to an interrupted request. */
const CLOCK_SLACK_S = 5;

/**
 * Reads the target of `request` back and says whether the request's effect is already there. `sentAfter` is when the
 * interrupted request was journaled (ms since the epoch): a task it started cannot be older.
 */
export async function requestEffect(pve: ApplyPve, request: PveRequest, sentAfter?: number): Promise<RequestEffect> {
  const { method, path, params } = request;
  let m: RegExpExecArray | null;

  if (method === 'POST' && re(`${NODE}/qemu`).test(path)) {
    const vms = await pve.clusterResources('vm');
    return vms.some((vm) => vm.vmid === Number(params.vmid)) ? 'applied' : 'not-applied';
  }
  if ((m = re(`${VM}/config`).exec(path)) && method !== 'DELETE') {
    const { config } = await pve.vmConfig(Number(m[1]));
    return paramsSatisfied(config, params) ? 'applied' : 'not-applied';
  }
  if ((m = re(`${VM}/status/(start|stop|shutdown|reboot)`).exec(path))) {
    const vmid = Number(m[1]);
    const action = m[2]!;
    if (sentAfter !== undefined) {
      const since = Math.floor(sentAfter / 1000) - CLOCK_SLACK_S;
      const tasks = await pve.listTasks({ vmid, typefilter: `qm${action}`, since, source: 'all' });
      if (tasks.some((task) => task.type === `qm${action}`)) return 'applied';
    }
    // A reboot leaves no other trace; without its task it did not happen.
    if (action === 'reboot') return 'not-applied';
    const status = await pve.vmStatus(vmid);
    return (action === 'start') === (status.status === 'running') ? 'applied' : 'not-applied';
  }
  if (method === 'POST' && (m = re(`${VM}/snapshot`).exec(path))) {
    const snapshot = (await pve.listSnapshots(Number(m[1]))).find((snap) => snap.name === params.snapname);
    // A snapshot still marked `prepare` is half made: its task may still run, or it died and left it behind.
    if (snapshot?.snapstate) return 'unknown';
    return snapshot ? 'applied' : 'not-applied';
  }
  if (re(`${VM}/snapshot/[^/]+/rollback`).test(path)) return 'not-applied';
  if (re(`${VM}/resize`).test(path)) return String(params.size ?? '').startsWith('+') ? 'unknown' : 'not-applied';
  if (method === 'POST' && re(`${NODE}/network`).test(path)) {
    const { interfaces } = await pve.listNetwork();
    return interfaces.some((iface) => iface.iface === params.iface) ? 'applied' : 'not-applied';
  }
  if (method === 'POST' && re(`${NODE}/disks/zfs`).test(path)) {
    const pools = await pve.listZfsPools();
    return pools.some((pool) => pool.name === params.name) ? 'applied' : 'not-applied';
  }
  if (method === 'POST' && path === '/storage') {
    const storages = await pve.listStorage();
    return storages.some((storage) => storage.storage === params.storage) ? 'applied' : 'not-applied';
  }
  if (method === 'POST' && path === '/cluster/mapping/dir') {
    const mappings = await pve.listDirMappings();
    return mappings.some((mapping) => mapping.id === params.id) ? 'applied' : 'not-applied';
  }
  if (method === 'POST' && path === '/cluster/backup') {
    if (params.id === undefined) return 'unknown';
    const jobs = await pve.listBackupJobs();
    return jobs.some((job) => job.id === params.id) ? 'applied' : 'not-applied';
  }
  if (method === 'POST' && path === '/cluster/firewall/groups') {
    const groups = await pve.firewallGroups();
    return groups.some((group) => group.group === params.group) ? 'applied' : 'not-applied';
  }
  if (method === 'POST' && (m = re('/cluster/firewall/groups/([^/]+)').exec(path))) {
    const rules = await pve.firewallGroupRules(decodeURIComponent(m[1]!));
    return rules.some((rule) => ruleMatches(rule, params)) ? 'applied' : 'not-applied';
  }
  if (method === 'POST' && path === '/cluster/firewall/ipset') {
    const sets = await pve.firewallIpsets();
    return sets.some((set) => set.name === params.name) ? 'applied' : 'not-applied';
  }
  if (method === 'POST' && (m = re('/cluster/firewall/ipset/([^/]+)').exec(path))) {
    const entries = await pve.firewallIpsetEntries(decodeURIComponent(m[1]!));
    return entries.some((entry) => entry.cidr === params.cidr) ? 'applied' : 'not-applied';
  }
  if (method === 'POST' && path === '/cluster/firewall/aliases') {
    const aliases = await pve.firewallAliases();
    return aliases.some((alias) => alias.name === params.name) ? 'applied' : 'not-applied';
  }
  if ((m = /^(.*)\/firewall\/rules(?:\/(\d+))?$/.exec(path))) {
    const level = firewallLevel(m[1]!);
    if (!level) return 'unknown';
    const rules = await pve.firewallRules(level);
    if (method === 'POST' && m[2] === undefined) return rules.some((rule) => ruleMatches(rule, params)) ? 'applied' : 'not-applied';
    // A positional edit or delete is only safe to resend while the rule list is exactly as the plan saw it.
    if (typeof params.digest === 'string' && rulesDigest(rules) === params.digest) return 'not-applied';
    if (method === 'PUT') {
      const rule = rules.find((candidate) => candidate.pos === Number(m![2]));
      return rule && ruleMatches(rule, params) ? 'applied' : 'unknown';
    }
    return 'unknown';
  }
  if (method === 'POST' && (m = re(`${NODE}/storage/([^/]+)/download-url`).exec(path))) {
    // The file appears only once the download is verified; sending it again is harmless (PVE keeps a matching file).
    const storage = decodeURIComponent(m[1]!);
    const volumes = await pve.storageContent(storage, { content: String(params.content ?? 'import') });
    return volumes.some((volume) => volume.volid === `${storage}:${String(params.content ?? 'import')}/${String(params.filename)}`) ? 'applied' : 'not-applied';
  }
  if (method === 'POST' && re(`${NODE}/vzdump`).test(path)) return 'not-applied';
  // A PUT sets values: sending it again gives the same result.
  if (method === 'PUT') return 'not-applied';
  if (method === 'DELETE' && re(`${NODE}/network`).test(path)) return 'not-applied';
  return 'unknown';
}

/** The vmid a request is about, for finding a task it may have left running. */
export function requestVmid(request: PveRequest): number | undefined {
  const m = re(`${VM}(?:/.*)?`).exec(request.path);
  if (m) return Number(m[1]);
  return request.params.vmid === undefined ? undefined : Number(request.params.vmid);
}
