// Disks (by-id), ZFS pools, storage definitions and per-node storage status, and directory mappings (virtiofs).
import { checkPruneBackups, parsePropertyString } from '../../lib/pve-formats.ts';
import { bool, fail, str, type Params } from '../http.ts';
import type { SimDisk, SimLab, SimZpool, StorageConfig } from '../lab.ts';
import { contentDir } from '../volumes.ts';
import { checkNode } from './cluster.ts';
import type { RouteTable } from './types.ts';

const CONTROL = new Set(['storage', 'delete', 'digest', 'mkdir', 'create-base-path', 'create-subdirs']);

function diskFor(lab: SimLab, device: string): SimDisk | undefined {
  const name = device.replace(/^\/dev\/disk\/by-id\//, '');
  return lab.disks.find((d) => d.devpath === device || d.by_id_link === name);
}

function storageRow(config: StorageConfig): Record<string, unknown> {
  const row: Record<string, unknown> = { ...config };
  // GET returns prune-backups as an object, like backup jobs.
  if (typeof row['prune-backups'] === 'string') row['prune-backups'] = propertyObject(row['prune-backups'] as string);
  return row;
}

/** A property string as the object GET responses carry (`keep-daily=7` → `{ 'keep-daily': 7 }`). */
export function propertyObject(value: string): Record<string, number | string> {
  return Object.fromEntries(Object.entries(parsePropertyString(value)).map(([key, v]) => [key, /^\d+$/.test(v) ? Number(v) : v]));
}

function applyStorageParams(config: StorageConfig, params: Params): void {
  for (const [key, value] of Object.entries(params)) {
    if (CONTROL.has(key)) continue;
    config[key] = Array.isArray(value) ? value.join(',') : value;
  }
  if (typeof config['prune-backups'] === 'string') {
    const error = checkPruneBackups(config['prune-backups']);
    if (error) fail(`prune-backups: ${error}`);
  }
}

function statusRow(lab: SimLab, id: string): Record<string, unknown> {
  const config = lab.storage(id);
  const usage = lab.storageUsage(id);
  const enabled = Number(config.disable ?? 0) === 0;
  return {
    storage: id,
    type: config.type,
    content: config.content,
    active: enabled ? 1 : 0,
    enabled: enabled ? 1 : 0,
    shared: Number(config.shared ?? 0),
    total: usage.total,
    used: usage.used,
    avail: usage.total - usage.used,
    used_fraction: usage.total ? usage.used / usage.total : 0,
  };
}

export const storageRoutes: RouteTable = {
  'GET /nodes/{node}/disks': ({ lab, path }) => {
    checkNode(path.node, lab);
    return ['list', 'smart', 'zfs', 'lvm', 'lvmthin', 'directory'].map((name) => ({ name }));
  },
  'GET /nodes/{node}/disks/list': ({ lab, path, params }) => {
    checkNode(path.node, lab);
    const onlyUnused = str(params, 'type') === 'unused';
    return lab.disks
      .filter((d) => !onlyUnused || !d.used)
      .map((d) => {
        const row: Record<string, unknown> = {
          devpath: d.devpath,
          size: d.size,
          model: d.model,
          serial: d.serial,
          vendor: d.vendor,
          wwn: d.wwn,
          type: d.type,
          rpm: d.rpm,
          health: 'PASSED',
          gpt: d.used ? 1 : 0,
          mounted: 0,
          osdid: -1,
          'osdid-list': null,
          wearout: d.type === 'hdd' ? 'N/A' : 98,
          // pve-storage src/PVE/Diskmanage.pm: the first /dev/disk/by-id/{ata,scsi,nvme}- link, whole path.
          by_id_link: `/dev/disk/by-id/${d.by_id_link}`,
        };
        if (d.used) row.used = d.used;
        return row;
      });
  },
  'GET /nodes/{node}/disks/zfs': ({ lab, path }) => {
    checkNode(path.node, lab);
    return [...lab.zpools.values()].map((p) => ({ name: p.name, size: p.size, alloc: p.alloc, free: p.size - p.alloc, frag: 0, dedup: 1, health: 'ONLINE' }));
  },
  'POST /nodes/{node}/disks/zfs': ({ lab, path, params, user }) => {
    checkNode(path.node, lab);
    const name = str(params, 'name') ?? '';
    if (lab.zpools.has(name)) fail(`pool '${name}' already exists on node '${lab.node}'`);
    const raidlevel = str(params, 'raidlevel') ?? 'single';
    const devices = (str(params, 'devices') ?? '').split(/[,;\s]+/).filter(Boolean);
    const disks = devices.map((device) => diskFor(lab, device) ?? fail(`unable to get device info for '${device}'`));
    for (const disk of disks) if (disk.used) fail(`${disk.devpath} is already in use`);
    const minimum: Record<string, number> = { single: 1, mirror: 2, raid10: 4, raidz: 3, raidz2: 4, raidz3: 5 };
    if (disks.length < (minimum[raidlevel] ?? 1)) fail(`${raidlevel} needs at least ${minimum[raidlevel]} disks`);
    if (raidlevel === 'single' && disks.length > 1) fail('single needs exactly 1 disk');
    if (addStorageConflicts(lab, params, name)) fail(`storage ID '${name}' already defined`);
    for (const disk of disks) disk.used = 'ZFS';
    const smallest = Math.min(...disks.map((d) => d.size));
    return lab.tasks.start('zfscreate', name, user, {
      lines: [`# zpool create -o ashift=${str(params, 'ashift') ?? '12'} ${name} ${raidlevel === 'single' ? '' : `${raidlevel} `}${devices.join(' ')}`],
      run: () => {
        lab.zpools.set(name, {
          name,
          raidlevel,
          devices: disks.map((d) => `/dev/disk/by-id/${d.by_id_link}`),
          ashift: Number(str(params, 'ashift') ?? 12),
          compression: str(params, 'compression') ?? 'on',
          size: raidlevel === 'mirror' ? smallest : smallest * disks.length,
          alloc: 1_146_880,
        });
        // zpool create mounts the pool's root dataset at /<name> on the node.
        lab.nodeFiles.mkdir(`/${name}`);
        if (bool(params, 'add_storage')) lab.storages.set(name, { storage: name, type: 'zfspool', pool: name, content: 'images,rootdir', nodes: lab.node });
      },
    });
  },
  'GET /nodes/{node}/disks/zfs/{name}': ({ lab, path }) => {
    checkNode(path.node, lab);
    const pool = lab.zpools.get(path.name ?? '') ?? fail(`zpool '${path.name}' not found`);
    return zpoolDetail(pool);
  },

  'GET /storage': ({ lab, params }) => {
    const type = str(params, 'type');
    return [...lab.storages.values()].filter((s) => !type || s.type === type).map((s) => ({ ...storageRow(s), digest: lab.storageDigest() }));
  },
  'POST /storage': ({ lab, params }) => {
    const id = str(params, 'storage') ?? '';
    if (lab.storages.has(id)) fail(`storage ID '${id}' already defined`);
    const type = str(params, 'type') ?? '';
    if (type === 'dir' && !str(params, 'path')) fail(`missing value for required option 'path'`);
    if (type === 'zfspool' && !str(params, 'pool')) fail(`missing value for required option 'pool'`);
    if (type === 'zfspool' && !lab.zpools.has((str(params, 'pool') ?? '').split('/')[0] ?? '')) fail(`zfs error: cannot open '${str(params, 'pool')}': no such pool`);
    const config: StorageConfig = { storage: id, type, content: type === 'dir' ? 'iso,vztmpl,backup' : 'images,rootdir' };
    applyStorageParams(config, params);
    lab.storages.set(id, config);
    return { storage: id, type };
  },
  'GET /storage/{storage}': ({ lab, path }) => ({ ...storageRow(lab.storage(path.storage ?? '')), digest: lab.storageDigest() }),
  'PUT /storage/{storage}': ({ lab, path, params }) => {
    const config = lab.storage(path.storage ?? '');
    const digest = str(params, 'digest');
    if (digest !== undefined && digest !== lab.storageDigest()) fail('detected modified configuration - file changed by other user? Try again.');
    for (const key of (str(params, 'delete') ?? '').split(/[,;\s]+/).filter(Boolean)) delete config[key];
    applyStorageParams(config, params);
    return { storage: config.storage, type: config.type };
  },
  'DELETE /storage/{storage}': ({ lab, path }) => {
    lab.storage(path.storage ?? '');
    lab.storages.delete(path.storage ?? '');
    return null;
  },
  'GET /nodes/{node}/storage': ({ lab, path, params }) => {
    checkNode(path.node, lab);
    const content = str(params, 'content');
    const only = str(params, 'storage');
    const enabledOnly = bool(params, 'enabled');
    return [...lab.storages.keys()]
      .filter((id) => !only || id === only)
      .map((id) => statusRow(lab, id))
      .filter((row) => !content || String(row.content).split(',').includes(content))
      .filter((row) => !enabledOnly || row.enabled === 1);
  },
  'GET /nodes/{node}/storage/{storage}': ({ lab, path }) => {
    checkNode(path.node, lab);
    lab.storage(path.storage ?? '');
    return ['content', 'status', 'rrd', 'rrddata', 'prunebackups', 'upload'].map((subdir) => ({ subdir }));
  },
  'GET /nodes/{node}/storage/{storage}/status': ({ lab, path }) => {
    checkNode(path.node, lab);
    const { storage: _omit, used_fraction: _fraction, ...row } = statusRow(lab, path.storage ?? '');
    return row;
  },
  'GET /nodes/{node}/storage/{storage}/content': ({ lab, path, params }) => {
    checkNode(path.node, lab);
    const id = path.storage ?? '';
    const storage = lab.storage(id);
    const content = str(params, 'content');
    const vmid = str(params, 'vmid');
    const rows: Array<Record<string, unknown>> = lab.volumes
      .filter((v) => v.volid.startsWith(`${id}:`))
      .map((v) => {
        const row: Record<string, unknown> = { volid: v.volid, content: v.content, format: v.format, size: v.size, ctime: v.ctime };
        if (v.vmid !== undefined) row.vmid = v.vmid;
        if (v.notes) row.notes = v.notes;
        return row;
      });
    rows.push(...fileVolumes(lab, id, storage));
    return rows.filter((row) => !content || row.content === content).filter((row) => !vmid || String(row.vmid) === vmid);
  },

  'GET /cluster/mapping': () => ['dir', 'pci', 'usb'].map((name) => ({ name })),
  'GET /cluster/mapping/dir': ({ lab }) => [...lab.dirMappings.values()].map((m) => ({ ...m, digest: lab.firewallDigest(m) })),
  'POST /cluster/mapping/dir': ({ lab, params }) => {
    const id = str(params, 'id') ?? '';
    const map = params.map;
    const entry: { id: string; description?: string; map: string[] } = { id, map: Array.isArray(map) ? map : map === undefined ? [] : [map] };
    assertValidMapList(lab, entry.map);
    if (lab.dirMappings.has(id)) fail(`create directory mapping failed: dir ID '${id}' already defined`);
    const description = str(params, 'description');
    if (description !== undefined) entry.description = description;
    lab.dirMappings.set(id, entry);
    return null;
  },
  'GET /cluster/mapping/dir/{id}': ({ lab, path }) => {
    const mapping = lab.dirMappings.get(path.id ?? '') ?? fail(`dir mapping '${path.id}' not found`);
    return { ...mapping, digest: lab.firewallDigest(mapping) };
  },
  'DELETE /cluster/mapping/dir/{id}': ({ lab, path }) => {
    if (!lab.dirMappings.delete(path.id ?? '')) fail(`dir mapping '${path.id}' not found`);
    return null;
  },
};

/**
 * pve-guest-common PVE/Mapping/Dir.pm assert_valid_map_list: this node's entry must name an existing directory on it;
 * a node may appear once.
 */
function assertValidMapList(lab: SimLab, map: string[]): void {
  const count = new Map<string, number>();
  for (const item of map) {
    const entry = parsePropertyString(item);
    if (entry.node === lab.node) {
      const kind = lab.nodeFiles.kind(entry.path ?? '');
      if (kind === undefined) fail(`Path ${entry.path} does not exist`);
      if (kind !== 'dir') fail(`Path ${entry.path} exists, but is not a directory`);
    }
    count.set(entry.node ?? '', (count.get(entry.node ?? '') ?? 0) + 1);
  }
  for (const [node, times] of count) if (times > 1) fail(`Node '${node}' is specified ${times} times.`);
}

/** Plugin.pm list_volumes for file storages: the files in the import/, snippets/ and template/iso/ directories. */
function fileVolumes(lab: SimLab, id: string, storage: StorageConfig): Array<Record<string, unknown>> {
  const rows: Array<Record<string, unknown>> = [];
  const kinds: Array<['import' | 'snippets' | 'iso', (name: string) => string | undefined]> = [
    ['import', (name) => /\.(ova|ovf|qcow2|raw|vmdk)$/.exec(name)?.[1]],
    ['snippets', () => 'snippet'],
    ['iso', (name) => (/\.(iso|img)$/i.test(name) ? 'iso' : undefined)],
  ];
  for (const [content, format] of kinds) {
    const dir = contentDir(storage, content);
    if (!dir || !String(storage.content).split(',').includes(content)) continue;
    for (const name of lab.nodeFiles.list(dir)) {
      const kind = format(name);
      if (kind) rows.push({ volid: `${id}:${content}/${name}`, content, format: kind, size: lab.nodeFiles.read(`${dir}/${name}`)!.length, ctime: Math.floor(Date.now() / 1000) });
    }
  }
  return rows;
}

function addStorageConflicts(lab: SimLab, params: Params, name: string): boolean {
  return bool(params, 'add_storage') && lab.storages.has(name);
}

/**
 * GET disks/zfs/{name} as pve-storage src/PVE/API2/Disks/ZFS.pm builds it from `zpool status -P`: the pool's root
 * entry (named after the pool) holds the data vdevs; `logs`, `cache` and `spares` are entries BESIDE it (zpool prints
 * them at the root's indentation), with no state of their own; a spare that is not in use is `AVAIL` without error
 * counters. `-P` prints full device paths, and a whole disk ZFS partitioned itself shows as its `-part1`.
 */
function zpoolDetail(pool: SimZpool): Record<string, unknown> {
  const path = (device: string): string => (/-part\d+$/.test(device) ? device : `${device}-part1`);
  const leaf = (device: string, state = 'ONLINE'): Record<string, unknown> =>
    state === 'AVAIL' ? { name: path(device), state, msg: '', leaf: 1 } : { name: path(device), state, read: 0, write: 0, cksum: 0, msg: '', leaf: 1 };
  const counters = { state: 'ONLINE', read: 0, write: 0, cksum: 0, msg: '', leaf: 0 };
  const leaves = pool.devices.map((device) => leaf(device));
  const groups = pool.raidlevel === 'raid10' ? Math.floor(leaves.length / 2) : 1;
  const kind = pool.raidlevel === 'raid10' ? 'mirror' : pool.raidlevel === 'raidz' ? 'raidz1' : pool.raidlevel;
  const data =
    pool.raidlevel === 'single'
      ? leaves
      : Array.from({ length: groups }, (_, i) => ({ name: `${kind}-${i}`, ...counters, children: leaves.slice((leaves.length / groups) * i, (leaves.length / groups) * (i + 1)) }));
  const sections = (
    [
      ['logs', pool.logs],
      ['cache', pool.cache],
      ['spares', pool.spares],
    ] as const
  ).flatMap(([name, devices]) => (devices?.length ? [{ name, msg: '', leaf: 0, children: devices.map((device) => leaf(device, name === 'spares' ? 'AVAIL' : 'ONLINE')) }] : []));
  return {
    name: pool.name,
    state: 'ONLINE',
    scan: 'none requested',
    errors: 'No known data errors',
    leaf: 0,
    children: [{ name: pool.name, ...counters, children: data }, ...sections],
  };
}
