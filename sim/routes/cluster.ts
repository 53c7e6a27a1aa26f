// Version, nodes, node status, cluster resources/status/options, permissions and tasks.
import { fail, int, str, bool } from '../http.ts';
import type { SimLab } from '../lab.ts';
import type { SimTask } from '../tasks.ts';
import type { RouteTable } from './types.ts';

const GiB = 1024 ** 3;
const NODE_MEMORY = 64 * GiB;
const BOOT = Math.floor(Date.now() / 1000) - 86_400 * 12;

export function checkNode(node: string | undefined, lab: SimLab): void {
  if (node !== lab.node) fail(`hostname lookup '${node}' failed - failed to get address info for: ${node}: Name or service not known`);
}

function vmMemory(config: Record<string, string>): number {
  return Number((config.memory ?? '512').replace(/^current=/, '').split(',')[0]) * 1024 * 1024;
}

export function vmResource(lab: SimLab, vmid: number): Record<string, unknown> {
  const vm = lab.vm(vmid);
  const running = vm.status === 'running';
  const maxmem = vmMemory(vm.config);
  const maxdisk = Object.entries(vm.config)
    .filter(([key]) => /^(scsi|virtio|sata)0$/.test(key))
    .map(([, value]) => /size=(\d+)G/.exec(value)?.[1])
    .reduce((sum, size) => sum + Number(size ?? 0) * GiB, 0);
  const row: Record<string, unknown> = {
    id: `qemu/${vmid}`,
    type: 'qemu',
    vmid,
    node: lab.node,
    name: vm.config.name ?? `VM ${vmid}`,
    status: vm.status,
    template: 0,
    maxmem,
    mem: running ? Math.round(maxmem * 0.42) : 0,
    maxcpu: Number(vm.config.cores ?? 1) * Number(vm.config.sockets ?? 1),
    cpu: running ? 0.03 : 0,
    maxdisk,
    disk: 0,
    uptime: running && vm.startedAt ? Math.floor(Date.now() / 1000) - vm.startedAt : 0,
    netin: running ? 123_456 : 0,
    netout: running ? 65_432 : 0,
    diskread: 0,
    diskwrite: 0,
  };
  if (vm.config.tags) row.tags = vm.config.tags;
  if (vm.config.lock) row.lock = vm.config.lock;
  return row;
}

function nodeRow(lab: SimLab): Record<string, unknown> {
  const mem = [...lab.vms.values()].filter((vm) => vm.status === 'running').reduce((sum, vm) => sum + vmMemory(vm.config), 3 * GiB);
  return {
    node: lab.node,
    status: 'online',
    cpu: 0.05,
    maxcpu: 8,
    mem: Math.min(mem, NODE_MEMORY),
    maxmem: NODE_MEMORY,
    uptime: Math.floor(Date.now() / 1000) - BOOT,
    level: '',
    ssl_fingerprint: lab.sslFingerprint,
    disk: 9 * GiB,
    maxdisk: 94 * GiB,
  };
}

function storageResource(lab: SimLab, id: string): Record<string, unknown> {
  const storage = lab.storage(id);
  const usage = lab.storageUsage(id);
  return {
    id: `storage/${lab.node}/${id}`,
    type: 'storage',
    storage: id,
    node: lab.node,
    status: 'available',
    plugintype: storage.type,
    content: storage.content,
    shared: Number(storage.shared ?? 0),
    disk: usage.used,
    maxdisk: usage.total,
  };
}

function taskRow(task: SimTask): Record<string, unknown> {
  const row: Record<string, unknown> = {
    upid: task.upid,
    node: task.node,
    pid: task.pid,
    pstart: task.pstart,
    starttime: task.starttime,
    type: task.type,
    id: task.id,
    user: task.user,
  };
  if (task.status === 'stopped') {
    row.endtime = task.endtime;
    row.status = task.exitstatus;
  }
  return row;
}

export const clusterRoutes: RouteTable = {
  'GET /version': () => ({ version: '9.1.4', release: '9.1', repoid: 'a1b2c3d4e5f6a7b8', console: 'xtermjs' }),

  'GET /nodes': ({ lab }) => [nodeRow(lab)],
  'GET /nodes/{node}': ({ lab, path }) => {
    checkNode(path.node, lab);
    return ['status', 'qemu', 'network', 'storage', 'disks', 'tasks', 'firewall', 'vzdump'].map((name) => ({ name }));
  },
  'GET /nodes/{node}/status': ({ lab, path }) => {
    checkNode(path.node, lab);
    const row = nodeRow(lab);
    return {
      cpu: row.cpu,
      cpuinfo: { model: 'AMD Ryzen 7 5700G with Radeon Graphics', cpus: 16, cores: 8, sockets: 1, mhz: '3800.000', hvm: '1', flags: 'fpu vme de pse' },
      memory: { total: NODE_MEMORY, used: row.mem, free: NODE_MEMORY - Number(row.mem) },
      swap: { total: 8 * GiB, used: 0, free: 8 * GiB },
      rootfs: { total: 94 * GiB, used: 9 * GiB, avail: 85 * GiB, free: 85 * GiB },
      loadavg: ['0.21', '0.18', '0.15'],
      uptime: row.uptime,
      idle: 0,
      wait: 0.001,
      kversion: 'Linux 6.14.11-4-pve #1 SMP PREEMPT_DYNAMIC PMX 6.14.11-4 (2025-10-10T08:04Z)',
      'current-kernel': { sysname: 'Linux', release: '6.14.11-4-pve', version: '#1 SMP PREEMPT_DYNAMIC PMX 6.14.11-4 (2025-10-10T08:04Z)', machine: 'x86_64' },
      'boot-info': { mode: 'efi', secureboot: 0 },
      pveversion: 'pve-manager/9.1.4/a1b2c3d4e5f6a7b8',
    };
  },

  'GET /cluster/resources': ({ lab, params }) => {
    const type = str(params, 'type');
    const rows: Array<Record<string, unknown>> = [];
    if (!type || type === 'node') rows.push({ id: `node/${lab.node}`, type: 'node', ...nodeRow(lab) });
    if (!type || type === 'vm') for (const vmid of [...lab.vms.keys()].sort((a, b) => a - b)) rows.push(vmResource(lab, vmid));
    if (!type || type === 'storage') for (const id of lab.storages.keys()) rows.push(storageResource(lab, id));
    if (!type || type === 'sdn') rows.push({ id: `sdn/${lab.node}/localnetwork`, type: 'sdn', sdn: 'localnetwork', node: lab.node, status: 'ok' });
    return rows;
  },
  // pve-manager PVE/API2/Nodes.pm (NodeTime): the time zone of /etc/timezone, the epoch, and the local time as epoch.
  'GET /nodes/{node}/time': ({ lab, path }) => {
    checkNode(path.node, lab);
    const time = Math.floor(Date.now() / 1000);
    return { timezone: lab.timezone, time, localtime: time };
  },
  'GET /cluster/status': ({ lab }) => [
    { type: 'node', id: `node/${lab.node}`, name: lab.node, nodeid: 0, ip: '192.168.1.10', online: 1, local: 1, level: '' },
  ],
  'GET /cluster/options': ({ lab }) => ({ ...lab.clusterOptions }),
  'PUT /cluster/options': ({ lab, params }) => {
    for (const key of (str(params, 'delete') ?? '').split(/[,;\s]+/).filter(Boolean)) delete lab.clusterOptions[key];
    for (const [key, value] of Object.entries(params)) if (key !== 'delete') lab.clusterOptions[key] = String(value);
    return null;
  },

  'GET /nodes/{node}/tasks': ({ lab, path, params }) => {
    checkNode(path.node, lab);
    const typefilter = str(params, 'typefilter');
    const vmid = str(params, 'vmid');
    const since = int(params, 'since');
    const until = int(params, 'until');
    const errors = bool(params, 'errors');
    const source = str(params, 'source') ?? 'archive';
    const userfilter = str(params, 'userfilter');
    const statusfilter = (str(params, 'statusfilter') ?? '').split(/[,;\s]+/).filter(Boolean);
    const start = int(params, 'start') ?? 0;
    const limit = int(params, 'limit') ?? 50;
    const matches = lab.tasks.tasks
      .filter((t) => (source === 'active' ? t.status === 'running' : source === 'archive' ? t.status === 'stopped' : true))
      .filter((t) => !typefilter || t.type === typefilter)
      .filter((t) => !vmid || t.id === vmid)
      .filter((t) => since === undefined || t.starttime >= since)
      .filter((t) => until === undefined || t.starttime <= until)
      .filter((t) => !userfilter || t.user.includes(userfilter))
      .filter((t) => !errors || (t.status === 'stopped' && t.exitstatus !== 'OK'))
      .filter((t) => {
        if (!statusfilter.length || t.status === 'running') return true;
        const kind = t.exitstatus === 'OK' ? 'ok' : t.exitstatus?.startsWith('WARNINGS') ? 'warning' : 'error';
        return statusfilter.includes(kind);
      })
      .sort((a, b) => b.starttime - a.starttime || b.pid - a.pid);
    return matches.slice(start, limit === 0 ? undefined : start + limit).map(taskRow);
  },
  'GET /cluster/tasks': ({ lab }) => [...lab.tasks.tasks].sort((a, b) => b.starttime - a.starttime).slice(0, 100).map(taskRow),
  'GET /nodes/{node}/tasks/{upid}': ({ lab, path }) => {
    checkNode(path.node, lab);
    return [{ name: 'log' }, { name: 'status' }];
  },
  'GET /nodes/{node}/tasks/{upid}/status': ({ lab, path }) => {
    checkNode(path.node, lab);
    const task = lab.tasks.find(path.upid ?? '') ?? fail(`no such task`);
    const row: Record<string, unknown> = { ...taskRow(task), status: task.status };
    if (task.status === 'stopped') row.exitstatus = task.exitstatus;
    return row;
  },
  'GET /nodes/{node}/tasks/{upid}/log': ({ lab, path, params }) => {
    checkNode(path.node, lab);
    const task = lab.tasks.find(path.upid ?? '') ?? fail(`no such task`);
    const start = int(params, 'start') ?? 0;
    const limit = int(params, 'limit') ?? 50;
    return task.log.slice(start, start + limit).map((t, i) => ({ n: start + i + 1, t }));
  },
  'DELETE /nodes/{node}/tasks/{upid}': ({ lab, path }) => {
    checkNode(path.node, lab);
    const task = lab.tasks.find(path.upid ?? '') ?? fail(`no such task`);
    if (task.status === 'running') task.exitstatus = 'interrupted by signal';
    return null;
  },
};
