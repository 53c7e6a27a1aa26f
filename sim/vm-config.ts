// How qemu-server turns create/update parameters into the stored config: new disks allocated as volumes with a
// size, NICs printed as `model=MAC,...` with a generated MAC, keys stored as strings, digest over the file text.
import { NIC_MODELS, formatPropertyString, parseNetProperty, parsePropertyString } from '../lib/pve-formats.ts';
import { fail } from './http.ts';
import { randomHex, type Random } from './random.ts';

export type VmConfig = Record<string, string>;

export const DISK_KEY = /^(scsi\d+|virtio\d+|sata\d+|ide\d+|efidisk0|tpmstate0)$/;
export const NET_KEY = /^net\d+$/;

/** Sorted `key: value` lines, description first as `#` comments, like /etc/pve/qemu-server/VMID.conf. */
export function renderConfigFile(config: VmConfig): string {
  const lines: string[] = [];
  if (config.description) for (const line of config.description.split('\n')) lines.push(`#${encodeURIComponent(line).replace(/%20/g, ' ')}`);
  for (const key of Object.keys(config).sort()) if (key !== 'description') lines.push(`${key}: ${config[key]}`);
  return `${lines.join('\n')}\n`;
}

/** Print with the default key first and the rest sorted, as PVE's print_property_string does. */
export function printSorted(obj: Record<string, string>, defaultKey: string): string {
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(obj).sort()) sorted[key] = obj[key]!;
  return formatPropertyString(sorted, defaultKey);
}

export function generateMac(random: Random): string {
  // Proxmox's OUI prefix; the rest random with the I/G bit clear.
  const tail = randomHex(random, 3).toUpperCase();
  return `BC:24:11:${tail.slice(0, 2)}:${tail.slice(2, 4)}:${tail.slice(4, 6)}`;
}

export function normalizeNet(value: string, random: Random): string {
  const net = parseNetProperty(value);
  const model = net.model ?? 'virtio';
  const mac = (net.macaddr ?? generateMac(random)).toUpperCase();
  const rest: Record<string, string> = {};
  for (const [key, v] of Object.entries(net)) if (key !== 'model' && key !== 'macaddr') rest[key] = v;
  const tail = printSorted(rest, '');
  return `${model}=${mac}${tail ? `,${tail}` : ''}`;
}

export function netModelOf(value: string): string | undefined {
  return NIC_MODELS.find((m) => value.startsWith(`${m}=`) || value === m || value.startsWith(`${m},`) || value.includes(`model=${m}`));
}

export interface StorageInfo {
  type: string;
  content: string[];
  path?: string;
}

export interface DiskAllocation {
  storage: string;
  volname: string;
  sizeGiB: number;
  format: string;
}

/**
 * Turns `local-lvm:32,iothread=1` into `local-lvm:vm-100-disk-0,iothread=1,size=32G` and reports the new volume.
 * Existing volume ids, `none`, `cdrom` and ISO paths are kept.
 */
export function allocateDisk(
  key: string,
  value: string,
  vmid: number,
  storages: Map<string, StorageInfo>,
  usedNames: Set<string>,
): { value: string; allocation?: DiskAllocation } {
  const drive = parsePropertyString(value, 'file');
  const file = drive.file ?? drive.volume;
  if (file === undefined) return fail(`${key}: missing drive file`);
  delete drive.volume;
  const newDisk = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(\d+(?:\.\d+)?)$/i.exec(file);
  if (!newDisk) {
    const storage = /^([a-z][a-z0-9\-_.]*[a-z0-9]):/i.exec(file)?.[1];
    if (storage && !storages.has(storage)) fail(`storage '${storage}' does not exist`);
    if (file.endsWith(':cloudinit')) {
      // Qemu.pm create_disks: a 4 MiB vm-VMID-cloudinit volume (qcow2 on file storages), attached as a CD-ROM.
      const onPath = storages.get(storage!)?.path !== undefined;
      const volname = onPath ? `${vmid}/vm-${vmid}-cloudinit.qcow2` : `vm-${vmid}-cloudinit`;
      drive.file = `${storage}:${volname}`;
      drive.media = 'cdrom';
      delete drive.size;
      return { value: printSorted(drive, 'file'), allocation: { storage: storage!, volname, sizeGiB: 4 / 1024, format: onPath ? 'qcow2' : 'raw' } };
    }
    return { value: printSorted(drive, 'file') };
  }
  const storageId = newDisk[1]!;
  const storage = storages.get(storageId);
  if (!storage) return fail(`storage '${storageId}' does not exist`);
  if (!storage.content.includes('images')) fail(`storage '${storageId}' does not support vm images`);
  let n = 0;
  while (usedNames.has(`${storageId}:vm-${vmid}-disk-${n}`)) n++;
  const format = drive.format ?? (storage.type === 'dir' ? 'raw' : 'raw');
  const volname = storage.type === 'dir' ? `${vmid}/vm-${vmid}-disk-${n}.${format}` : `vm-${vmid}-disk-${n}`;
  usedNames.add(`${storageId}:vm-${vmid}-disk-${n}`);
  // EFI vars and TPM state get their fixed size whatever number was asked for.
  const fixedSize = key === 'efidisk0' ? (drive.efitype === '2m' ? '128K' : '4M') : key === 'tpmstate0' ? '4M' : undefined;
  const sizeGiB = fixedSize ? 0.004 : Number(newDisk[2]);
  drive.file = `${storageId}:${volname}`;
  drive.size = fixedSize ?? `${sizeGiB}G`;
  return { value: printSorted(drive, 'file'), allocation: { storage: storageId, volname, sizeGiB, format } };
}

/** Tags as PVE stores them: split on `,` `;` or spaces, duplicates dropped, `;`-joined in the given order. */
export function normalizeTags(value: string): string {
  return [...new Set(value.split(/[,;\s]+/).filter((t) => t !== ''))].join(';');
}

export function parseSize(size: string | undefined): number {
  const match = /^(\d+(?:\.\d+)?)([KMGT])?/.exec(size ?? '');
  if (!match) return 0;
  const unit = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[match[2] as 'K' | 'M' | 'G' | 'T'] ?? 1;
  return Math.round(Number(match[1]) * unit);
}

export function diskEntries(config: VmConfig): Array<[string, Record<string, string>]> {
  return Object.entries(config)
    .filter(([key]) => DISK_KEY.test(key))
    .map(([key, value]) => [key, parsePropertyString(value, 'file')] as [string, Record<string, string>]);
}
