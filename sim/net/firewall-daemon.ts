// pve-firewall as a service: it does not apply configuration changes when they are written. Its daemon loop
// (pve-firewall src/PVE/Service/pve_firewall.pm `run`, `$updatetime = 10`) calls PVE::Firewall::update every 10 s,
// which compiles cluster.fw, host.fw and every VM's firewall config and NICs into iptables/ipset rules and applies
// them (Firewall.pm `update`, `compile`, `apply_ruleset`). Until the next cycle the previous ruleset stays in force,
// for host, datacenter and VM/NIC rules alike. `pve-firewall status` compiles the current configuration and
// compares it with what is loaded: "(pending changes)" until the next cycle has applied it.
// The simulator keeps the last compiled snapshot as "active" and replaces it on its own cycle, scaled like every
// other duration (sim/sim-time.ts).
import { createHash } from 'node:crypto';
import { parseNetProperty } from '../../lib/pve-formats.ts';
import type { ClusterFirewall, FirewallScope, FwRule } from '../firewall-config.ts';
import { scaledSeconds } from '../sim-time.ts';

/** pve_firewall.pm: `my $updatetime = 10;` */
export const FIREWALL_UPDATE_SECONDS = 10;

export interface IpsetEntry {
  cidr: string;
  nomatch?: boolean;
}

export interface CompiledVm {
  options: Record<string, string | number>;
  rules: FwRule[];
  /** The NICs pve-firewall makes tap chains for: netN with `firewall=1` (compile_iptables_filter). */
  nics: Record<string, { firewall: boolean; macaddr?: string }>;
}

/** What one update cycle loaded. `enabled: false` is the empty ruleset (Firewall.pm compile returns `{}`). */
export interface CompiledFirewall {
  enabled: boolean;
  clusterOptions: Record<string, string | number>;
  hostOptions: Record<string, string | number>;
  hostRules: FwRule[];
  clusterRules: FwRule[];
  groups: Record<string, FwRule[]>;
  ipsets: Record<string, IpsetEntry[]>;
  aliases: Record<string, string>;
  vms: Record<number, CompiledVm>;
}

const EMPTY: CompiledFirewall = { enabled: false, clusterOptions: {}, hostOptions: {}, hostRules: [], clusterRules: [], groups: {}, ipsets: {}, aliases: {}, vms: {} };

const clone = <T>(value: T): T => structuredClone(value);

/**
 * Firewall.pm compile: nothing when the datacenter firewall is off (is_enabled_and_not_nftables); otherwise every
 * scope, with the `local_network` alias defaulting to the node's subnet and added to the `management` IP set.
 */
export function compileFirewall(
  config: { cluster: ClusterFirewall; node: FirewallScope; vms: Iterable<{ vmid: number; config: Record<string, string>; firewall: FirewallScope }> },
  localNetwork: string,
): CompiledFirewall {
  const { cluster, node } = config;
  if (Number(cluster.options.enable ?? 0) !== 1 || Number(node.options.nftables ?? 0) === 1) return EMPTY;
  const aliases = Object.fromEntries([...cluster.aliases].map(([name, alias]) => [name, alias.cidr]));
  aliases.local_network ??= localNetwork;
  const ipsets: Record<string, IpsetEntry[]> = Object.fromEntries(
    [...cluster.ipsets].map(([name, set]) => [name, set.entries.map((e) => ({ cidr: e.cidr, ...(e.nomatch ? { nomatch: true } : {}) }))]),
  );
  ipsets.management = [...(ipsets.management ?? []), { cidr: aliases.local_network }];
  const vms: Record<number, CompiledVm> = {};
  for (const vm of config.vms) {
    const nics: CompiledVm['nics'] = {};
    for (const [key, value] of Object.entries(vm.config)) {
      if (!/^net\d+$/.test(key)) continue;
      const net = parseNetProperty(value);
      nics[key] = { firewall: net.firewall === '1', ...(net.macaddr ? { macaddr: net.macaddr.toUpperCase() } : {}) };
    }
    vms[vm.vmid] = { options: clone(vm.firewall.options), rules: clone(vm.firewall.rules), nics };
  }
  return {
    enabled: true,
    clusterOptions: clone(cluster.options),
    hostOptions: clone(node.options),
    hostRules: clone(node.rules),
    clusterRules: clone(cluster.rules),
    groups: Object.fromEntries([...cluster.groups].map(([name, group]) => [name, clone(group.rules)])),
    ipsets,
    aliases,
    vms,
  };
}

const digest = (compiled: CompiledFirewall): string => createHash('sha1').update(JSON.stringify(compiled)).digest('hex');

/** `pve-firewall status` (pve_firewall.pm `status`): enabled in cluster.fw, the daemon running, changes pending. */
export interface FirewallStatus {
  enable: boolean;
  status: 'running' | 'stopped';
  changes: boolean;
}

/** The daemon: the active ruleset and the loop that replaces it every (scaled) 10 s. */
export class FirewallDaemon {
  private loaded: CompiledFirewall = EMPTY;
  private loadedDigest = digest(EMPTY);
  private timer?: NodeJS.Timeout;
  private running = false;
  private waiters: Array<() => void> = [];
  /** Completed update cycles since the lab was made. */
  cycles = 0;

  constructor(
    private readonly compile: () => CompiledFirewall,
    private readonly taskSeconds: () => number,
    private readonly clusterEnabled: () => boolean,
  ) {}

  /** The ruleset in force: what the last cycle loaded. */
  get active(): CompiledFirewall {
    return this.loaded;
  }

  /** The cycle length in simulated time. */
  cycleSeconds(): number {
    return scaledSeconds(FIREWALL_UPDATE_SECONDS, this.taskSeconds());
  }

  /** Starts the loop (the node's pve-firewall.service), without an update now: the node has been running. */
  start(): void {
    this.running = true;
    this.schedule();
  }

  /** Ends the loop (the simulator shuts down); the loaded ruleset stays as it is. */
  stop(): void {
    this.running = false;
    this.unschedule();
  }

  /**
   * For tests: the service keeps running but its next cycle waits until `release()` (or an explicit `runCycle()`),
   * so "before the next cycle" lasts as long as a test needs, whatever the machine's load.
   */
  hold(): () => void {
    this.unschedule();
    return () => {
      if (this.running) this.schedule();
    };
  }

  /** `pve-firewall start|restart`: the daemon's loop begins with an update, so the configuration applies now. */
  serviceStart(): void {
    this.unschedule();
    this.runCycle();
    this.start();
  }

  /** `pve-firewall stop`: the daemon removes PVE's chains (pve_firewall.pm shutdown → remove_pvefw_chains). */
  serviceStop(): void {
    this.stop();
    this.loaded = EMPTY;
    this.loadedDigest = digest(EMPTY);
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.runCycle(), Math.max(1, this.cycleSeconds() * 1000));
    this.timer.unref();
  }

  private unschedule(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One update: compile the configuration and load it (Firewall.pm update → apply_ruleset). */
  runCycle(): void {
    this.loaded = this.compile();
    this.loadedDigest = digest(this.loaded);
    this.cycles++;
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves after the next completed cycle (tests wait on this condition rather than on a duration). */
  nextCycle(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The changes are only computed for a running daemon (pve_firewall.pm status). */
  status(): FirewallStatus {
    return { enable: this.clusterEnabled(), status: this.running ? 'running' : 'stopped', changes: this.running && digest(this.compile()) !== this.loadedDigest };
  }
}
