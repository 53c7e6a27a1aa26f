// Desired Proxmox values for a spec VM: the create request and each config value, in PVE's own parameter format,
// following the build standards (VirtIO NIC, VirtIO SCSI, cache=none, guest agent).
import { formatPropertyString } from '../lib/pve-formats.ts';
import { ipconfigValue, sshKeysValue } from './boot-media.ts';
import type { CloudInitSpec, DiskSpec, NicSpec } from './spec/schema.ts';
import type { DesiredVm } from './desired-state.ts';
import { tagSet } from './pve-values.ts';

export const diskSlot = (index: number): string => `scsi${index}`;
export const netSlot = (index: number): string => `net${index}`;

/** The disk options Jarvis manages (the volume and size are compared separately). */
export function diskOptions(disk: DiskSpec): Record<string, string> {
  return { cache: disk.cache, discard: disk.discard ? 'on' : 'ignore', iothread: disk.iothread ? '1' : '0', ssd: disk.ssd ? '1' : '0' };
}

/** A new volume: `local-lvm:32,cache=none,discard=on,iothread=1,ssd=1`. */
export const newDiskValue = (disk: DiskSpec): string => formatPropertyString({ file: `${disk.storage}:${disk.size}`, ...diskOptions(disk) }, 'file');

export function netValue(nic: NicSpec, macaddr?: string): string {
  return formatPropertyString({ model: nic.model, ...(macaddr ? { macaddr } : {}), bridge: nic.bridge, firewall: nic.firewall }, 'model');
}

export const tagsValue = (tags: string[]): string => tagSet(tags).join(';');

/** The HAOS image is imported into the first disk after create, so the VM is created without it. */
export const importsHaos = (vm: DesiredVm): boolean => vm.os === 'haos';

/** How the boot disk of a new VM is made, beyond an empty allocation. */
export interface CreateMedia {
  /** scsi0 is a copy of this `import` volume (PVE's import-from), grown to the spec's size afterwards. */
  importFrom?: string;
  /** The cloud-init drive's settings and the vendor-data snippet volume (`local:snippets/jarvis-vendor-100.yaml`). */
  cloudInit?: { spec: CloudInitSpec; vendorVolid: string };
  /** An installer ISO volume attached as a CD-ROM (`local:iso/OPNsense-….iso`), booted while the disk is empty. */
  installerIso?: string;
  /** MACs pinned for the new VM's NICs (the router's manual step names its interfaces by MAC before it exists). */
  macs?: string[];
}

/** POST /nodes/{node}/qemu parameters. */
export function createParams(vm: DesiredVm, media: CreateMedia = {}): Record<string, string | number> {
  const params: Record<string, string | number> = {
    vmid: vm.vmid,
    name: vm.name,
    ostype: vm.ostype,
    cores: vm.cores,
    sockets: vm.sockets,
    memory: String(vm.memory),
    scsihw: vm.scsihw,
    agent: vm.agent ? '1' : '0',
    onboot: vm.onboot ? 1 : 0,
    hotplug: [...vm.hotplug].sort().join(','),
  };
  if (vm.bios === 'ovmf') {
    params.bios = 'ovmf';
    // HAOS and most UEFI guests boot without Secure Boot keys.
    params.efidisk0 = formatPropertyString({ file: `${vm.disks[0]!.storage}:1`, efitype: '4m', 'pre-enrolled-keys': 0 }, 'file');
  }
  if (vm.description) params.description = vm.description;
  if (vm.tags.length > 0) params.tags = tagsValue(vm.tags);
  vm.disks.forEach((disk, i) => {
    if (i === 0 && importsHaos(vm)) return;
    // import-from wants the special size 0 (qemu-server: "use <storage ID>:0,import-from=<source>").
    params[diskSlot(i)] =
      i === 0 && media.importFrom
        ? formatPropertyString({ file: `${disk.storage}:0`, 'import-from': media.importFrom, ...diskOptions(disk) }, 'file')
        : newDiskValue(disk);
  });
  vm.net.forEach((nic, i) => {
    params[netSlot(i)] = netValue(nic, nic.macaddr ?? media.macs?.[i]);
  });
  if (media.installerIso) params.ide2 = formatPropertyString({ file: media.installerIso, media: 'cdrom' }, 'file');
  if (media.cloudInit) {
    const ci = media.cloudInit.spec;
    // The cloud-init drive lives beside the boot disk; PVE regenerates it from ciuser/sshkeys/ipconfigN/cicustom.
    params.ide2 = `${vm.disks[0]!.storage}:cloudinit`;
    params.ciuser = ci.user;
    if (ci.sshKeys.length > 0) params.sshkeys = sshKeysValue(ci.sshKeys);
    ci.ipconfig.forEach((entry, i) => {
      params[`ipconfig${i}`] = ipconfigValue(entry);
    });
    params.cicustom = `vendor=${media.cloudInit.vendorVolid}`;
  }
  // Behind an empty disk the installer boots; once the owner has installed to the disk, the disk does.
  const first = importsHaos(vm) || vm.disks.length > 0 ? diskSlot(0) : netSlot(0);
  params.boot = `order=${media.installerIso ? `${first};ide2` : first}`;
  return params;
}
