// The simulated node's state: VMs, storages, disks, network, firewall, backup jobs, tasks, tailnet, guest facts.
// Tests mutate it through the helpers at the bottom (drift, lock-out, failing tasks).
import { createHash } from 'node:crypto';
import { BootScheduler, type GuestBoot, type GuestSystem } from './guest-runtime.ts';
import { fail } from './http.ts';
import { Internet, type DiskImage } from './internet.ts';
import { MemoryNodeFiles, type NodeFiles } from './node-files.ts';
import { compileFirewall, FirewallDaemon } from './net/firewall-daemon.ts';
import { hostInput } from './net/packet-filter.ts';
import { NetState } from './net/state.ts';
import type { ClusterFirewall, FirewallScope } from './firewall-config.ts';
import type { Random } from './random.ts';
import { TaskRunner } from './tasks.ts';
import type { TailnetState } from './tailnet.ts';
import { normalizeTags, type VmConfig } from './vm-config.ts';

export const NODE = 'proxmox' as const;

export interface SimVm {
  vmid: number;
  config: VmConfig;
  /** [PENDING] values and deletions, applied at the next start. */
  pending: VmConfig;
  pendingDelete: Set<string>;
  status: 'running' | 'stopped';
  startedAt?: number;
  /** `snapstate` marks a half-made snapshot, as pve-guest-common AbstractConfig.pm does while creating or deleting. */
  snapshots: Array<{ name: string; description: string; snaptime: number; vmstate: number; parent?: string; snapstate?: 'prepare' | 'delete'; config: VmConfig }>;
  firewall: FirewallScope;
  /** Pending agent/exec results by pid. */
  execs: Map<number, { exited: boolean; exitcode?: number; out?: string; err?: string }>;
  /** The guest's current boot (sim/boot.ts); absent while stopped, shutting down or rebooting. */
  boot?: GuestBoot;
}

export type { ClusterFirewall, FirewallScope, FwRule } from './firewall-config.ts';

export interface SimVolume {
  volid: string;
  vmid?: number;
  size: number;
  format: string;
  content: 'images' | 'backup' | 'iso' | 'vztmpl' | 'rootdir';
  ctime: number;
  notes?: string;
  /** What the disk holds when it was made from a known image (import-from, `qm disk import`); absent = blank. */
  image?: DiskImage;
}

export type StorageConfig = Record<string, string | number> & { storage: string; type: string; content: string };

export interface SimDisk {
  devpath: string;
  /** The /dev/disk/by-id/ name without the directory (GET disks/list sends the whole path). */
  by_id_link: string;
  size: number;
  model: string;
  serial: string;
  vendor: string;
  wwn: string;
  type: 'nvme' | 'hdd' | 'ssd';
  rpm: number;
  used?: string;
}

export interface SimZpool {
  name: string;
  raidlevel: string;
  /** /dev/disk/by-id/ paths of the data devices. */
  devices: string[];
  /** Devices added later with `zpool add POOL log|cache|spare …` (by-id paths; partitions keep their -partN). */
  logs?: string[];
  cache?: string[];
  spares?: string[];
  ashift: number;
  compression: string;
  size: number;
  alloc: number;
}

export type NetIface = Record<string, string | number | string[]> & { iface: string; type: string };

export interface GuestExecResult {
  exitcode: number;
  out: string;
  err: string;
}
export type GuestExec = (vmid: number, argv: string[], input?: string) => Promise<GuestExecResult>;

const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex');
const GiB = 1024 ** 3;
/** The node's subnet: pve-firewall's `local_network` alias unless the datacenter defines one. */
const LOCAL_NETWORK = '192.168.1.0/24';
/** The node's address on the LAN (vmbr0), where the API and SSH listen. */
const NODE_ADDRESS = '192.168.1.10';

export class SimLab {
  readonly node = NODE;
  readonly vms = new Map<number, SimVm>();
  readonly storages = new Map<string, StorageConfig>();
  readonly volumes: SimVolume[] = [];
  readonly disks: SimDisk[] = [];
  readonly zpools = new Map<string, SimZpool>();
  network = new Map<string, NetIface>();
  /** Staged /etc/network/interfaces.new; null when nothing is pending. */
  pendingNetwork: Map<string, NetIface> | null = null;
  readonly clusterFirewall: ClusterFirewall = { options: {}, rules: [], groups: new Map(), ipsets: new Map(), aliases: new Map() };
  readonly nodeFirewall: FirewallScope = { options: {}, rules: [] };
  readonly backupJobs = new Map<string, Record<string, string | number>>();
  readonly dirMappings = new Map<string, { id: string; description?: string; map: string[] }>();
  readonly clusterOptions: Record<string, string | number> = { keyboard: 'en-us' };
  readonly passwords = new Map<string, string>();
  /** Facts the guest runner materialises inside guests (tailscale, docker, /opt/naas layout…). */
  readonly guests: Record<number, { facts: Record<string, unknown> }> = {};
  /** Host facts (datasets, sanoid policies, which apt repositories) for the host shell. */
  hostFacts: {
    datasets: Array<{ name: string; properties: Record<string, string> }>;
    snapshotPolicies: Array<Record<string, unknown>>;
    /** A fresh node has the enterprise repositories and no subscription; `no-subscription` once switched. */
    aptSources?: 'enterprise' | 'no-subscription';
  } = {
    datasets: [],
    snapshotPolicies: [],
  };
  /** Where the shell runners keep this lab's sandboxes (set by the first runner). */
  sandboxDir?: string;
  clientSource = '192.168.1.20';
  /** The node's time zone (/etc/timezone), as the installer set it. */
  timezone = 'UTC';
  sslFingerprint = '';
  /** Running VMs whose qemu-ga hangs: guest-ping gets no answer although its unit still runs (tests set it). */
  readonly agentsDown = new Set<number>();
  /** Guest-agent exec pids are per guest in QEMU; one counter keeps them unique and simple. */
  nextExecPid = 1000;
  guestExec: GuestExec = async () => ({ exitcode: 127, out: '', err: 'jarvis sim: no guest runner is attached to this simulator\n' });
  /** What runs inside guests (boot, cloud-init, the agent); the shell runner attaches the real one. */
  guestSystem: GuestSystem = { boot: async () => undefined, agentRunning: () => false, cloudInitDone: () => false, hasCommand: () => false, forget: () => undefined, netplan: () => [], listening: () => [], sysctl: () => undefined };
  /** The node's own filesystem (snippets, import files, directory mappings); the shell runner attaches its sandbox. */
  nodeFiles: NodeFiles = new MemoryNodeFiles();
  /** The URLs the node and its guests can fetch. */
  readonly internet = new Internet();
  readonly tasks: TaskRunner;
  readonly boots: BootScheduler;
  /** The network: the guests' stacks and leases, DHCP bindings, the owner's router, network faults (sim/net/). */
  readonly netState = new NetState();
  /** pve-firewall: the ruleset its last update cycle loaded, replaced every (scaled) 10 s once started. */
  readonly firewall: FirewallDaemon;
  tailnet!: TailnetState;

  constructor(
    readonly random: Random,
    readonly taskSeconds: () => number,
    taskFaults: { failing: ReadonlySet<string>; slow: ReadonlyMap<string, number> },
  ) {
    this.tasks = new TaskRunner(NODE, taskSeconds, taskFaults);
    this.boots = new BootScheduler((vmid) => {
      const boot = this.vms.get(vmid)?.boot;
      if (boot) boot.readyAt = Infinity;
    });
    this.firewall = new FirewallDaemon(
      () => compileFirewall({ cluster: this.clusterFirewall, node: this.nodeFirewall, vms: this.vms.values() }, LOCAL_NETWORK),
      taskSeconds,
      () => Number(this.clusterFirewall.options.enable ?? 0) === 1,
    );
  }

  // ------------------------------------------------------------------ lookups used by the routes

  vm(vmid: number | string): SimVm {
    const vm = this.vms.get(Number(vmid));
    if (!vm) return fail(`Configuration file 'nodes/${NODE}/qemu-server/${vmid}.conf' does not exist`);
    return vm;
  }

  /** PVE's check_lock: any lock blocks a change unless skiplock is set (root only). */
  assertUnlocked(vm: SimVm, skiplock = false): void {
    if (vm.config.lock && !skiplock) fail(`VM ${vm.vmid} is locked (${vm.config.lock})`);
  }

  storage(id: string): StorageConfig {
    const storage = this.storages.get(id);
    if (!storage) return fail(`storage '${id}' does not exist`);
    return storage;
  }

  storageDigest(): string {
    return sha1(JSON.stringify([...this.storages.values()]));
  }

  firewallDigest(scope: unknown): string {
    return sha1(JSON.stringify(scope, (_key, value: unknown) => (value instanceof Map ? [...value.entries()] : value)));
  }

  backupDigest(): string {
    return sha1(JSON.stringify([...this.backupJobs.values()]));
  }

  /** Capacity of a storage and what its volumes use. */
  storageUsage(id: string): { total: number; used: number } {
    const storage = this.storage(id);
    const used = this.volumes.filter((v) => v.volid.startsWith(`${id}:`)).reduce((sum, v) => sum + v.size, 0);
    const total =
      storage.type === 'lvmthin' ? 832 * GiB : storage.type === 'zfspool' || String(storage.path ?? '').startsWith('/tank') ? 3600 * GiB : 94 * GiB;
    // The root filesystem also holds the OS.
    const base = storage.type === 'dir' && !String(storage.path ?? '').startsWith('/tank') ? 9 * GiB : 0;
    return { total, used: Math.min(total, used + base) };
  }

  // ------------------------------------------------------------------ connection-level firewall

  /**
   * Would pve-firewall let a NEW TCP connection from the client source reach this management port on the node? It
   * judges against the ruleset the last update cycle loaded (PVEFW-HOST-IN), not the configuration just written.
   */
  firewallAdmits(port: 22 | 8006): boolean {
    return hostInput(this.firewall.active, { src: this.clientSource, dst: NODE_ADDRESS, proto: 'tcp', dport: port, iface: 'vmbr0' }) === 'ACCEPT';
  }

  // ------------------------------------------------------------------ helpers for tests

  /** Hand-edits a VM config (drift) the way `qm set` on the host would, bypassing the API. */
  setVmConfig(vmid: number, changes: Record<string, string | number | null>): void {
    const vm = this.vm(vmid);
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) delete vm.config[key];
      else vm.config[key] = key === 'tags' ? normalizeTags(String(value)) : String(value);
    }
  }

  /** Deletes a firewall rule by position at cluster, node or VM level. */
  deleteFirewallRule(scope: 'cluster' | 'node' | { vmid: number }, pos: number): void {
    const rules = scope === 'cluster' ? this.clusterFirewall.rules : scope === 'node' ? this.nodeFirewall.rules : this.vm(scope.vmid).firewall.rules;
    if (pos < 0 || pos >= rules.length) throw new Error(`no firewall rule at position ${pos}`);
    rules.splice(pos, 1);
  }

  /** The next task of this type (qmstart, vzdump, qmcreate…) fails. */
  failNextTask(type: string): void {
    this.tasks.failNext.set(type, (this.tasks.failNext.get(type) ?? 0) + 1);
  }

  /**
   * What the owner does by hand on Home Assistant OS: install the official Tailscale add-on and log it in. The device
   * joins the tailnet; nothing changes in the guest's own system (HAOS has no tailscale package).
   */
  ownerInstallsTailscaleAddon(vmid: number, hostname = 'home-assistant'): void {
    const vm = this.vm(vmid);
    if (vm.status !== 'running' || vm.boot?.os !== 'haos' || !vm.boot.ready) throw new Error(`VM ${vmid} does not run Home Assistant OS: there is no add-on store to install from`);
    this.tailnet.upsertDevice({ hostname });
  }

  /** Source address the connection-level firewall evaluates new connections for. */
  setClientSource(ip: string): void {
    this.clientSource = ip;
  }
}
