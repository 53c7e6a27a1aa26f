// The plan artifact: an immutable value made by pure functions. Apply replays exactly these actions.
import type { NetProbe } from '../lib/net-checks.ts';

/** 2: planHash also covers node, summary, warnings, unknowns and violations (planner/artifact.ts computePlanHash). */
export const PLAN_FORMAT_VERSION = 2;

/** A plan id (`plan-20261126-1a2b3c4d`): letters, digits, `_` and `-`, never a `.` or a `/`, so it is never a path. */
export const PLAN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export type Risk = 'low' | 'medium' | 'high' | 'critical';
export const RISK_ORDER: readonly Risk[] = ['low', 'medium', 'high', 'critical'];

export type PlanPhase = 'phase0' | 'phase1' | 'phase2' | 'firewall';

/** What kind of change an action is, for the Terraform-like symbols (+ ~ - -/+). */
export type ChangeKind = 'create' | 'update' | 'delete' | 'replace';

export interface FieldChange {
  path: string;
  from: unknown;
  to: unknown;
}

/** Action types of the catalogue (planner/catalogue.ts gives each its risk, snapshot, rollback and downtime rules). */
export type ActionType =
  | 'vm.create'
  | 'vm.update'
  | 'vm.tags'
  | 'vm.start'
  | 'vm.reboot'
  | 'vm.nic.reattach'
  | 'vm.disk.add'
  | 'vm.disk.resize'
  | 'vm.snapshot'
  | 'vm.rollback'
  | 'network.bridge.create'
  | 'network.apply'
  | 'zfs.pool.create'
  | 'zfs.dataset.create'
  | 'zfs.snapshot.policy'
  | 'storage.add'
  | 'storage.update'
  | 'mapping.dir.create'
  | 'vm.virtiofs.attach'
  | 'migration.data'
  | 'backup.job.create'
  | 'backup.job.update'
  | 'backup.run'
  | 'firewall.options'
  | 'firewall.rule.create'
  | 'firewall.rule.update'
  | 'firewall.rule.delete'
  | 'firewall.group.create'
  | 'firewall.ipset.create'
  | 'firewall.ipset.entry'
  | 'firewall.alias.create'
  | 'firewall.alias.update'
  | 'guest.tailscale.install'
  | 'guest.tailscale.join'
  | 'guest.tailscale.routes'
  | 'tailnet.routes.approve'
  | 'guest.docker.install'
  | 'guest.naas.layout'
  | 'guest.stack.scaffold'
  | 'guest.network.routes'
  | 'guest.packages.install'
  | 'vm.haos.import'
  | 'storage.content'
  | 'image.download'
  | 'vm.cloudinit.vendor'
  | 'host.apt.sources'
  | 'manual.step';

/** Where an action runs: the Proxmox API, the node's shell, inside a guest, the Tailscale API, or the owner's hands. */
export type ActionChannel = 'pve' | 'host' | 'guest' | 'tailnet' | 'owner';

/** How Jarvis sees that the owner did a manual step: it never takes a typed "done" for it. */
export type ManualObservation =
  | { kind: 'tailnet-device-online'; hostname: string }
  | { kind: 'guest-agent-answers'; vmid: number }
  /** The router routes: every probe, run in guest `fromVmid` through its agent, succeeds. */
  | { kind: 'router-routes'; routerVmid: number; fromVmid: number; probes: NetProbe[] };

/** One router interface as the owner assigns it (OPNsense Interfaces ▸ Assignments), by the VM NIC's MAC. */
export interface RouterInterfaceSetup {
  assign: 'WAN' | 'LAN' | `OPT${number}`;
  /** The interface's description in OPNsense; the rules name it. */
  name: string;
  netKey: string;
  mac: string;
  bridge: string;
  /** Static address with prefix (`10.10.20.1/24`). */
  address: string;
  /** WAN: the upstream gateway (the home router). */
  gateway?: string;
  /** The DHCPv4 server's range on this interface. */
  dhcp?: { from: string; to: string };
  /** WAN: OPNsense's "Block private networks"; off, because the LAN side is a private network. */
  blockPrivate?: boolean;
}

/** One firewall rule to enter on the router, in order (pf evaluates the interface's rules first match). */
export interface RouterRuleSetup {
  interface: string;
  action: 'pass' | 'block';
  protocol: 'any' | 'tcp' | 'udp' | 'tcp/udp' | 'icmp';
  /** `any`, a CIDR, `<interface> net` or `<interface> address`. */
  source: string;
  destination: string;
  port?: string;
  description: string;
}

/** What the owner enters in the router, derived from the spec (the manual step shows it as text too). */
export interface RouterSetup {
  vmid: number;
  interfaces: RouterInterfaceSetup[];
  rules: RouterRuleSetup[];
}

/**
 * The connectivity commit-confirm of a NIC move: after the move the guest must take an address in the new segment,
 * reach its gateway and DNS, and keep serving what it served; otherwise the NIC goes back (the action's revert) and
 * the guest takes its old network again.
 */
export interface MoveCheck {
  vmid: number;
  netKey: string;
  /** What the guest runs: Debian renews DHCP with networkd; Home Assistant OS (NetworkManager) is rebooted. */
  os: 'debian-13' | 'haos';
  /** The guest's interface for `networkctl renew` (cloud-init names net0 eth0). */
  iface?: string;
  from: { bridge: string; cidr?: string };
  to: { bridge: string; segment: string; cidr: string; gateway: string; dnsName: string };
  /** Services the spec says the guest serves, each checked from a guest allowed to reach it (or the guest itself). */
  services: Array<{ port: number; what: string; fromVmid: number }>;
  /** The wait for the guest's agent after a reboot (agentWaitSeconds); the checks then get the confirm window. */
  agentWaitSeconds: number;
}

/**
 * The guest agent of `vmid` must answer: a step that works inside a guest waits for it first; a start or reboot waits
 * for it after its task, so the action ends when the guest is really back. Up to the VM's limit (`agentWaitSeconds`).
 */
export interface AgentWait {
  vmid: number;
  seconds: number;
  /** What the guest is expected to be doing meanwhile, for the wait's messages. */
  os: 'debian-13' | 'haos' | 'opnsense' | 'none';
}

/** One Proxmox API request, exactly as apply will send it (path below /api2/json). */
export interface PveRequest {
  method: 'POST' | 'PUT' | 'DELETE';
  path: string;
  params: Record<string, string | number>;
  /** The call starts a task and returns a UPID that apply follows to completion. */
  async: boolean;
}

/**
 * Executor input per channel. Plans are data and apply is a replay: a `pve` action carries the requests themselves
 * (and, for commit-confirmed actions, the requests that restore the previous state); a `host`/`guest` action names a
 * provisioning step of deploy/steps with its arguments; a `tailnet` action names a Tailscale API operation.
 */
export type ActionParams =
  | { channel: 'pve'; requests: PveRequest[]; revert?: PveRequest[]; agentWait?: AgentWait; moveCheck?: MoveCheck }
  | { channel: 'host'; step: string; args: Record<string, unknown>; agentWait?: AgentWait }
  | { channel: 'guest'; vmid: number; step: string; args: Record<string, unknown>; agentWait?: AgentWait }
  | { channel: 'tailnet'; op: 'routes.approve'; hostname: string; routes: string[] }
  | { channel: 'owner'; instructions: string[]; observe: ManualObservation; router?: RouterSetup };

export interface PlanAction {
  /** Stable within a plan and across re-plans of the same change, e.g. `vm.create:100`. */
  id: string;
  type: ActionType;
  kind: ChangeKind;
  channel: ActionChannel;
  /** Human target, e.g. `vm/100 (edge-gateway)`, `bridge/vmbr1`, `firewall/cluster/rule`. */
  target: string;
  /** Fingerprint key of the target in `stateFingerprint` (apply checks it before running). */
  targetKey: string;
  risk: Risk;
  preSnapshot: false | { vmid: number; name: string };
  rollbackHint: string;
  /** Human estimate, e.g. `none`, `~30 s (reboot)`, `~2 min`. */
  expectedDowntime: string;
  expectedDowntimeSeconds: number;
  dependsOn: string[];
  changes: FieldChange[];
  /** Executor input: everything needed to perform the action, no secrets (secret references by name only). */
  params: ActionParams;
  /** Firewall and network actions are commit-confirmed. */
  commitConfirm: boolean;
  note?: string;
}

export interface PlanViolation {
  ruleId: string;
  message: string;
  actionId?: string;
  location?: string;
}

export interface PlanWarning {
  code: string;
  message: string;
  actionId?: string;
}

export interface PlanSummary {
  create: number;
  update: number;
  delete: number;
  replace: number;
  noop: number;
  byRisk: Record<Risk, number>;
  maxRisk: Risk | 'none';
  expectedDowntime: string;
  expectedDowntimeSeconds: number;
}

export interface Plan {
  formatVersion: number;
  id: string;
  createdAt: string;
  requestedBy: string;
  phase: PlanPhase;
  node: string;
  spec: { path: string; sha256: string };
  /** Per-target fingerprints (VM config digests, firewall digests, hashes of other facts). */
  stateFingerprint: Record<string, string>;
  planHash: string;
  summary: PlanSummary;
  /** Facts the scan could not read: the plan says so instead of guessing. */
  unknowns: Array<{ what: string; reason: string }>;
  warnings: PlanWarning[];
  violations: PlanViolation[];
  /** In execution order. */
  actions: PlanAction[];
}
