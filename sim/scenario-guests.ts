// The scenarios' guests, built the way the product builds them (the contract of issue 12): Debian VMs imported from
// the official Debian 13 cloud image (download-url into an import volume, verified against the published SHA512SUMS,
// `import-from`, a cloud-init drive and a vendor snippet that installs and starts qemu-guest-agent), Home Assistant OS
// from its image through `qm disk import`. Every API step goes through the simulator's own handlers.
import { callInternal } from './dispatch.ts';
import type { Params } from './http.ts';
import { DEBIAN_13_IMAGE_URL, DEBIAN_13_SUMS_URL, imageOf, standInQcow2, HAOS_VERSION } from './internet.ts';
import type { SimLab } from './lab.ts';

const NODE = '/nodes/proxmox';
export const DEBIAN_IMAGE_FILE = 'debian-13-genericcloud-amd64.qcow2';
/** A stand-in for Jarvis's own public key (the scenarios' guests list it in authorized_keys). */
export const JARVIS_PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBJarvisSimScenarioStandInPublicKey0000000 jarvis@edge-gateway';
/** The vendor data: install qemu-guest-agent, then start it (its unit is static; apt does not start it). */
export const VENDOR_DATA = '#cloud-config\npackages:\n  - qemu-guest-agent\nruncmd:\n  - [systemctl, start, qemu-guest-agent]\n';
export const DRIVE_OPTIONS = 'cache=none,discard=on,iothread=1,ssd=1';

export interface ScenarioVm {
  vmid: number;
  name: string;
  cores: number;
  memory: number;
  disk: number;
  description: string;
  tags: string[];
  bridges: string[];
  firewall?: boolean;
  ostype?: string;
}

const sortedTags = (tags: string[]): string => [...tags].sort().join(';');

/** What every Jarvis VM gets (VirtIO NICs, VirtIO SCSI single, cache=none, the agent port, tags). */
function baseParams(vm: ScenarioVm): Params {
  const params: Params = {
    vmid: String(vm.vmid),
    name: vm.name,
    ostype: vm.ostype ?? 'l26',
    cores: String(vm.cores),
    sockets: '1',
    memory: String(vm.memory),
    scsihw: 'virtio-scsi-single',
    agent: '1',
    onboot: '1',
    hotplug: 'disk,network,usb',
    description: vm.description,
    tags: sortedTags(vm.tags),
  };
  vm.bridges.forEach((bridge, i) => {
    params[`net${i}`] = `virtio,bridge=${bridge},firewall=${vm.firewall === false ? 0 : 1}`;
  });
  return params;
}

/** The node before any guest: `local` also holds snippets; the Debian image is downloaded and verified once. */
export async function prepareImages(lab: SimLab): Promise<void> {
  await callInternal(lab, 'PUT', '/storage/local', { content: 'iso,vztmpl,backup,import,snippets' });
  const sums = lab.internet.get(DEBIAN_13_SUMS_URL)!.body.toString('utf8');
  const sha512 = sums.split('\n').find((line) => line.endsWith(`  ${DEBIAN_IMAGE_FILE}`))!.split(' ')[0]!;
  await callInternal(lab, 'POST', `${NODE}/storage/local/download-url`, {
    url: DEBIAN_13_IMAGE_URL,
    content: 'import',
    filename: DEBIAN_IMAGE_FILE,
    checksum: sha512,
    'checksum-algorithm': 'sha512',
  });
}

/** A Debian 13 VM: vendor snippet, create with import-from and a cloud-init drive, grow the disk, start. */
export async function buildDebianVm(lab: SimLab, vm: ScenarioVm): Promise<void> {
  const snippet = `jarvis-vendor-${vm.vmid}.yaml`;
  lab.nodeFiles.write(`/var/lib/vz/snippets/${snippet}`, Buffer.from(VENDOR_DATA));
  await callInternal(lab, 'POST', `${NODE}/qemu`, {
    ...baseParams(vm),
    scsi0: `local-lvm:0,import-from=local:import/${DEBIAN_IMAGE_FILE},${DRIVE_OPTIONS}`,
    ide2: 'local-lvm:cloudinit',
    boot: 'order=scsi0',
    ciuser: 'jarvis',
    sshkeys: encodeURIComponent(`${JARVIS_PUBLIC_KEY}\n`),
    ipconfig0: 'ip=dhcp',
    cicustom: `vendor=local:snippets/${snippet}`,
  });
  await callInternal(lab, 'PUT', `${NODE}/qemu/${vm.vmid}/resize`, { disk: 'scsi0', size: `${vm.disk}G` });
  await callInternal(lab, 'POST', `${NODE}/qemu/${vm.vmid}/status/start`);
}

/**
 * Home Assistant OS: a UEFI VM without a disk, the image imported as `qm disk import` does it (a new volume holding
 * the image, left unused), attached as scsi0 and made the boot disk, grown to the spec's size, started.
 */
export async function buildHaosVm(lab: SimLab, vm: ScenarioVm): Promise<void> {
  await callInternal(lab, 'POST', `${NODE}/qemu`, { ...baseParams(vm), bios: 'ovmf', efidisk0: 'local-lvm:1,efitype=4m,pre-enrolled-keys=0' });
  const image = imageOf(standInQcow2(`haos_ova-${HAOS_VERSION}`))!;
  const volid = `local-lvm:vm-${vm.vmid}-disk-1`;
  lab.volumes.push({ volid, vmid: vm.vmid, size: image.virtualSizeGiB * 1024 ** 3, format: 'raw', content: 'images', ctime: Math.floor(Date.now() / 1000), image });
  lab.vm(vm.vmid).config.unused0 = volid;
  await callInternal(lab, 'PUT', `${NODE}/qemu/${vm.vmid}/config`, { scsi0: `${volid},${DRIVE_OPTIONS}`, boot: 'order=scsi0' });
  await callInternal(lab, 'PUT', `${NODE}/qemu/${vm.vmid}/resize`, { disk: 'scsi0', size: `${vm.disk}G` });
  await callInternal(lab, 'POST', `${NODE}/qemu/${vm.vmid}/status/start`);
}
