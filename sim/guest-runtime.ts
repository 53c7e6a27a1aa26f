// A guest's run time as the lab keeps it, apart from the lab itself: what a boot is, what the inside of a guest
// must answer (the shell runner implements it), the NoCloud seed PVE hands to a guest, and the boots in progress.
// (sim/boot.ts decides what boots; sim/guest/system.ts is what happens inside.)

/** What PVE writes onto a cloud-init drive (sim/cloudinit.ts). */
export interface CloudInitSeed {
  instanceId: string;
  userData: string;
  networkData: string;
  vendorData: string;
}

/** What an image boots: a Debian cloud image, HAOS, OPNsense installed on a disk, or its live installer CD. */
export type GuestOs = 'debian-13' | 'haos' | 'opnsense' | 'opnsense-installer';

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
  /** The guest's netplan files, in the order netplan reads them. */
  netplan(vmid: number): string[];
  /** What listens on the guest's network (sshd, Home Assistant, published container ports). */
  listening(vmid: number): Array<{ proto: 'tcp' | 'udp'; port: number }>;
  /** A kernel setting as the guest has it (`sysctl -p` of its /etc/sysctl.d files), e.g. net.ipv4.ip_forward. */
  sysctl(vmid: number, key: string): string | undefined;
}

/** Boots in progress: one per VM, each ending after its delay; scenarios finish them at once with drain(). */
export class BootScheduler {
  private readonly timers = new Map<number, { timer: NodeJS.Timeout; run: () => Promise<void> }>();
  private readonly running = new Set<Promise<void>>();

  /** `failed` hears of a boot whose inside failed (the guest then never comes up). */
  constructor(private readonly failed: (vmid: number) => void) {}

  schedule(vmid: number, seconds: number, run: () => Promise<void>): void {
    this.cancel(vmid);
    const fire = (): Promise<void> => {
      this.timers.delete(vmid);
      const promise = run().catch((error: unknown) => {
        this.failed(vmid);
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
