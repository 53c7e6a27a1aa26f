// Snapshots: list (with the "current" entry), take, delete and roll back, under the VM's snapshot locks. As in
// pve-guest-common src/PVE/AbstractConfig.pm, a snapshot is listed from the moment its creation starts, marked
// `snapstate: prepare` until it commits, and `snapstate: delete` from the moment its deletion starts; a failed create
// removes it again, a failed delete leaves it marked (and the VM locked), and rollback refuses a marked one.
import { parsePropertyString } from '../../lib/pve-formats.ts';
import { bool, fail, str } from '../http.ts';
import type { SimLab, SimVm } from '../lab.ts';
import { vmDigest } from '../pending.ts';
import { DISK_KEY, type VmConfig } from '../vm-config.ts';
import { powerOff, powerOn } from '../boot.ts';
import { lockedTask, nowSeconds, typedConfig, vmCtx } from './qemu.ts';
import type { RouteContext, RouteTable } from './types.ts';

const SNAPSHOT_CAPABLE = new Set(['lvmthin', 'zfspool', 'rbd', 'btrfs']);

/** PVE's has_feature('snapshot'): every disk must sit on a storage/format that can snapshot. */
function canSnapshot(lab: SimLab, vm: SimVm): boolean {
  for (const [key, value] of Object.entries(vm.config)) {
    if (!DISK_KEY.test(key) || /media=cdrom/.test(value)) continue;
    const file = parsePropertyString(value, 'file').file ?? '';
    const storage = lab.storages.get(file.split(':')[0] ?? '');
    if (!storage) continue;
    if (SNAPSHOT_CAPABLE.has(storage.type)) continue;
    if (['dir', 'nfs', 'cifs'].includes(storage.type) && file.endsWith('.qcow2')) continue;
    return false;
  }
  return true;
}

export const snapshotRoutes: RouteTable = {
  'GET /nodes/{node}/qemu/{vmid}/snapshot': (ctx) => {
    const vm = vmCtx(ctx);
    // qemu-server PVE/API2/Qemu.pm snapshot_list
    const rows: Array<Record<string, unknown>> = vm.snapshots.map((s) => {
      const row: Record<string, unknown> = { name: s.name, description: s.description, snaptime: s.snaptime, vmstate: s.vmstate };
      if (s.parent) row.parent = s.parent;
      if (s.snapstate) row.snapstate = s.snapstate;
      return row;
    });
    const current: Record<string, unknown> = { name: 'current', description: 'You are here!', running: vm.status === 'running' ? 1 : 0, digest: vmDigest(vm) };
    if (vm.config.parent) current.parent = vm.config.parent;
    return [...rows, current];
  },
  'POST /nodes/{node}/qemu/{vmid}/snapshot': (ctx) => {
    const vm = vmCtx(ctx);
    const name = str(ctx.params, 'snapname') ?? '';
    if (name === 'current') fail(`invalid snapshot name 'current'`);
    if (vm.snapshots.some((s) => s.name === name)) fail(`snapshot name '${name}' already used`);
    ctx.lab.assertUnlocked(vm);
    vm.config.lock = 'snapshot';
    // __snapshot_prepare: checks the snapshot feature, then writes the entry (config copy, snaptime) marked `prepare`.
    const entry: SimVm['snapshots'][number] | undefined = canSnapshot(ctx.lab, vm) ? prepared(vm, name, ctx.params) : undefined;
    if (entry) vm.snapshots.push(entry);
    return ctx.lab.tasks.start('qmsnapshot', String(vm.vmid), ctx.user, {
      lines: [`snapshotting '${name}'`],
      run: () => {
        if (!entry) return fail('snapshot feature is not available');
        // __snapshot_commit
        delete entry.snapstate;
        vm.config.parent = name;
      },
      finally: () => {
        // snapshot_create's cleanup after a failure deletes the half-made snapshot again.
        if (entry?.snapstate === 'prepare') vm.snapshots.splice(vm.snapshots.indexOf(entry), 1);
        if (vm.config.lock === 'snapshot') delete vm.config.lock;
      },
    });
  },
  'GET /nodes/{node}/qemu/{vmid}/snapshot/{snapname}': (ctx) => {
    const vm = vmCtx(ctx);
    if (!vm.snapshots.some((s) => s.name === ctx.path.snapname)) fail(`snapshot '${ctx.path.snapname}' does not exist`);
    return [{ rel: 'config' }, { rel: 'rollback' }];
  },
  'GET /nodes/{node}/qemu/{vmid}/snapshot/{snapname}/config': (ctx) => {
    const vm = vmCtx(ctx);
    const snapshot = vm.snapshots.find((s) => s.name === ctx.path.snapname) ?? fail(`snapshot '${ctx.path.snapname}' does not exist`);
    return { ...typedConfig(snapshot.config), description: snapshot.description, snaptime: snapshot.snaptime };
  },
  'DELETE /nodes/{node}/qemu/{vmid}/snapshot/{snapname}': (ctx) => {
    const vm = vmCtx(ctx);
    const name = ctx.path.snapname ?? '';
    const snapshot = vm.snapshots.find((s) => s.name === name) ?? fail(`snapshot '${name}' does not exist`);
    ctx.lab.assertUnlocked(vm);
    vm.config.lock = 'snapshot-delete';
    snapshot.snapstate = 'delete';
    let deleted = false;
    return ctx.lab.tasks.start('qmdelsnapshot', String(vm.vmid), ctx.user, {
      lines: [],
      run: () => {
        vm.snapshots.splice(vm.snapshots.indexOf(snapshot), 1);
        for (const other of vm.snapshots) if (other.parent === name) snapshot.parent ? (other.parent = snapshot.parent) : delete other.parent;
        if (vm.config.parent === name) snapshot.parent ? (vm.config.parent = snapshot.parent) : delete vm.config.parent;
        deleted = true;
      },
      finally: () => {
        // snapshot_delete unlocks only when it got through: a failed one leaves the lock and the `delete` mark.
        if (deleted && vm.config.lock === 'snapshot-delete') delete vm.config.lock;
      },
    });
  },
  'POST /nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback': (ctx) => {
    const vm = vmCtx(ctx);
    const name = ctx.path.snapname ?? '';
    const snapshot = vm.snapshots.find((s) => s.name === name) ?? fail(`snapshot '${name}' does not exist`);
    return lockedTask(ctx, vm, 'rollback', 'qmrollback', [], () => {
      if (snapshot.snapstate) fail(`unable to rollback to incomplete snapshot (snapstate = ${snapshot.snapstate})`);
      const restored: VmConfig = { ...snapshot.config, parent: name };
      for (const key of Object.keys(vm.config)) delete vm.config[key];
      Object.assign(vm.config, restored, { lock: 'rollback' });
      vm.pending = {};
      vm.pendingDelete.clear();
      // The disks are back as they were: whatever ran is gone; a started VM boots again from them.
      powerOff(ctx.lab, vm);
      vm.status = 'stopped';
      delete vm.startedAt;
      if (snapshot.vmstate || bool(ctx.params, 'start')) powerOn(ctx.lab, vm);
    });
  },
};

/** The entry __snapshot_prepare writes: a copy of the config, the time, marked `prepare` until the commit. */
function prepared(vm: SimVm, name: string, params: RouteContext['params']): SimVm['snapshots'][number] {
  const config = { ...vm.config };
  delete config.lock;
  delete config.parent;
  if (vm.config.parent) config.parent = vm.config.parent;
  const vmstate = bool(params, 'vmstate') && vm.status === 'running' ? 1 : 0;
  const entry: SimVm['snapshots'][number] = { name, description: str(params, 'description') ?? '', snaptime: nowSeconds(), vmstate, config, snapstate: 'prepare' };
  if (vm.config.parent) entry.parent = vm.config.parent;
  return entry;
}
