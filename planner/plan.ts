// The plan artifact: an immutable value made by pure functions. Apply replays exactly these actions.

export const PLAN_FORMAT_VERSION = 1;

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
  | 'vm.haos.import';

/** Where an action runs: the Proxmox API, the node's shell, inside a guest, or the Tailscale API. */
export type ActionChannel = 'pve' | 'host' | 'guest' | 'tailnet';

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
  | { channel: 'pve'; requests: PveRequest[]; revert?: PveRequest[] }
  | { channel: 'host'; step: string; args: Record<string, unknown> }
  | { channel: 'guest'; vmid: number; step: string; args: Record<string, unknown> }
  | { channel: 'tailnet'; op: 'routes.approve'; hostname: string; routes: string[] };

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
