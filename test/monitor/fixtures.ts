// A small homelab as the monitor reads it: three guests in a nightly job (one of them failing last night), a manual
// backup of 400 that failed, a guest no job covers, storages, a degraded-free pool and a tailnet.
import type { ClusterResource, ProxmoxApi, TaskLogLine, TaskSummary } from '../../infra/proxmox/api.ts';
import type { TailnetApi, TailnetDevice, TailnetPolicy } from '../../infra/tailscale/api.ts';
import { known } from '../../planner/state.ts';
import type { Collected } from '../../monitor/collect.ts';
import type { WatchThresholds } from '../../monitor/watch.ts';

export const NOW = Date.parse('2026-11-25T08:00:00Z');
export const sec = (iso: string): number => Date.parse(iso) / 1000;

export const THRESHOLDS: WatchThresholds = {
  backupWarnHours: 26,
  backupCritHours: 50,
  snapshotMaxAgeHours: 26,
  storageWarnPercent: 80,
  keyExpiryWarnDays: 14,
  cooldownMinutes: 360,
  timeZone: 'UTC',
};

const upid = (start: string, id: string, pid: string): string =>
  `UPID:proxmox:${pid}:0000ABCD:${sec(start).toString(16).toUpperCase().padStart(8, '0')}:vzdump:${id}:root@pam:`;

export const OK_RUN = upid('2026-11-24T02:30:00Z', '', '00001111');
export const FAILED_RUN = upid('2026-11-25T02:30:00Z', '', '00002222');
export const FAILED_MANUAL = upid('2026-11-25T05:00:00Z', '400', '00003333');

const logOf = (lines: string[]): TaskLogLine[] => lines.map((t, i) => ({ n: i + 1, t }));

export const LOGS: Record<string, TaskLogLine[]> = {
  [OK_RUN]: logOf([
    'INFO: starting new backup job: vzdump 100 300 400 --mode snapshot --storage local --compress zstd --job-id jarvis-daily',
    'INFO: Starting Backup of VM 100 (qemu)',
    'INFO: Finished Backup of VM 100 (00:00:40)',
    'INFO: Starting Backup of VM 300 (qemu)',
    'INFO: Finished Backup of VM 300 (00:02:10)',
    'INFO: Starting Backup of VM 400 (qemu)',
    'INFO: Finished Backup of VM 400 (00:00:55)',
    'INFO: Backup job finished successfully',
    'TASK OK',
  ]),
  [FAILED_RUN]: logOf([
    'INFO: starting new backup job: vzdump 100 300 400 --mode snapshot --storage local --compress zstd --job-id jarvis-daily',
    'INFO: Starting Backup of VM 100 (qemu)',
    'INFO: Finished Backup of VM 100 (00:00:41)',
    'INFO: Starting Backup of VM 300 (qemu)',
    "ERROR: Backup of VM 300 failed - unable to create temporary directory '/var/lib/vz/dump/vzdump-qemu-300.tmp' - No space left on device",
    'INFO: Failed at 2026-11-25 02:31:30',
    'INFO: Starting Backup of VM 400 (qemu)',
    'INFO: Finished Backup of VM 400 (00:00:50)',
    'INFO: Backup job finished with errors',
    'TASK ERROR: job errors',
  ]),
  [FAILED_MANUAL]: logOf([
    'INFO: starting new backup job: vzdump 400 --mode snapshot --storage local',
    'INFO: Starting Backup of VM 400 (qemu)',
    'ERROR: Backup of VM 400 failed - VM 400 qmp command \'backup\' failed - got timeout',
    'INFO: Failed at 2026-11-25 05:03:00',
    'TASK ERROR: job errors',
  ]),
};

export const TASKS: TaskSummary[] = [
  { upid: OK_RUN, node: 'proxmox', type: 'vzdump', id: '', user: 'root@pam', starttime: sec('2026-11-24T02:30:00Z'), endtime: sec('2026-11-24T02:34:00Z'), status: 'OK' },
  { upid: FAILED_RUN, node: 'proxmox', type: 'vzdump', id: '', user: 'root@pam', starttime: sec('2026-11-25T02:30:00Z'), endtime: sec('2026-11-25T02:33:05Z'), status: 'job errors' },
  { upid: FAILED_MANUAL, node: 'proxmox', type: 'vzdump', id: '400', user: 'root@pam', starttime: sec('2026-11-25T05:00:00Z'), endtime: sec('2026-11-25T05:03:00Z'), status: 'job errors' },
];

export const RESOURCES: ClusterResource[] = [
  { id: 'node/proxmox', type: 'node', node: 'proxmox', status: 'online', maxcpu: 8 },
  { id: 'qemu/100', type: 'qemu', vmid: 100, node: 'proxmox', name: 'edge-gateway', status: 'running', uptime: 90_000, tags: 'edge;jarvis', mem: 1e9, maxmem: 2e9 },
  { id: 'qemu/150', type: 'qemu', vmid: 150, node: 'proxmox', name: 'lab', status: 'stopped', tags: '' },
  { id: 'qemu/300', type: 'qemu', vmid: 300, node: 'proxmox', name: 'app-host', status: 'running', uptime: 3600, tags: 'docker' },
  { id: 'qemu/400', type: 'qemu', vmid: 400, node: 'proxmox', name: 'haos', status: 'running', uptime: 7200 },
  { id: 'storage/proxmox/local', type: 'storage', node: 'proxmox', storage: 'local' },
];

export const DEVICES: TailnetDevice[] = [
  {
    id: '1', nodeId: 'n1', name: 'edge-gateway.tail.ts.net', hostname: 'edge-gateway', addresses: ['100.64.0.1'], authorized: true,
    connectedToControl: true, expires: '2026-12-01T00:00:00Z', keyExpiryDisabled: false,
    advertisedRoutes: ['10.10.20.0/24', '192.168.1.0/24'], enabledRoutes: ['192.168.1.0/24'],
  },
  {
    id: '2', nodeId: 'n2', name: 'app-host.tail.ts.net', hostname: 'app-host', addresses: ['100.64.0.2'], authorized: true,
    connectedToControl: false, expires: '2027-06-01T00:00:00Z', keyExpiryDisabled: false, advertisedRoutes: [], enabledRoutes: [],
  },
];

/** A ProxmoxApi with only the reads the monitor uses; any other call fails the test loudly. */
export function fakeProxmox(overrides: Partial<ProxmoxApi> = {}, calls: string[] = []): ProxmoxApi {
  const base: Partial<ProxmoxApi> = {
    node: 'proxmox',
    nodeStatus: async () => ({ cpu: 0.12, memory: { total: 32e9, used: 10e9, free: 22e9 }, uptime: 1_000_000, pveversion: 'pve-manager/8.2.4/faa83925' }),
    clusterResources: async () => RESOURCES,
    nodeStorageStatus: async () => [
      { storage: 'local', type: 'dir', content: 'iso,vztmpl,backup', active: 1, enabled: 1, total: 100e9, used: 85e9, avail: 15e9 },
      { storage: 'local-lvm', type: 'lvmthin', content: 'images,rootdir', active: 1, enabled: 1, total: 800e9, used: 200e9, avail: 600e9 },
    ],
    listBackupJobs: async () => [{ id: 'jarvis-daily', schedule: '02:30', storage: 'local', vmid: '100,300,400', enabled: 1 }],
    notBackedUp: async () => [{ vmid: 150, type: 'qemu', name: 'lab' }],
    listTasks: async () => TASKS,
    taskLog: async (u) => LOGS[u] ?? [],
    listZfsPools: async () => [],
    zfsPoolDetail: async (name) => ({ name, state: 'DEGRADED' }),
    vmStatus: async (vmid) => ({ vmid, status: 'running', agent: vmid === 400 ? 0 : 1 }),
    ...overrides,
  };
  return new Proxy(base as ProxmoxApi, {
    get(target, prop) {
      const value = (target as unknown as Record<string | symbol, unknown>)[prop];
      if (typeof value === 'function') {
        return (...args: unknown[]) => {
          calls.push(String(prop));
          return (value as (...a: unknown[]) => unknown)(...args);
        };
      }
      if (value === undefined && typeof prop === 'string' && prop !== 'then') {
        return () => Promise.reject(new Error(`unexpected call ${prop}`));
      }
      return value;
    },
  });
}

export function fakeTailnet(policy: TailnetPolicy = {}, devices: TailnetDevice[] = DEVICES): TailnetApi {
  return {
    listDevices: async () => devices,
    getPolicy: async () => policy,
    setEnabledRoutes: async () => {
      throw new Error('the monitor never writes');
    },
  };
}

/** A Collected built by hand, for the pure functions. */
export function collected(overrides: Partial<Collected> = {}): Collected {
  return {
    node: 'proxmox',
    tasksSince: NOW / 1000 - 7 * 24 * 3600,
    nodeStatus: known({ cpu: 0.12, memory: { total: 32e9, used: 10e9, free: 22e9 }, uptime: 1_000_000, pveversion: 'pve-manager/8.2.4/faa83925' }),
    resources: known(RESOURCES),
    storageStatus: known([{ storage: 'local', type: 'dir', content: 'backup', active: 1, enabled: 1, total: 100e9, used: 50e9 }]),
    backupJobs: known([{ id: 'jarvis-daily', schedule: '02:30', storage: 'local', vmid: '100,300,400', enabled: 1 }]),
    notBackedUp: known([{ vmid: 150, type: 'qemu', name: 'lab' }]),
    tasks: known(TASKS),
    taskLogs: Object.fromEntries(Object.entries(LOGS).map(([k, v]) => [k, known(v)])),
    zfsPools: known([]),
    zfsDetails: {},
    vmStatuses: {},
    createdAt: {},
    proxmoxRequests: 9,
    ...overrides,
  };
}
