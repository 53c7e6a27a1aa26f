// The composition root behind `/jarvis`: the JarvisServices port (commands/services.ts) implemented by the use cases
// in app/use-cases/, over one lab (real or simulated) and one apply store. Chat, console and the demo use it.
//
//   plan, getPlan, drift ─► use-cases/plans.ts       dryRun, apply ─► use-cases/apply.ts
//   status, backups, check ─► use-cases/reports.ts    snapshots, planRollback, planBackupRetry ─► use-cases/recovery.ts
//   lock, unlock, freeze, unfreeze, gates ─► use-cases/gates.ts
//   taskLog, snoozeAlert ─► use-cases/alert-actions.ts   history ─► use-cases/history.ts
import { isAbsolute, join, resolve } from 'node:path';
import type { JarvisServices } from '../commands/services.ts';
import type { ApprovalAuditEvent } from '../commands/approvals/state-machine.ts';
import { applyDbPath } from '../deploy/db.ts';
import { Journal } from '../deploy/journal.ts';
import type { JarvisConfig } from '../lib/config.ts';
import type { Lab } from './lab.ts';
import { snoozeAlert, taskLogTail } from './use-cases/alert-actions.ts';
import { applyApprovedPlan, dryRunPlan } from './use-cases/apply.ts';
import type { UseCaseContext } from './use-cases/context.ts';
import { ManualLock, freezeLab, gateState, lockLab, unfreezeLab, unlockLab } from './use-cases/gates.ts';
import { planHistory } from './use-cases/history.ts';
import { getPlan, planDrift, savePlan } from './use-cases/plans.ts';
import { listSnapshots, planBackupRetry, planRollback } from './use-cases/recovery.ts';
import { backupsReport, checkSpecs, statusReport } from './use-cases/reports.ts';

export interface ServicesOptions {
  lab: Lab;
  config: JarvisConfig;
  /** The repository (specs/ lives here). */
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Narration of long work (scans) for logs. */
  log?: (line: string) => void;
}

export interface RunningServices {
  services: JarvisServices;
  /** The apply store; its audit trail also records chat approvals. */
  journal: Journal;
  dataDir: string;
  close(): void;
}

export function createServices(options: ServicesOptions): RunningServices {
  const { lab, config, cwd, env, log } = options;
  const dataDir = isAbsolute(config.dataDir) ? config.dataDir : resolve(cwd, config.dataDir);
  const journal = Journal.open(applyDbPath(dataDir));
  const ctx: UseCaseContext = {
    lab,
    config,
    cwd,
    env,
    ...(log ? { log } : {}),
    dataDir,
    plansDir: join(dataDir, 'plans'),
    journal,
    manualLock: new ManualLock(journal),
  };

  const services: JarvisServices = {
    plan: (phase, requester) => savePlan(ctx, phase, requester),
    getPlan: (planId) => getPlan(ctx, planId),
    dryRun: (planId) => dryRunPlan(ctx, planId),
    apply: (planId, opts) => applyApprovedPlan(ctx, planId, opts),
    status: () => statusReport(ctx),
    backups: () => backupsReport(ctx),
    check: () => checkSpecs(ctx),
    drift: (requester) => planDrift(ctx, requester),
    snapshots: (vmid) => listSnapshots(ctx, vmid),
    planRollback: (vmid, snapshot, requester) => planRollback(ctx, vmid, snapshot, requester),
    planBackupRetry: (vmid, requester) => planBackupRetry(ctx, vmid, requester),
    taskLog: (upid) => taskLogTail(ctx, upid),
    snoozeAlert: async (key, hours, requester) => snoozeAlert(ctx, key, hours, requester),
    gates: async () => gateState(journal),
    lock: async (requester, reason) => lockLab(ctx, requester, reason),
    unlock: async (requester, options) => unlockLab(ctx, requester, options),
    freeze: async (requester, reason) => freezeLab(ctx, requester, reason),
    unfreeze: async (requester) => unfreezeLab(ctx, requester),
    history: async (limit) => planHistory(journal, limit, { now: Date.now(), ttlMs: config.approvalTtlMinutes * 60_000 }),
  };

  return { services, journal, dataDir, close: () => journal.close() };
}

/** Chat approval decisions (commands/approvals/state-machine.ts) into the hash-chained audit trail, refusals included. */
export function approvalAuditor(journal: Journal): (event: ApprovalAuditEvent) => void {
  return (event) => {
    journal.audit({
      kind: 'approval',
      planId: event.planId,
      ...(event.planHash ? { planHash: event.planHash } : {}),
      ...(event.actor ? { actor: event.actor } : {}),
      data: { type: event.type, via: event.via ?? null, outcome: event.outcome, reason: event.reason ?? null },
    });
  };
}
