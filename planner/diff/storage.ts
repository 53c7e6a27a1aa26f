// ZFS pool, datasets and snapshot policies (host steps), and Proxmox storage definitions.
// A pool is only ever created on disks the scan saw unused; an existing pool is never recreated.
import type { ZfsPoolSpec } from '../spec/schema.ts';
import type { LiveDisk } from '../state.ts';
import { canonicalJson } from '../hash.ts';
import { change, draft, type DiffContext, type DraftAction } from './types.ts';

const byIdName = (device: string) => device.replace(/^\/dev\/disk\/by-id\//, '');

/** The scanned disk a spec device names: /dev/sdX, a by-id link, or a by-id name ending in the disk's serial. */
export function findDisk(disks: LiveDisk[], device: string): LiveDisk | undefined {
  const name = byIdName(device);
  return disks.find((d) => d.devpath === device || d.byId.includes(name) || (d.serial !== undefined && name.endsWith(`_${d.serial}`)));
}

function poolAction(ctx: DiffContext, pool: ZfsPoolSpec): DraftAction[] {
  const { state } = ctx;
  if (!state.zfsPools.known) {
    ctx.unknowns.push({ what: `ZFS pool ${pool.name}`, reason: state.zfsPools.reason });
    return [];
  }
  const current = state.zfsPools.value.find((p) => p.name === pool.name);
  if (current) {
    if (current.raidlevel && current.raidlevel !== pool.raidlevel) {
      ctx.warnings.push({ code: 'zfs-pool-drift', message: `pool ${pool.name} is ${current.raidlevel}, the spec says ${pool.raidlevel}; an existing pool is never recreated` });
    }
    return [];
  }
  if (!state.disks.known) {
    ctx.violations.push({ ruleId: 'zfs.devices-unverified', message: `cannot create pool ${pool.name}: the node's disks could not be read (${state.disks.reason})`, location: `storage.zfs.pools[${pool.name}]` });
    return [];
  }
  for (const device of pool.devices) {
    const disk = findDisk(state.disks.value, device);
    if (!disk) {
      ctx.violations.push({ ruleId: 'zfs.device-missing', message: `pool ${pool.name}: device ${device} is not on the node`, location: `storage.zfs.pools[${pool.name}].devices` });
    } else if (disk.used && disk.used !== 'unused') {
      ctx.violations.push({ ruleId: 'zfs.device-in-use', message: `pool ${pool.name}: device ${device} (${disk.devpath}) is in use (${disk.used}); creating a pool would erase it`, location: `storage.zfs.pools[${pool.name}].devices` });
    }
  }
  const params = { name: pool.name, raidlevel: pool.raidlevel, devices: pool.devices.join(','), ashift: pool.ashift, compression: pool.compression, add_storage: 0 };
  return [
    draft({
      id: `zfs.pool.create:${pool.name}`,
      type: 'zfs.pool.create',
      kind: 'create',
      channel: 'pve',
      target: `zfs/${pool.name} (${pool.raidlevel} on ${pool.devices.length} disks)`,
      targetKey: 'zfs/pools',
      changes: [change('pool', null, `${pool.name} ${pool.raidlevel}`), ...pool.devices.map((d) => change('devices', null, d))],
      params: { channel: 'pve', requests: [{ method: 'POST', path: `/nodes/${ctx.desired.node}/disks/zfs`, params, async: true }] },
      provides: [`zfs-pool:${pool.name}`],
      note: `ERASES ALL DATA ON ${pool.devices.join(', ')}`,
    }),
  ];
}

export function diffStorage(ctx: DiffContext): DraftAction[] {
  const { desired, state } = ctx;
  const out: DraftAction[] = [];
  const newPools = new Set<string>();
  for (const pool of desired.zfs.pools) {
    const actions = poolAction(ctx, pool);
    if (actions.length) newPools.add(pool.name);
    out.push(...actions);
  }
  const poolOf = (dataset: string) => dataset.split('/')[0]!;
  const datasetsKnown = (dataset: string) => newPools.has(poolOf(dataset)) || state.zfsDatasets.known;
  let datasetsUnknownReported = false;
  const reportUnknown = (what: string) => {
    if (!datasetsUnknownReported && !state.zfsDatasets.known) ctx.unknowns.push({ what, reason: state.zfsDatasets.reason });
    datasetsUnknownReported = true;
  };
  for (const dataset of desired.zfs.datasets) {
    if (!datasetsKnown(dataset.name)) {
      reportUnknown('ZFS datasets');
      continue;
    }
    const current = newPools.has(poolOf(dataset.name)) ? undefined : state.zfsDatasets.known ? state.zfsDatasets.value.find((d) => d.name === dataset.name) : undefined;
    // `optional: true`: Jarvis manages the dataset's properties once it exists but does not create it.
    if (!current && dataset.optional) continue;
    const differing = Object.entries(dataset.properties).filter(([k, v]) => current && current.properties[k] !== v);
    if (current && differing.length === 0) continue;
    out.push(
      draft({
        id: `zfs.dataset.create:${dataset.name}`,
        type: 'zfs.dataset.create',
        kind: current ? 'update' : 'create',
        channel: 'host',
        target: `zfs/${dataset.name}`,
        targetKey: 'zfs/datasets',
        changes: current ? differing.map(([k, v]) => change(k, current.properties[k], v)) : [change('dataset', null, dataset.name), ...Object.entries(dataset.properties).map(([k, v]) => change(k, null, v))],
        params: { channel: 'host', step: 'zfs.dataset', args: { name: dataset.name, properties: dataset.properties } },
        facts: { undo: dataset.name },
        provides: [`dataset:${dataset.name}`],
        requires: [`zfs-pool:${poolOf(dataset.name)}`],
      }),
    );
  }
  for (const policy of desired.zfs.snapshots) {
    if (!newPools.has(poolOf(policy.dataset)) && !state.snapshotPolicies.known) {
      ctx.unknowns.push({ what: `snapshot policy of ${policy.dataset}`, reason: state.snapshotPolicies.reason });
      continue;
    }
    const current = state.snapshotPolicies.known ? state.snapshotPolicies.value.find((p) => p.dataset === policy.dataset) : undefined;
    if (current && current.frequency === policy.frequency && canonicalJson(current.retention) === canonicalJson(policy.retention)) continue;
    out.push(
      draft({
        id: `zfs.snapshot.policy:${policy.dataset}`,
        type: 'zfs.snapshot.policy',
        kind: current ? 'update' : 'create',
        channel: 'host',
        target: `zfs/${policy.dataset} snapshots`,
        targetKey: 'zfs/snapshot-policies',
        changes: [change('frequency', current?.frequency, policy.frequency), change('retention', current?.retention, policy.retention)],
        params: { channel: 'host', step: 'zfs.snapshot.policy', args: { dataset: policy.dataset, frequency: policy.frequency, retention: policy.retention } },
        facts: { undo: policy.dataset },
        // sanoid comes from apt on the node: its package sources must work first.
        requires: [`dataset:${policy.dataset}`, 'apt-sources'],
      }),
    );
  }
  for (const storage of desired.storages) {
    if (!state.storages.known) {
      ctx.unknowns.push({ what: `storage ${storage.storage}`, reason: state.storages.reason });
      continue;
    }
    const params: Record<string, string | number> = { storage: storage.storage, type: storage.type, content: [...storage.content].sort().join(',') };
    if (storage.path) params.path = storage.path;
    if (storage.pool) params.pool = storage.pool;
    if (storage.server) params.server = storage.server;
    if (storage.datastore) params.datastore = storage.datastore;
    if (storage['prune-backups']) params['prune-backups'] = Object.entries(storage['prune-backups']).map(([k, v]) => `${k}=${v}`).sort().join(',');
    if (storage.disable) params.disable = 1;
    const dataset = desired.zfs.datasets.find((d) => storage.path === `/${d.name}`);
    const requires = dataset ? [`dataset:${dataset.name}`] : storage.pool ? [`dataset:${storage.pool}`, `zfs-pool:${storage.pool}`] : [];
    const current = state.storages.value.find((s) => s.storage === storage.storage);
    if (!current) {
      // A dir storage on a dataset is marked as a mount point, so it goes offline rather than filling the root disk.
      if (dataset && storage.type === 'dir') params.is_mountpoint = 'yes';
      out.push(
        draft({
          id: `storage.add:${storage.storage}`,
          type: 'storage.add',
          kind: 'create',
          channel: 'pve',
          target: `storage/${storage.storage}`,
          targetKey: 'storage',
          changes: Object.entries(params).filter(([k]) => k !== 'storage').map(([k, v]) => change(k, null, v)),
          params: { channel: 'pve', requests: [{ method: 'POST', path: '/storage', params, async: false }] },
          facts: { undo: storage.storage },
          provides: [`storage:${storage.storage}`],
          requires,
        }),
      );
      continue;
    }
    const want: Record<string, string> = { content: String(params.content), path: storage.path ?? '', pool: storage.pool ?? '', disable: storage.disable ? '1' : '0' };
    const have: Record<string, string> = { content: [...current.content].sort().join(','), path: current.path ?? '', pool: current.pool ?? '', disable: current.disable ? '1' : '0' };
    const differing = Object.keys(want).filter((k) => want[k] !== have[k]);
    if (current.type !== storage.type) {
      ctx.violations.push({ ruleId: 'storage.type-change', message: `storage ${storage.storage} is ${current.type}, the spec says ${storage.type}; refusing to redefine it`, location: `storage.pve[${storage.storage}]` });
      continue;
    }
    if (differing.length === 0) continue;
    const update: Record<string, string | number> = {};
    for (const k of differing) if (k !== 'path' && k !== 'pool') update[k] = k === 'disable' ? Number(want[k]) : want[k]!;
    if (Object.keys(update).length === 0) {
      ctx.violations.push({ ruleId: 'storage.path-change', message: `storage ${storage.storage}: path/pool cannot be changed in place`, location: `storage.pve[${storage.storage}]` });
      continue;
    }
    out.push(
      draft({
        id: `storage.update:${storage.storage}`,
        type: 'storage.update',
        kind: 'update',
        channel: 'pve',
        target: `storage/${storage.storage}`,
        targetKey: 'storage',
        changes: differing.map((k) => change(k, have[k], want[k])),
        params: { channel: 'pve', requests: [{ method: 'PUT', path: `/storage/${storage.storage}`, params: update, async: false }] },
        facts: { undo: differing.map((k) => `${k}=${have[k]}`).join(', ') },
        provides: [`storage:${storage.storage}`],
        requires,
      }),
    );
  }
  return out;
}
