// A VM boots what its boot disk holds. The firmware walks `boot: order=` (qemu-server QemuServer.pm device_bootorder)
// and boots the first listed disk made from a known image that suits the VM (arch, firmware); a blank disk boots
// nothing: the start task succeeds and the guest agent never answers. A booted OS is up after a boot delay (a first
// cloud-init boot takes longer than a later one), both multiples of the task duration so `--task-seconds` scales them.
// What runs inside (systemd units, cloud-init, qemu-ga) is the guest system's business (sim/guest/system.ts).
import { parsePropertyString } from '../lib/pve-formats.ts';
import { cloudInitSeed } from './cloudinit.ts';
import { bootDelaySeconds, type BootPlan } from './guest-runtime.ts';
import { imageOf, type DiskImage } from './internet.ts';
import { parseVolume } from './volumes.ts';
import { bringDown } from './net/guest-net.ts';
import type { SimLab, SimVm } from './lab.ts';
import { DISK_KEY, NET_KEY, type VmConfig } from './vm-config.ts';

/** qemu-server Agent.pm parse_guest_agent: `1`, `enabled=1`, `1,fstrim_cloned_disks=1`… */
export function agentEnabled(config: VmConfig): boolean {
  if (config.agent === undefined) return false;
  return ['1', 'on', 'yes', 'true'].includes(String(parsePropertyString(config.agent, 'enabled').enabled ?? '0'));
}

/** The devices the firmware tries, in order (QemuServer.pm device_bootorder / get_default_bootdevices). */
function bootOrder(config: VmConfig): string[] {
  const order = config.boot ? parsePropertyString(config.boot, 'legacy').order : undefined;
  if (order) return order.split(/[;,\s]+/).filter(Boolean);
  const disks = Object.keys(config).filter((key) => DISK_KEY.test(key) && !/^(efidisk|tpmstate)/.test(key)).sort();
  const isCdrom = (key: string): boolean => /media=cdrom/.test(config[key]!);
  return [disks.find((k) => !isCdrom(k)), disks.find(isCdrom), Object.keys(config).filter((k) => NET_KEY.test(k)).sort()[0]].filter((k): k is string => !!k);
}

/** Would this image start on this VM? (arch from `arch`, firmware from `bios`.) */
function suits(image: DiskImage, config: VmConfig): boolean {
  const arch = config.arch === 'aarch64' ? 'arm64' : 'amd64';
  if (image.arch !== arch) return false;
  return image.firmware !== 'efi' || config.bios === 'ovmf';
}

/** The image a CD-ROM drive holds: an ISO volume whose file on the node is a known image (an installer). */
function cdromImage(lab: SimLab, volid: string): DiskImage | undefined {
  if (!/^[^:]+:iso\//.test(volid)) return undefined;
  try {
    const path = parseVolume(lab, volid).path;
    const data = path ? lab.nodeFiles.read(path) : undefined;
    return data ? imageOf(data) : undefined;
  } catch {
    return undefined;
  }
}

/** What the firmware would boot: the first listed disk or CD-ROM holding a suitable image. */
export function bootTarget(lab: SimLab, vm: SimVm): { image: DiskImage; diskId: string } | undefined {
  for (const device of bootOrder(vm.config)) {
    const value = vm.config[device];
    if (!value || !DISK_KEY.test(device)) continue;
    const volid = parsePropertyString(value, 'file').file ?? '';
    const image = /media=cdrom/.test(value) ? cdromImage(lab, volid) : lab.volumes.find((v) => v.volid === volid)?.image;
    if (image && suits(image, vm.config)) return { image, diskId: volid };
  }
  return undefined;
}

let bootCounter = 0;

/**
 * The guest side of a VM start (after the start checks passed): generate the cloud-init drive (a missing snippet
 * fails the start, as in qemu-server vm_start), mark the VM running and boot what its disk holds.
 */
export function powerOn(lab: SimLab, vm: SimVm): void {
  const seed = cloudInitSeed(lab, vm.vmid, vm.config);
  vm.status = 'running';
  vm.startedAt = Math.floor(Date.now() / 1000);
  const id = ++bootCounter;
  const agentPort = agentEnabled(vm.config);
  const target = bootTarget(lab, vm);
  if (!target) {
    vm.boot = { id, agentPort, firstBoot: false, readyAt: Infinity, ready: false };
    lab.boots.cancel(vm.vmid);
    return;
  }
  const firstBoot = seed !== undefined && !lab.guestSystem.cloudInitDone(vm.vmid, target.diskId, seed.instanceId);
  const delay = bootDelaySeconds(lab.taskSeconds(), firstBoot);
  vm.boot = { id, os: target.image.os, diskId: target.diskId, agentPort, firstBoot, readyAt: Date.now() + delay * 1000, ready: false };
  const plan: BootPlan = { vmid: vm.vmid, os: target.image.os, diskId: target.diskId, agentPort, ...(seed ? { cloudInit: seed } : {}) };
  lab.boots.schedule(vm.vmid, delay, async () => {
    await lab.guestSystem.boot(plan);
    if (vm.boot?.id === id) vm.boot.ready = true;
  });
}

/** The guest is going down (stop, shutdown, the first half of a reboot): its agent is gone from now on. */
export function powerOff(lab: SimLab, vm: SimVm): void {
  delete vm.boot;
  lab.boots.cancel(vm.vmid);
  bringDown(lab, vm.vmid);
}

/** qemu-server Agent.pm qga_check_running: does guest-ping get an answer? */
export function agentAnswers(lab: SimLab, vm: SimVm): boolean {
  const boot = vm.boot;
  return vm.status === 'running' && !!boot?.ready && boot.agentPort && lab.guestSystem.agentRunning(vm.vmid) && !lab.agentsDown.has(vm.vmid);
}
