// The port between the `/jarvis` command handlers and the rest of Jarvis (planner, apply engine, status, lock).
// Handlers only see this interface; app/services.ts implements it with the use cases of app/use-cases/, tests pass a fake.
// Every result is platform-neutral data: commands/ renders it into a Reply, bot/ renders the Reply per platform.
import type { Plan, PlanPhase, PlanViolation } from '../planner/plan.ts';

/** Where a request came from. */
export type Platform = 'discord' | 'slack' | 'console' | 'cli';

/**
 * Who asks. `id` is the platform's immutable id (Discord snowflake, Slack user id); authorization uses only
 * `platform:id` (see qualifiedId), never `displayName`, which is for replies.
 */
export interface Requester {
  platform: Platform;
  id: string;
  displayName: string;
  /** Discord role ids or Slack user-group ids the adapter resolved for this user (for approver groups). */
  groups?: readonly string[];
}

/** `discord:1234`, `slack:U123`: the form used in JARVIS_APPROVERS, locks, audit and plans' `requestedBy`. */
export const qualifiedId = (who: Pick<Requester, 'platform' | 'id'>): string => `${who.platform}:${who.id}`;

/** An expected failure of a service call: becomes a reply, never an exception. */
export interface ServiceRefusal {
  ok: false;
  /** invalid: bad argument; refused: guardrails/lock/freeze/stale; unreachable: lab down; not-found: unknown id. */
  code: 'invalid' | 'refused' | 'unreachable' | 'not-found' | 'locked' | 'frozen' | 'stale';
  message: string;
  /** Guardrail violations when a plan was refused. */
  violations?: readonly PlanViolation[];
  /** The refused plan, when one was built (violations are part of it). */
  plan?: Plan;
  /** The command that helps next, when it is not the usual one for `code` (commands/handlers/refusal.ts). */
  next?: string;
}

/** A plan made and saved; `markdown` is the full human twin (attached as a file when a message cannot hold it). */
export type PlanResult = { ok: true; plan: Plan; markdown: string } | ServiceRefusal;

/** What a dry run found: the requests apply would send, checked against the Proxmox schema, without writing. */
export interface DryRunReport {
  ok: boolean;
  planId: string;
  /** One line per action, e.g. `✓ vm.create:100 — 2 requests valid`. */
  lines: string[];
  problems: string[];
}

/** One recorded approval that apply receives; apply checks that it binds to the plan it runs. */
export interface ApprovalRecord {
  /** Qualified id (`discord:1234`). */
  approver: string;
  planId: string;
  planHash: string;
  /** planContentHash (planner/artifact.ts) of the whole plan as it was shown to the approver. */
  contentHash: string;
  /** ISO time. */
  at: string;
  via: 'reaction' | 'button' | 'text' | 'typed-confirmation';
}

/** Apply progress, emitted as each action starts and ends; the adapter edits one message with it. */
export interface ApplyProgress {
  actionId: string;
  target: string;
  /** `waiting`: a manual step the owner has not done yet (the apply goes on). */
  state: 'started' | 'done' | 'failed' | 'skipped' | 'waiting';
  /** 1-based position and total, for "3/7". */
  index: number;
  total: number;
  detail?: string;
}

export interface ApplyReport {
  /**
   * applied: all actions ran and validation re-planned to nothing; failed: stopped (journal has where); not-started:
   * a target could not be read before the first write, nothing changed and the plan stays approved for another try.
   */
  outcome: 'applied' | 'failed' | 'refused' | 'not-started';
  planId: string;
  message: string;
  completed: string[];
  failed?: { actionId: string; error: string };
  /** The re-scan after apply found nothing left to do (or, for a rollback/backup retry, its VM checks pass). */
  validated: boolean;
  /** How it was validated: re-planning the spec (default), or probing the VM of a rollback/backup retry. */
  validatedBy?: 'rescan' | 'vm-checks';
  /** Rollback hints of the actions that ran, most recent first, for a failed apply. */
  rollbackHints?: string[];
  /** Manual steps left to the owner (applied: Jarvis's part is done and validated; these are not failures). */
  waitingForOwner?: Array<{ step: string; instructions: string[] }>;
}

export interface ApplyOptions {
  approvals: readonly ApprovalRecord[];
  /**
   * The plan exactly as it was shown and approved (planContent, kept by the approval store): apply runs this content
   * and refuses, as tampered, a saved plan file whose content differs from it.
   */
  approvedPlan: string;
  requester: Requester;
  onProgress?: (event: ApplyProgress) => void;
}

/** A next step a report offers: a button on chat, the command it stands for on the console. */
export type FollowUp = { kind: 'plan-fix'; phase: PlanPhase } | { kind: 'plan-retry'; vmid: number } | { kind: 'show-log'; upid: string; label: string };

/** A generic read-only report (status, backups, check, drift): headline first, then titled sections. */
export interface Report {
  level: 'ok' | 'warn' | 'critical';
  headline: string;
  sections: Array<{ title: string; lines: string[] }>;
  /** drift: the plan that would bring the lab back, when one was made. */
  planId?: string;
  /** Plans worth making from what the report found (drift to fix, backups to retry). */
  followUps?: FollowUp[];
}

/** The tail of a Proxmox task's log (an alert's "Show log"). */
export interface TaskLog {
  upid: string;
  /** `running`, `OK`, or the task's error status. */
  status: string;
  /** The last lines, oldest first. */
  lines: string[];
  /** Lines of the whole log (more than `lines` when it was cut). */
  total: number;
}

export interface SnapshotList {
  vmid: number;
  name?: string;
  /** `incomplete`: the snapshot's snapstate (`prepare`, `delete`) when it is half made and cannot be rolled back to. */
  snapshots: Array<{ name: string; createdAt?: string; description?: string; incomplete?: string }>;
}

/** The lab's change gates. lock: one holder may apply; freeze: nobody may apply until unfreeze. */
export interface GateState {
  lock?: { holder: string; since: string; reason?: string };
  freeze?: { by: string; since: string; reason?: string };
}

export type GateResult = { ok: true; state: GateState } | ServiceRefusal;

export interface HistoryEntry {
  at: string;
  planId: string;
  /** The plan's phase, `rollback` / `backup-retry` for those plans, `?` when only its apply was recorded. */
  phase: string;
  requestedBy: string;
  /** Approvals that counted; empty for a rejected plan. */
  approvedBy: string[];
  /**
   * pending: awaits a decision (within the approval TTL); superseded: replaced by a newer plan; no-change: nothing
   * to do; drift: made by /jarvis drift to show differences, never offered for approval.
   */
  outcome: 'pending' | 'applying' | 'not-started' | 'applied' | 'waiting-for-owner' | 'failed' | 'refused' | 'rejected' | 'expired' | 'superseded' | 'no-change' | 'drift';
  summary: string;
}

/** The services a `/jarvis` command can call. All methods are safe to call concurrently. */
export interface JarvisServices {
  /** Scan the lab, build and save a plan for a phase (`requestedBy` = qualifiedId(requester)). */
  plan(phase: PlanPhase, requester: Requester): Promise<PlanResult>;
  /** A saved plan by id, with its Markdown; undefined if unknown. */
  getPlan(planId: string): Promise<{ plan: Plan; markdown: string } | undefined>;
  dryRun(planId: string): Promise<DryRunReport | ServiceRefusal>;
  /** Apply an approved plan; the caller has checked the approvals, apply checks they bind to it, then staleness. */
  apply(planId: string, options: ApplyOptions): Promise<ApplyReport>;
  status(): Promise<Report>;
  backups(): Promise<Report>;
  /** Validate the specs (schema + guardrails). */
  check(): Promise<Report>;
  drift(requester: Requester): Promise<Report>;
  snapshots(vmid: number): Promise<SnapshotList | ServiceRefusal>;
  /** A plan that rolls `vmid` back to `snapshot` (approved and applied like any plan). */
  planRollback(vmid: number, snapshot: string, requester: Requester): Promise<PlanResult>;
  /** A plan that backs `vmid` up now, as its backup job would (an alert's "Plan a retry"). */
  planBackupRetry(vmid: number, requester: Requester): Promise<PlanResult>;
  /** The tail of a task's log, by UPID. */
  taskLog(upid: string): Promise<TaskLog | ServiceRefusal>;
  /** No alert for `key` for `hours` (the alert store's snooze); `until` is ISO time. */
  snoozeAlert(key: string, hours: number, requester: Requester): Promise<{ ok: true; key: string; until: string } | ServiceRefusal>;
  gates(): Promise<GateState>;
  lock(requester: Requester, reason?: string): Promise<GateResult>;
  /** Releases the lab lock: its holder may; someone else only with `force` (audited). */
  unlock(requester: Requester, options?: { force?: boolean }): Promise<GateResult>;
  freeze(requester: Requester, reason?: string): Promise<GateResult>;
  unfreeze(requester: Requester): Promise<GateResult>;
  history(limit: number): Promise<HistoryEntry[]>;
}
