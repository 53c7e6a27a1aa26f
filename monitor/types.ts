// Platform-neutral shapes of the monitor: a status snapshot and an alert. bot/ renders them per platform (colour by
// level, compact fields, buttons); the CLI renders them as text (monitor/status.ts renderStatusText). Plain data only,
// so a report can be sent as JSON (`jarvis status --json`) and stored (alert de-duplication).
import type { Fact } from '../planner/state.ts';

export type { Fact };

/** ok: nothing to do; warn: look soon; critical: act now; unknown: Jarvis could not read it. */
export type Level = 'ok' | 'warn' | 'critical' | 'unknown';

/** One thing that needs the owner, named in the headline. */
export interface Attention {
  level: 'warn' | 'critical' | 'unknown';
  /** Short, e.g. `backup of VM 300 (media) failed 3 h ago`. */
  text: string;
  /** Which section of the report it comes from. */
  section: 'node' | 'storage' | 'vms' | 'backups' | 'zfs' | 'datasets' | 'tailnet' | 'gates' | 'drift' | 'watchers';
}

export interface NodeSummary {
  name: string;
  /** e.g. `pve-manager/8.2.4/faa83925`. */
  pveVersion: string;
  /** 0..1 */
  cpu: number;
  cpus?: number;
  memory: { used: number; total: number };
  uptimeSeconds: number;
  loadavg?: string[];
}

export interface StorageSummary {
  storage: string;
  type: string;
  content: string[];
  active: boolean;
  used?: number;
  total?: number;
  /** 0..100, one decimal. */
  usedPercent?: number;
  level: Level;
  /** Why it is not ok (above threshold, inactive, backups on the SSD). */
  notes: string[];
}

export interface VmSummary {
  vmid: number;
  name: string;
  status: string;
  uptimeSeconds?: number;
  tags: string[];
  /** Guest agent enabled (from the VM's current status; read for running VMs only, undefined = not read). */
  agent?: boolean;
  lock?: string;
  template: boolean;
  cpu?: number;
  memory?: { used: number; total: number };
  /** In the managed spec (or, without one, selected by a backup job): status lists it; the others are counted. */
  managed: boolean;
}

/** One VM's backup outcome as read from a vzdump task (and its log for multi-guest runs). */
export interface BackupOutcome {
  vmid: number;
  upid: string;
  ok: boolean;
  /** Unix seconds: end of the task (or start when still running). */
  at: number;
  durationSeconds?: number;
  jobId?: string;
  /** The error line for a failure. */
  error?: string;
}

export interface VmBackupSummary {
  vmid: number;
  name: string;
  last?: { at: string; ageHours: number; ok: boolean; upid: string; error?: string };
  lastGood?: { at: string; ageHours: number; upid: string };
  /** Backup jobs whose selection includes this VM. */
  jobs: string[];
  /** ISO time of the first backup of a guest younger than one run interval of its job (its job's next run). */
  firstBackupDue?: string;
  level: Level;
  note?: string;
}

export interface BackupsSummary {
  /** How far back the task history was read; older backups are not seen. */
  windowHours: number;
  perVm: VmBackupSummary[];
  notCovered: Array<{ vmid: number; name?: string; type: string }>;
  jobs: Array<{ id: string; schedule?: string; storage?: string; enabled: boolean; selection: string }>;
  /**
   * Failed vzdump tasks in the window, newest first. `recovered`: each of its VMs had a good backup since, so it is
   * history; the others are what a retry or a look at the log (by UPID) is for.
   */
  failedTasks: Array<{ upid: string; vmids: number[]; at: string; ageHours: number; error: string; jobId?: string; recovered: boolean }>;
}

/** A watcher loop (the bot's, or `jarvis watch`) as its heartbeat in the alert store tells it. */
export interface WatcherSummary {
  /** `bot` or `watch`. */
  name: string;
  /** Seconds between two rounds of its schedule. */
  everySeconds: number;
  /** ISO time of its last completed round; absent until the first one completes. */
  lastRoundAt?: string;
  /** ISO time it started. */
  since: string;
  /** ok; critical when no round completed in twice its interval (it is stuck, or died without saying so). */
  level: 'ok' | 'critical';
}

export interface ZfsPoolStatus {
  name: string;
  health: string;
  size: number;
  alloc: number;
  usedPercent: number;
  level: Level;
  detail?: string;
}

export interface DatasetStatus {
  name: string;
  newestSnapshot?: { name: string; at: string; ageHours: number };
  /** The dataset has a snapshot policy, so a missing/old snapshot matters. */
  policy?: string;
  level: Level;
}

export interface TailnetSummary {
  devices: Array<{ hostname: string; online: boolean; expires?: string; keyExpiryDisabled: boolean; addresses: string[] }>;
  online: number;
  total: number;
  keysExpiringSoon: Array<{ hostname: string; expires: string; inDays: number }>;
  routesAwaitingApproval: Array<{ hostname: string; routes: string[] }>;
  /** Policy `nodeAttrs` targets granted `funnel`: public exposure, which breaks the Tailscale-only rule. */
  funnelTargets: string[];
}

export interface PendingPlanSummary {
  id: string;
  phase: string;
  createdAt: string;
  actions: number;
  maxRisk: string;
}

export interface GateSummary {
  lock?: { holder: string; since: string; reason?: string };
  freeze?: { by: string; since: string; reason?: string };
  pendingPlans: PendingPlanSummary[];
}

/** Drift between the spec and the lab, as a scheduled plan found it. */
export interface DriftSummary {
  phase: string;
  /** Changes the plan would make to bring the lab back to the spec. */
  actionCount: number;
  /** One line per action, e.g. `~ vm/100 (edge-gateway): tags`. */
  lines: string[];
  /** Stable over identical drift (the plan hash or a hash of the lines): alerts fire when it changes. */
  hash: string;
  planId?: string;
  /** ISO time of the scan (the status shows the watcher's last result). */
  checkedAt?: string;
}

export interface StatusReport {
  generatedAt: string;
  level: 'ok' | 'warn' | 'critical';
  /** Jarvis could not read Proxmox (unreachable, TLS pin, 401/403, timeout): why, and the fix. The report is critical then. */
  unreadable?: { reason: string; fix: string };
  /** `all good` or `N things need attention: a; b; c`. */
  headline: string;
  attention: Attention[];
  node: Fact<NodeSummary>;
  storages: Fact<StorageSummary[]>;
  vms: Fact<VmSummary[]>;
  backups: Fact<BackupsSummary>;
  zfsPools: Fact<ZfsPoolStatus[]>;
  /** Absent when no host facts were given (datasets are not in the Proxmox API). */
  datasets?: Fact<DatasetStatus[]>;
  /** Absent when no tailnet is configured. */
  tailnet?: Fact<TailnetSummary>;
  gates: GateSummary;
  drift?: Fact<DriftSummary>;
  /** The watcher loops that run in this data dir (absent when none ever ran here). */
  watchers?: WatcherSummary[];
  /** Proxmox requests the snapshot cost. */
  proxmoxRequests: number;
}

export type Severity = 'info' | 'warning' | 'critical';

/** A button. `id` is `verb:argument`: `show-log:<upid>`, `plan-retry:<vmid>`, `plan-fix:<phase>`, `snooze:<key>`. */
export interface AlertAction {
  id: string;
  label: string;
}

export type AlertKind =
  | 'backup-failed'
  | 'backup-missing'
  | 'snapshot-stale'
  | 'storage-full'
  | 'pool-unhealthy'
  | 'tailnet-key-expiring'
  | 'funnel-exposure'
  | 'drift'
  | 'lab-unreadable'
  | 'watcher-stalled'
  | 'recovered'
  | 'test';

export interface Alert {
  /** De-duplication key: `backup-failed:<upid>`, `backup-missing:<vmid>`, `drift`, … */
  key: string;
  kind: AlertKind;
  severity: Severity;
  title: string;
  /** Compact facts, one per line (`VM: 300 (media)`, `error: …`, `duration: 2 min 3 s`). */
  lines: string[];
  /** The task log's tail, for a failed backup. */
  logTail?: string[];
  actions: AlertAction[];
  /** ISO time the watcher raised it. */
  raisedAt: string;
  /** For alerts that fire on change (drift): the value whose change matters. */
  fingerprint?: string;
}
