// The Proxmox VE API client Jarvis uses (ProxmoxApi): typed calls over the transport, answers validated by the
// schemas, tasks followed to their end, plus raw requests for replaying plans.
import type { ZodType } from 'zod';
import { InputError } from '../../lib/errors.ts';
import type { FirewallLevel, PveParams, ProxmoxApi } from './api.ts';
import { fillPath, normalizeRawPath, pathSegment, templateOf } from './paths.ts';
import * as S from './schemas.ts';
import { waitForTask, type TaskPolling } from './tasks.ts';
import { PveTransport, type HttpMethod, type TransportOptions, type TransportStats } from './transport.ts';

/** The transport's options (URL, token, TLS trust, timeouts, concurrency, retries) plus the node and task polling. */
export interface ProxmoxClientOptions extends TransportOptions {
  /** Node name (default `proxmox`). */
  node?: string;
  taskPolling?: TaskPolling;
}

export type RawParams = Record<string, string | number | boolean | string[] | undefined>;

export interface ProxmoxClient extends ProxmoxApi {
  /** One raw call below /api2/json (a plan's `PveRequest`); returns the answer's unvalidated `data`. */
  request(method: HttpMethod, path: string, params?: RawParams): Promise<unknown>;
  stats(): TransportStats;
  close(): Promise<void>;
}

/** Values for the `{placeholders}` of a path template. */
type PathValues = Record<string, string | number>;

const VM_ACTIONS = new Set(['start', 'stop', 'shutdown', 'reboot']);
const NODE_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;

export function createProxmoxClient(opts: ProxmoxClientOptions): ProxmoxClient {
  const node = opts.node ?? 'proxmox';
  if (!NODE_NAME.test(node)) throw new InputError(`Invalid Proxmox node name ${JSON.stringify(node)}`);
  const http = new PveTransport(opts);
  const polling = opts.taskPolling ?? {};

  /** One typed call: `template` is code (`/nodes/{node}/qemu/{vmid}/config`), `at` the values of its placeholders. */
  async function call<T>(
    method: HttpMethod,
    template: string,
    at: PathValues,
    params: PveParams,
    schema: ZodType<T>,
  ): Promise<T> {
    return await http.call(method, fillPath(template, { node, ...at }), template, params, schema);
  }
  const get = <T>(template: string, at: PathValues, schema: ZodType<T>, params: PveParams = {}): Promise<T> =>
    call('GET', template, at, params, schema);
  const write = async (method: HttpMethod, template: string, at: PathValues, params: PveParams = {}): Promise<void> => {
    await call(method, template, at, params, S.nothing);
  };
  const startTask = (method: HttpMethod, template: string, at: PathValues, params: PveParams = {}): Promise<string> =>
    call(method, template, at, params, S.upid);

  const vm = '/nodes/{node}/qemu/{vmid}';
  const firewallBase = (at: FirewallLevel): { base: string; at: PathValues } => {
    switch (at.level) {
      case 'cluster':
        return { base: '/cluster/firewall', at: {} };
      case 'node':
        return { base: '/nodes/{node}/firewall', at: {} };
      case 'vm':
        return { base: `${vm}/firewall`, at: { vmid: at.vmid } };
    }
  };

  const client: ProxmoxClient = {
    node,
    version: () => get('/version', {}, S.version),
    clusterResources: (type) => get('/cluster/resources', {}, S.clusterResources, { type }),
    clusterOptions: () => get('/cluster/options', {}, S.record),
    nodeStatus: () => get('/nodes/{node}/status', {}, S.nodeStatus),
    nodeTime: () => get('/nodes/{node}/time', {}, S.nodeTime),
    permissions: (path) => get('/access/permissions', {}, S.permissions, { path }),

    vmConfig: (vmid) => get(`${vm}/config`, { vmid }, S.vmConfig),
    vmStatus: (vmid) => get(`${vm}/status/current`, { vmid }, S.vmStatus),
    createVm: (params) => startTask('POST', '/nodes/{node}/qemu', {}, params),
    updateVmConfig: (vmid, params) => call('POST', `${vm}/config`, { vmid }, params, S.upidOrNull),
    setVmConfig: (vmid, params) => write('PUT', `${vm}/config`, { vmid }, params),
    deleteVm: (vmid, params) => startTask('DELETE', vm, { vmid }, params),
    vmAction: async (vmid, action, params) => {
      // The action is part of PVE's own path template (`…/status/start`), so statistics name it.
      if (!VM_ACTIONS.has(action)) throw new InputError(`Invalid VM action ${JSON.stringify(action)}`);
      return await startTask('POST', `${vm}/status/${action}`, { vmid }, params);
    },
    resizeDisk: (vmid, disk, size) => call('PUT', `${vm}/resize`, { vmid }, { disk, size }, S.upidOrNull),
    listSnapshots: (vmid) => get(`${vm}/snapshot`, { vmid }, S.snapshots),
    createSnapshot: (vmid, snapname, description) =>
      startTask('POST', `${vm}/snapshot`, { vmid }, { snapname, description }),
    deleteSnapshot: (vmid, snapname) => startTask('DELETE', `${vm}/snapshot/{snapname}`, { vmid, snapname }),
    rollbackSnapshot: (vmid, snapname) =>
      startTask('POST', `${vm}/snapshot/{snapname}/rollback`, { vmid, snapname }),

    agentPing: (vmid) => write('POST', `${vm}/agent/ping`, { vmid }),
    agentExec: async (vmid, command, inputData) => {
      if (command.length === 0) throw new InputError('agent exec needs a command');
      const params = { command, 'input-data': inputData };
      return (await call('POST', `${vm}/agent/exec`, { vmid }, params, S.agentExec)).pid;
    },
    agentExecStatus: (vmid, pid) => get(`${vm}/agent/exec-status`, { vmid }, S.agentExecStatus, { pid }),
    agentNetworkInterfaces: async (vmid) =>
      (await get(`${vm}/agent/network-get-interfaces`, { vmid }, S.agentInterfaces)).result,

    listNetwork: () => http.callEnvelope('GET', fillPath('/nodes/{node}/network', { node }), '/nodes/{node}/network', {}, S.networkListing),
    createNetwork: (params) => write('POST', '/nodes/{node}/network', {}, params),
    updateNetwork: (iface, params) => write('PUT', '/nodes/{node}/network/{iface}', { iface }, params),
    applyNetwork: () => startTask('PUT', '/nodes/{node}/network', {}),
    revertNetwork: () => write('DELETE', '/nodes/{node}/network', {}),

    listDisks: () => get('/nodes/{node}/disks/list', {}, S.disks),
    listZfsPools: () => get('/nodes/{node}/disks/zfs', {}, S.zfsPools),
    zfsPoolDetail: (name) => get('/nodes/{node}/disks/zfs/{name}', { name }, S.zfsPoolDetail),
    createZfsPool: (params) => startTask('POST', '/nodes/{node}/disks/zfs', {}, params),

    listStorage: () => get('/storage', {}, S.storageConfigs),
    createStorage: (params) => write('POST', '/storage', {}, params),
    updateStorage: (storage, params) => write('PUT', '/storage/{storage}', { storage }, params),
    nodeStorageStatus: () => get('/nodes/{node}/storage', {}, S.storageStatus),
    storageContent: (storage, filter = {}) => get('/nodes/{node}/storage/{storage}/content', { storage }, S.storageContent, filter),

    listDirMappings: () => get('/cluster/mapping/dir', {}, S.dirMappings),
    createDirMapping: (params) => write('POST', '/cluster/mapping/dir', {}, params),

    firewallOptions: (level) => {
      const { base, at } = firewallBase(level);
      return get(`${base}/options`, at, S.firewallOptions);
    },
    setFirewallOptions: (level, params) => {
      const { base, at } = firewallBase(level);
      return write('PUT', `${base}/options`, at, params);
    },
    firewallRules: (level) => {
      const { base, at } = firewallBase(level);
      return get(`${base}/rules`, at, S.firewallRules);
    },
    createFirewallRule: (level, params) => {
      const { base, at } = firewallBase(level);
      return write('POST', `${base}/rules`, at, params);
    },
    updateFirewallRule: (level, pos, params) => {
      const { base, at } = firewallBase(level);
      return write('PUT', `${base}/rules/{pos}`, { ...at, pos }, params);
    },
    deleteFirewallRule: (level, pos, digest) => {
      const { base, at } = firewallBase(level);
      return write('DELETE', `${base}/rules/{pos}`, { ...at, pos }, { digest });
    },
    firewallGroups: () => get('/cluster/firewall/groups', {}, S.firewallGroups),
    firewallGroupRules: (group) => get('/cluster/firewall/groups/{group}', { group }, S.firewallRules),
    createFirewallGroup: (params) => write('POST', '/cluster/firewall/groups', {}, params),
    createFirewallGroupRule: (group, params) => write('POST', '/cluster/firewall/groups/{group}', { group }, params),
    firewallIpsets: () => get('/cluster/firewall/ipset', {}, S.firewallIpsets),
    firewallIpsetEntries: (name) => get('/cluster/firewall/ipset/{name}', { name }, S.firewallIpsetEntries),
    createFirewallIpset: (params) => write('POST', '/cluster/firewall/ipset', {}, params),
    addFirewallIpsetEntry: (name, params) => write('POST', '/cluster/firewall/ipset/{name}', { name }, params),
    firewallAliases: () => get('/cluster/firewall/aliases', {}, S.firewallAliases),
    createFirewallAlias: (params) => write('POST', '/cluster/firewall/aliases', {}, params),
    updateFirewallAlias: (name, params) => write('PUT', '/cluster/firewall/aliases/{name}', { name }, params),

    listBackupJobs: () => get('/cluster/backup', {}, S.backupJobs),
    createBackupJob: (params) => write('POST', '/cluster/backup', {}, params),
    updateBackupJob: (id, params) => write('PUT', '/cluster/backup/{id}', { id }, params),
    notBackedUp: () => get('/cluster/backup-info/not-backed-up', {}, S.notBackedUp),
    vzdump: (params) => startTask('POST', '/nodes/{node}/vzdump', {}, params),

    listTasks: (query = {}) => get('/nodes/{node}/tasks', {}, S.tasks, { ...query }),
    taskStatus: async (upid) => await get('/nodes/{node}/tasks/{upid}/status', taskAt(upid), S.taskStatus),
    taskLog: async (upid, range = {}) =>
      await get('/nodes/{node}/tasks/{upid}/log', taskAt(upid), S.taskLog, { start: range.start, limit: range.limit }),
    waitForTask: (upid, options) => waitForTask(client, upid, polling, options),

    request: async (method, path, params = {}) =>
      await http.send(method, normalizeRawPath(path), templateOf(path), params),
    stats: () => http.stats(),
    close: () => http.close(),
  };
  return client;
}

/** A task's status lives on the node that ran it, which the UPID names (`UPID:node:pid:…`). */
function taskAt(upid: string): { node: string; upid: string } {
  const match = /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):/.exec(upid);
  if (!match?.[1]) throw new InputError(`Invalid task id ${JSON.stringify(upid)}: expected UPID:node:…`);
  pathSegment(upid, 'task id');
  return { node: match[1], upid };
}
