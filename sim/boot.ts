// A VM boots what its boot disk holds. The firmware walks `boot: order=` (qemu-server QemuServer.pm device_bootorder)
// and boots the first listed disk made from a known image that suits the VM (arch, firmware); a blank disk boots
// nothing: the start task succeeds and the guest agent never answers. A booted OS is up after a boot delay (a first
// cloud-init boot takes longer than a later one), both multiples of the task duration so `--task-seconds` scales them.
// What runs inside (systemd units, cloud-init, qemu-ga) is the guest system's business (sim/guest/system.ts).
import { parsePropertyString } from '../lib/pve-formats.ts';
import { cloudInitSeed, type CloudInitSeed } from './cloudinit.ts';
import type { DiskImage, GuestOs } from './internet.ts';
import type { SimLab, SimVm } from './lab.ts';
import { DISK_KEY, NET_KEY, type VmConfig } from './vm-config.ts';

/** A boot: first cloud-init boot, later boots; in task durations. */
export const FIRST_BOOT_TASKS = 20;
export const BOOT_TASKS = 4;

export function bootDelaySeconds(taskSeconds: number, firstBoot: boolean): number {
  return taskSeconds * (firstBoot ? FIRST_BOOT_TASKS : BOOT_TASKS);
}

export interface GuestBoot {
  id: number;
  /** What booted; absent when the firmware found nothing to boot. */
  os?: GuestOs;
  /** The boot disk's volume id (the guest's root filesystem). */
  diskId?: string;
  /** QEMU got the virtio-serial port org.qemu.guest_agent.0 (`agent` enabled at start). */
  agentPort: boolean;
  firstBoot: boolean;
  /** Epoch ms when the boot is over (or never: Infinity). */
  readyAt: number;
  ready: boolean;
}

export interface BootPlan {
  vmid: number;
  os: GuestOs;
  diskId: string;
  agentPort: boolean;
  cloudInit?: CloudInitSeed;
}

/** The inside of guests: the shell runner implements it over the guests' sandboxes. */
export interface GuestSystem {
  /** Runs a boot to its end: units come up, cloud-init runs when its instance is new. */
  boot(plan: BootPlan): Promise<void>;
  /** Does the OS run qemu-ga on the agent port right now? */
  agentRunning(vmid: number): boolean;
  /** Has cloud-init already finished this instance on this disk (so this boot is a later boot)? */
  cloudInitDone(vmid: number, diskId: string, instanceId: string): boolean;
  /** Can qemu-ga's guest-exec find this program (it spawns without a shell)? */
  hasCommand(vmid: number, command: string): boolean;
  /** The VM is gone (destroyed): its disks, and so the guest's files, with it. */
  forget(vmid: number): void;
}

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

/** What the firmware would boot: the first listed disk holding a suitable image. */
export function bootTarget(lab: SimLab, vm: SimVm): { image: DiskImage; diskId: string } | undefined {
  for (const device of bootOrder(vm.config)) {
    const value = vm.config[device];
    if (!value || !DISK_KEY.test(device) || /media=cdrom/.test(value)) continue;
    const volid = parsePropertyString(value, 'file').file ?? '';
    const image = lab.volumes.find((v) => v.volid === volid)?.image;
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
}

/** qemu-server Agent.pm qga_check_running: does guest-ping get an answer? */
export function agentAnswers(lab: SimLab, vm: SimVm): boolean {
  const boot = vm.boot;
  return vm.status === 'running' && !!boot?.ready && boot.agentPort && lab.guestSystem.agentRunning(vm.vmid);
}

/** Boots in progress: one per VM, each ending after its delay; scenarios finish them at once with drain(). */
export class BootScheduler {
  private readonly timers = new Map<number, { timer: NodeJS.Timeout; run: () => Promise<void> }>();
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly lab: SimLab) {}

  schedule(vmid: number, seconds: number, run: () => Promise<void>): void {
    this.cancel(vmid);
    const fire = (): Promise<void> => {
      this.timers.delete(vmid);
      const promise = run().catch((error: unknown) => {
        const vm = this.lab.vms.get(vmid);
        if (vm?.boot) vm.boot.readyAt = Infinity;
        process.emitWarning(`jarvis sim: boot of VM ${vmid} failed: ${error instanceof Error ? error.message : String(error)}`);
      });
      this.running.add(promise);
      return promise.finally(() => this.running.delete(promise));
    };
    const timer = setTimeout(() => void fire(), Math.max(0, seconds * 1000));
    this.timers.set(vmid, { timer, run: fire });
  }

  cancel(vmid: number): void {
    const pending = this.timers.get(vmid);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.timers.delete(vmid);
  }

  /** Ends every boot now (scenarios: the lab has been up for days). */
  async drain(): Promise<void> {
    while (this.timers.size || this.running.size) {
      for (const [vmid, pending] of [...this.timers]) {
        clearTimeout(pending.timer);
        this.timers.delete(vmid);
        await pending.run();
      }
      await Promise.all([...this.running]);
    }
  }

  /** Boots still to finish, for tests that wait on a condition. */
  pending(vmid: number): boolean {
    return this.timers.has(vmid);
  }

  stop(): void {
    for (const pending of this.timers.values()) clearTimeout(pending.timer);
    this.timers.clear();
  }
}
