// The apply engine's contract with its callers (CLI, chat) and with the ports it drives. Everything the engine touches
// is passed in, so tests can run it against an in-memory Proxmox and the CLI against the real client.
import type { TargetReading } from '../planner/index.ts';
import type { PlanViolation, PveRequest } from '../planner/plan.ts';
import type { ProxmoxApi } from '../infra/proxmox/api.ts';
import type { RemoteShell } from '../infra/shell.ts';
import type { TailnetApi } from '../infra/tailscale/api.ts';
import type { Journal } from './journal.ts';
import type { SecretSource, Step } from './steps/types.ts';

/** The part of the Proxmox API apply uses, plus raw replay of a plan's requests. */
export type ApplyPve = Pick<
  ProxmoxApi,
  | 'node'
  | 'clusterResources'
  | 'vmConfig'
  | 'vmStatus'
  | 'listSnapshots'
  | 'createSnapshot'
  | 'deleteSnapshot'
  | 'vzdump'
  | 'listTasks'
  | 'waitForTask'
  | 'listNetwork'
  | 'revertNetwork'
  | 'listZfsPools'
  | 'listStorage'
  | 'listDirMappings'
  | 'firewallRules'
  | 'firewallGroups'
  | 'firewallGroupRules'
  | 'firewallIpsets'
  | 'firewallIpsetEntries'
  | 'firewallAliases'
  | 'listBackupJobs'
  | 'agentPing'
  | 'agentExec'
  | 'agentExecStatus'
  | 'storageContent'
> & {
  /** Sends one request exactly as given (path below /api2/json); returns PVE's `data` (a UPID for task calls). */
  request(method: PveRequest['method'], path: string, params: PveRequest['params']): Promise<unknown>;
};

export interface ValidationProbe {
  name: string;
  /** Fingerprint key of the target the probe is about, so it counts for that target's actions. */
  targetKey?: string;
  ok: boolean;
  detail: string;
  /** It failed because a read failed or went unanswered (a 5xx, a guest agent that did not answer): worth re-reading. */
  unreadable?: boolean;
}

/** Re-scan after apply: what the planner would still do for the same spec, and the health probes. */
export interface ValidationReport {
  remaining: Array<{ actionId: string; targetKey: string; summary: string }>;
  /** Manual steps the re-plan still lists: the owner's to do, not a failure of the apply. */
  waiting?: Array<{ actionId: string; summary: string; instructions: string[] }>;
  /** What the re-plan still lists behind one of those steps (a NIC move behind the router gate): blocked, not failed. */
  blocked?: Array<{ actionId: string; targetKey: string; summary: string; waitsFor: string }>;
  probes: ValidationProbe[];
  /** Facts the re-scan could not read about targets this plan did not touch: reported, not held against it. */
  unverified?: Array<{ what: string; reason: string }>;
}

export interface ApplyContext {
  pve: ApplyPve;
  shells: { host?: RemoteShell; guest(vmid: number): RemoteShell | undefined };
  tailnet?: TailnetApi;
  /** deploy/steps/registry.ts getStep. */
  steps: (id: string) => Step;
  /** Passed to every step's apply (auth keys by reference). */
  stepSecrets: SecretSource;
  journal: Journal;
  /** Current fingerprints of the given targets and which could not be read (the planner's readTargets). */
  fingerprint: (targetKeys: string[]) => Promise<TargetReading>;
  validate: () => Promise<ValidationReport>;
  /**
   * The plan guardrails run again on the plan's spec and the live lab (planner/recheck.ts), right before the first
   * write: a plan file's own `violations` are not trusted. Throws when what they need cannot be read.
   */
  guardrails: () => Promise<PlanViolation[]>;
  /** Who asks (chat user or CLI login) and through what; both go to the audit trail. */
  requester: string;
  via: 'cli' | 'chat';
  approved: boolean;
  approvals?: Array<{ by: string; at: string; note?: string }>;
  dryRun: boolean;
  onProgress: (event: ApplyEvent) => void;
  probeManagement: () => Promise<{ ok: boolean; detail: string }>;
  /** How long a commit-confirmed change may leave management unreachable before it is reverted (default 60 s). */
  confirmWindowMs: number;
  /** pve-firewall's update cycle (pve_firewall.pm `$updatetime = 10` s): a firewall change is in force only after it. */
  firewallCycleMs: number;
  /** `pve-firewall status` on the node (over SSH): whether the daemon has loaded the configuration written. */
  firewallStatus?: () => Promise<{ pending: boolean; line: string }>;
  /** Jarvis's own `jarvis-pre-*` snapshots kept per VM. */
  snapshotRetention: number;
  /** When a VM's storage cannot snapshot: back it up with vzdump (default), or refuse the action. */
  snapshotFallback?: 'vzdump' | 'refuse';
  /** Storage for the vzdump fallback; PVE's default when absent. */
  backupStorage?: string;
  /** Longest wait for one Proxmox task before the apply stops and reports it (default 2 h). */
  taskTimeoutMs?: number;
  /** Independent actions run side by side up to this bound (default 3). */
  concurrency?: number;
  now: () => number;
  /** Pauses between attempts (management probes, tailnet retries, re-reads of targets); real timers when absent. */
  sleep?: (ms: number) => Promise<void>;
}

export type ApplyEvent =
  | { type: 'apply.started'; planId: string; actions: number; resumed: number }
  | { type: 'action.started'; actionId: string; target: string; index: number; total: number }
  | { type: 'action.finished'; actionId: string; target: string; detail: string; durationMs: number }
  | { type: 'action.failed'; actionId: string; target: string; error: string; logTail: string[] }
  | { type: 'action.skipped'; actionId: string; target: string; reason: string }
  | { type: 'action.reverted'; actionId: string; target: string; detail: string }
  /** A long wait inside an action (the guest agent after a boot), reported while it lasts. */
  | { type: 'action.progress'; actionId: string; target: string; detail: string }
  /** A manual step the owner has not done yet: the rest of the plan goes on. */
  | { type: 'action.waiting'; actionId: string; target: string; instructions: string[] }
  | { type: 'snapshot.taken'; actionId: string; vmid: number; name: string; kind: 'snapshot' | 'vzdump' }
  | { type: 'snapshot.pruned'; vmid: number; name: string }
  | { type: 'task.log'; actionId: string; line: string }
  | { type: 'confirm.probe'; actionId: string; ok: boolean; detail: string }
  | { type: 'validation'; ok: boolean; detail: string }
  | { type: 'warning'; message: string }
  | { type: 'apply.finished'; status: ApplyStatus };

/** `waiting-for-owner`: everything Jarvis does is applied and validated; manual steps of the owner remain. */
export type ApplyStatus = 'applied' | 'waiting-for-owner' | 'refused' | 'failed' | 'unreachable' | 'dry-run';

/** `unreadable`: a target could not be read before the first write (nothing changed; the same apply may be retried). */
export type RefusalCode = 'not-approved' | 'locked' | 'stale' | 'unreadable' | 'frozen' | 'format' | 'violations' | 'reverted-before' | 'uncertain' | 'missing-secret';

export interface Refusal {
  code: RefusalCode;
  message: string;
  /** For `stale`: each target whose fingerprint moved since the plan. */
  moved?: Array<{ targetKey: string; planned: string | null; now: string | null; /** The plan's actions on it that would have run. */ actions: string[] }>;
  /** For `unreadable`: each target that could not be read after a few attempts, with the last cause. */
  unreadable?: Array<{ targetKey: string; reason: string }>;
}

export type ActionOutcome = 'done' | 'already-done' | 'waiting' | 'failed' | 'reverted' | 'refused' | 'not-run';

export interface ActionReport {
  actionId: string;
  target: string;
  outcome: ActionOutcome;
  /** Proxmox (or the shell / tailnet) accepted every write of the action. */
  accepted: boolean;
  /** The re-scan confirms it: nothing left to do for its target, and its probes pass. Undefined without validation. */
  achieved?: boolean;
  detail: string;
  logTail: string[];
  durationMs: number;
}

export interface DryRunRequest {
  purpose: 'pre-snapshot' | 'action' | 'revert';
  method: string;
  path: string;
  params: Record<string, unknown>;
  async: boolean;
  schema: { ok: true; template: string } | { ok: false; status: number; errors: Record<string, string> };
}

export interface DryRunAction {
  actionId: string;
  target: string;
  requests: DryRunRequest[];
  /** Host/guest steps and tailnet operations, described instead of sent. */
  operations: string[];
}

export interface ApplyReport {
  planId: string;
  planHash: string;
  status: ApplyStatus;
  refusal?: Refusal;
  actions: ActionReport[];
  snapshots: Array<{ vmid: number; name: string; kind: 'snapshot' | 'vzdump'; actionId: string }>;
  validation?: ValidationReport & { ok: boolean };
  /** `stale`: targets moved since the plan; `violations`: the plan guardrails, run again, refuse it. */
  dryRun?: { actions: DryRunAction[]; schemaErrors: number; stale?: Refusal; violations?: Refusal };
  /** What to do next, in order: commands, rollback hints, snapshot names. */
  next: string[];
}
