// How qemu-server writes create/update parameters into a VM config (PVE/API2/Qemu.pm create_disks and friends): new
// disks allocated, `import-from` copied from an import volume or another disk (the new disk holds what the source
// holds, at the source's virtual size), cloud-init drives, NICs with a MAC, tags joined, replaced disks kept unused.
import { parsePropertyString } from '../lib/pve-formats.ts';
import { fail, PveHttpError, type Params } from './http.ts';
import { imageOf, isQcow2, type DiskImage } from './internet.ts';
import type { SimLab, SimVm } from './lab.ts';
import { DISK_KEY, NET_KEY, allocateDisk, normalizeNet, normalizeTags, printSorted, type VmConfig } from './vm-config.ts';
import { parseVolume } from './volumes.ts';

/** Parameters that steer the call and are not written to the config. */
export const CONTROL_PARAMS = new Set([
  'node', 'vmid', 'start', 'pool', 'storage', 'unique', 'force', 'archive', 'live-restore', 'bwlimit', 'delete', 'revert',
  'digest', 'skiplock', 'background_delay', 'import-working-storage', 'ha-managed', 'skip_cloud_init',
]);

const GiB = 1024 ** 3;
const NEW_DISK = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(\d+(?:\.\d+)?)$/i;

function usedVolumeNames(lab: SimLab): Set<string> {
  return new Set(lab.volumes.map((v) => v.volid.replace(/^([^:]+):(?:\d+\/)?(vm-\d+-disk-\d+).*$/, '$1:$2')));
}

function storageTable(lab: SimLab): Map<string, { type: string; content: string[]; path?: string }> {
  return new Map([...lab.storages].map(([id, s]) => [id, { type: s.type, content: String(s.content).split(','), ...(typeof s.path === 'string' ? { path: s.path } : {}) }]));
}

/**
 * Qemu.pm $check_drive_param and $check_storage_access: what is refused before anything is created (parameter
 * errors are HTTP 400, an unknown storage HTTP 500).
 */
export function checkDriveParams(lab: SimLab, params: Params): void {
  const paramError = (key: string, message: string): never => {
    throw new PveHttpError(400, 'Parameter verification failed.', { [key]: message });
  };
  for (const [key, raw] of Object.entries(params)) {
    if (!DISK_KEY.test(key) || Array.isArray(raw)) continue;
    const drive = parsePropertyString(raw, 'file');
    const newDisk = NEW_DISK.exec(drive.file ?? '');
    if (newDisk && !/media=cdrom/.test(raw)) {
      const storage = lab.storage(newDisk[1]!);
      if (!String(storage.content).split(',').includes('images')) paramError('storage', `storage '${newDisk[1]}' does not support vm images`);
    }
    const from = drive['import-from'];
    if (from === undefined) continue;
    if (!newDisk || Number(newDisk[2]) !== 0) paramError(key, "'import-from' requires special syntax - use <storage ID>:0,import-from=<source>");
    if (from.startsWith('/')) continue;
    const source = parseVolume(lab, from);
    if (source.vtype !== 'images' && source.vtype !== 'import') paramError(key, `${from} has wrong type '${source.vtype}' - needs to be 'images' or 'import'`);
  }
}

/** What an import-from source holds and how big the copy is (Qemu.pm create_disks, $import_from_volid). */
function importSource(lab: SimLab, source: string): { sizeGiB: number; image?: DiskImage } {
  if (source.startsWith('/')) {
    // An absolute path (root@pam only, checked with the privileges): qemu-img auto-detects the format.
    const data = lab.nodeFiles.read(source);
    if (!data) return fail(`could not get file size of ${source}`);
    const image = imageOf(data);
    return { sizeGiB: image?.virtualSizeGiB ?? Math.max(1, Math.ceil(data.length / GiB)), ...(image ? { image } : {}) };
  }
  const volume = parseVolume(lab, source);
  if (volume.vtype === 'import') {
    // The file is untrusted: qemu-img must recognise it as the format its name says (Plugin.pm file_size_info).
    const data = volume.path ? lab.nodeFiles.read(volume.path) : undefined;
    if (!data || (volume.format === 'qcow2' && !isQcow2(data))) return fail('failed to query file information with qemu-img');
    const image = imageOf(data);
    return { sizeGiB: image?.virtualSizeGiB ?? Math.max(1, Math.ceil(data.length / GiB)), ...(image ? { image } : {}) };
  }
  const disk = lab.volumes.find((v) => v.volid === source);
  if (!disk) return fail(`cannot import from '${source}' - could not get size of ${source}`);
  if (source.includes(`vm-${volume.vmid}-cloudinit`)) fail(`cannot import from '${source}' - cannot import from cloudinit disk`);
  return { sizeGiB: disk.size / GiB, ...(disk.image ? { image: disk.image } : {}) };
}

/** Writes config keys the way qemu-server's create/update does. Returns the task log lines it printed. */
export function applyConfigParams(lab: SimLab, vmid: number, config: VmConfig, params: Params): string[] {
  const used = usedVolumeNames(lab);
  const log: string[] = [];
  for (const [key, raw] of Object.entries(params)) {
    if (CONTROL_PARAMS.has(key)) continue;
    const value = Array.isArray(raw) ? raw.join(',') : raw;
    if (DISK_KEY.test(key)) {
      const drive = parsePropertyString(value, 'file');
      const from = drive['import-from'];
      let request = value;
      let imported: { sizeGiB: number; image?: DiskImage } | undefined;
      if (from !== undefined) {
        imported = importSource(lab, from);
        const storage = NEW_DISK.exec(drive.file ?? '')![1];
        request = value.replace(/(^|,)import-from=[^,]*/, '').replace(/^[^,]*/, `${storage}:${imported.sizeGiB}`);
      }
      const allocated = allocateDisk(key, request, vmid, storageTable(lab), used);
      const { allocation } = allocated;
      const stored = allocation ? allocated.value : withExistingSize(lab, config, allocated.value);
      const previous = config[key];
      if (previous && parsePropertyString(previous, 'file').file !== parsePropertyString(stored, 'file').file) moveToUnused(config, previous);
      config[key] = stored;
      if (allocation) {
        lab.volumes.push({
          volid: `${allocation.storage}:${allocation.volname}`,
          vmid,
          size: allocation.sizeGiB * GiB,
          format: allocation.format,
          content: 'images',
          ctime: Math.floor(Date.now() / 1000),
          ...(imported?.image ? { image: imported.image } : {}),
        });
        if (imported) log.push(`transferred ${imported.sizeGiB.toFixed(1)} GiB of ${imported.sizeGiB.toFixed(1)} GiB (100.00%)`);
        log.push(`${key}: successfully created disk '${stored}'`);
      }
    } else if (NET_KEY.test(key)) {
      const previousMac = config[key] ? /=([0-9A-F:]{17})/i.exec(config[key]!)?.[1] : undefined;
      const withMac = previousMac && !/=([0-9A-F:]{17})/i.test(value) && !value.includes('macaddr=') ? `${value},macaddr=${previousMac}` : value;
      config[key] = normalizeNet(withMac, lab.random);
    } else if (/^virtiofs\d+$/.test(key)) {
      const dirid = value.split(',').find((part) => !part.includes('=') || part.startsWith('dirid='))?.replace(/^dirid=/, '');
      if (!dirid || !lab.dirMappings.has(dirid)) fail(`Directory mapping '${dirid}' does not exist`);
      config[key] = value;
    } else if (key === 'tags') {
      config[key] = normalizeTags(value);
    } else {
      config[key] = value;
    }
  }
  return log;
}

/**
 * An existing volume attached to a drive: its size goes into the drive string (Qemu.pm create_disks) and an unusedN
 * entry for it disappears (QemuServer.pm write_vm_config: "remove 'unusedX' settings if we re-add a volume").
 */
function withExistingSize(lab: SimLab, config: VmConfig, value: string): string {
  const drive = parsePropertyString(value, 'file');
  const volume = lab.volumes.find((v) => v.volid === drive.file);
  if (!volume) return value;
  for (const [key, current] of Object.entries(config)) if (/^unused\d+$/.test(key) && current === volume.volid) delete config[key];
  if (drive.size === undefined && drive.media !== 'cdrom') drive.size = formatSize(volume.size);
  return printSorted(drive, 'file');
}

/** PVE's disk-size printing: whole units, the largest that fits. */
function formatSize(bytes: number): string {
  for (const [unit, factor] of [['T', 1024 ** 4], ['G', GiB], ['M', 1024 ** 2], ['K', 1024]] as const) if (bytes % factor === 0) return `${bytes / factor}${unit}`;
  return String(bytes);
}

export function moveToUnused(config: VmConfig, driveValue: string): void {
  const file = parsePropertyString(driveValue, 'file').file;
  if (!file || file === 'none' || file === 'cdrom' || /media=cdrom/.test(driveValue) || file.includes(':iso/')) return;
  let n = 0;
  while (config[`unused${n}`] !== undefined) n++;
  config[`unused${n}`] = file;
}

export function deleteKeys(lab: SimLab, vm: SimVm, list: string | undefined): void {
  for (const key of (list ?? '').split(/[,;\s]+/).filter(Boolean)) {
    const value = vm.config[key];
    if (value === undefined) continue;
    delete vm.config[key];
    if (DISK_KEY.test(key)) moveToUnused(vm.config, value);
    else if (/^unused\d+$/.test(key)) {
      const index = lab.volumes.findIndex((v) => v.volid === value);
      if (index >= 0) lab.volumes.splice(index, 1);
    }
  }
}

/** QemuServer.pm get_default_bootdevices, as `order=` (first disk, first CD-ROM, first NIC). */
export function defaultBootOrder(config: VmConfig): string {
  const devices = Object.keys(config)
    .filter((key) => DISK_KEY.test(key) && !key.startsWith('efidisk') && !key.startsWith('tpmstate'))
    .concat(Object.keys(config).filter((key) => NET_KEY.test(key)))
    .sort((a, b) => order(a) - order(b) || a.localeCompare(b, 'en', { numeric: true }));
  return `order=${devices.join(';')}`;
}
const order = (key: string): number => (key.startsWith('net') ? 2 : key.startsWith('ide') ? 1 : 0);
