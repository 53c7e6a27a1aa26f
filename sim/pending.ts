// qemu-server's pending changes: on a running VM, a change that cannot be hot-plugged is written to the config's
// [PENDING] section and applied at the next start. GET config shows pending values unless `current=1`.
import { createHash } from 'node:crypto';
import type { SimVm } from './lab.ts';
import { renderConfigFile, type VmConfig } from './vm-config.ts';

/** Options PVE changes in place even on a running VM (qemu-server's $fast_plug_option, plus live limits). */
const FAST_PLUG = new Set(['name', 'description', 'tags', 'onboot', 'startup', 'protection', 'vmstatestorage', 'hookscript', 'lock', 'shares', 'cpulimit', 'cpuunits', 'balloon']);

export function isHotpluggable(key: string, config: VmConfig): boolean {
  if (FAST_PLUG.has(key) || /^unused\d+$/.test(key)) return true;
  const hotplug = new Set((config.hotplug ?? 'network,disk,usb').split(','));
  if (hotplug.has('1')) ['network', 'disk', 'usb'].forEach((feature) => hotplug.add(feature));
  if (/^net\d+$/.test(key)) return hotplug.has('network');
  if (/^(scsi|virtio)\d+$/.test(key)) return hotplug.has('disk');
  if (/^usb\d+$/.test(key)) return hotplug.has('usb');
  if (key === 'memory') return hotplug.has('memory');
  if (key === 'vcpus') return hotplug.has('cpu');
  return false;
}

export function effectiveConfig(vm: SimVm): VmConfig {
  const merged: VmConfig = { ...vm.config, ...vm.pending };
  for (const key of vm.pendingDelete) delete merged[key];
  return merged;
}

export function hasPending(vm: SimVm): boolean {
  return Object.keys(vm.pending).length > 0 || vm.pendingDelete.size > 0;
}

/** Applies the [PENDING] section (at VM start). */
export function applyPending(vm: SimVm): void {
  Object.assign(vm.config, vm.pending);
  for (const key of vm.pendingDelete) delete vm.config[key];
  vm.pending = {};
  vm.pendingDelete.clear();
}

/** SHA-1 over the whole config file, [PENDING] section included, as PVE computes `digest`. */
export function vmDigest(vm: SimVm): string {
  let text = renderConfigFile(vm.config);
  if (hasPending(vm)) {
    const pending: VmConfig = { ...vm.pending };
    if (vm.pendingDelete.size) pending.delete = [...vm.pendingDelete].sort().join(',');
    text += `\n[PENDING]\n${renderConfigFile(pending)}`;
  }
  return createHash('sha1').update(text).digest('hex');
}

/** GET /pending rows: `value` (current), `pending` (new), `delete: 1` for pending removals. */
export function pendingRows(vm: SimVm): Array<Record<string, string | number>> {
  const keys = new Set([...Object.keys(vm.config), ...Object.keys(vm.pending), ...vm.pendingDelete]);
  return [...keys].sort().map((key) => {
    const row: Record<string, string | number> = { key };
    if (vm.config[key] !== undefined) row.value = vm.config[key]!;
    if (vm.pending[key] !== undefined) row.pending = vm.pending[key]!;
    if (vm.pendingDelete.has(key)) row.delete = 1;
    return row;
  });
}
