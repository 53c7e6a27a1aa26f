// Reading Proxmox config values semantically, so the diff compares meaning and not spelling: property strings
// (net0, scsi0, agent), tag lists (order and case never matter), disk sizes, booleans sent as 0/1.
import { parseNetProperty, parsePropertyString } from '../lib/pve-formats.ts';

export type PropertyMap = Record<string, string>;

/** `virtio=BC:24:…,bridge=vmbr0` → { model: 'virtio', macaddr: 'BC:24:…', bridge: 'vmbr0' }. */
export const parseNet = (value: string): PropertyMap => parseNetProperty(value);

export function parseDisk(value: string): PropertyMap {
  return { ...parsePropertyString(value, 'file') } as PropertyMap;
}

/** `local-lvm:vm-100-disk-0` → `local-lvm`; `local-lvm:32` → `local-lvm`. */
export const volumeStorage = (volume: string): string => volume.split(':')[0] ?? volume;

/** PVE disk-size (`32G`, `512M`, `1T`, bare number = bytes… for `size=` PVE always writes a unit) → GiB. */
export function sizeToGiB(size: string | undefined): number | undefined {
  if (!size) return undefined;
  const match = /^(\d+(?:\.\d+)?)([KMGT])?(?:iB)?$/i.exec(size.trim());
  if (!match) return undefined;
  const n = Number(match[1]);
  const unit = (match[2] ?? '').toUpperCase();
  const factor = unit === 'T' ? 1024 : unit === 'G' ? 1 : unit === 'M' ? 1 / 1024 : unit === 'K' ? 1 / 1024 ** 2 : 1 / 1024 ** 3;
  return n * factor;
}

/** Tags as PVE accepts them (split on `;`, `,` or whitespace); compared lower-case, as a set. */
export function tagSet(value: string | string[] | undefined): string[] {
  const list = Array.isArray(value) ? value : (value ?? '').split(/[;,\s]+/);
  return [...new Set(list.map((t) => t.trim().toLowerCase()).filter(Boolean))].sort();
}

export const sameTags = (a: string | string[] | undefined, b: string | string[] | undefined): boolean =>
  tagSet(a).join(';') === tagSet(b).join(';');

/** PVE booleans come back as 1/0, "1"/"0", or are absent (then the schema default applies). */
export function pveBool(value: string | number | boolean | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (typeof value === 'boolean') return value;
  return String(value) === '1' || String(value).toLowerCase() === 'on' || String(value).toLowerCase() === 'yes';
}

/** hotplug: absent or `1` = network,disk,usb; `0` = none; otherwise a comma list. */
export function hotplugSet(value: string | number | undefined): string[] {
  if (value === undefined || String(value) === '1') return ['disk', 'network', 'usb'];
  if (String(value) === '0') return [];
  return [...new Set(String(value).split(',').map((s) => s.trim()).filter(Boolean))].sort();
}

/** agent: `1`, `0`, `enabled=1,fstrim_cloned_disks=1` → enabled? */
export function agentEnabled(value: string | number | undefined): boolean {
  if (value === undefined) return false;
  return pveBool(parsePropertyString(String(value), 'enabled').enabled, false);
}

/** Storage types whose volumes can be snapshotted whatever their format. */
const SNAPSHOT_STORAGE_TYPES = new Set(['lvmthin', 'zfspool', 'rbd', 'btrfs', 'zfs']);
/** File storages snapshot only qcow2 images. */
const FILE_STORAGE_TYPES = new Set(['dir', 'nfs', 'cifs', 'glusterfs', 'cephfs']);

export function volumeCanSnapshot(storageType: string | undefined, volume: string, format?: string): boolean {
  if (!storageType) return false;
  if (SNAPSHOT_STORAGE_TYPES.has(storageType)) return true;
  if (FILE_STORAGE_TYPES.has(storageType)) return (format ?? '') === 'qcow2' || volume.endsWith('.qcow2');
  return false;
}

export const DISK_KEY = /^(scsi|virtio|sata|ide)(\d+)$/;
export const NET_KEY = /^net(\d+)$/;

/** True for a config entry that is a data disk (not a CD-ROM, not a cloud-init drive). */
export function isDataDisk(key: string, value: string): boolean {
  if (!DISK_KEY.test(key)) return false;
  const props = parseDisk(value);
  return props.media !== 'cdrom' && !String(props.file ?? '').includes('cloudinit') && props.file !== 'none';
}
