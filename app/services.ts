// The composition root behind `/jarvis`: the JarvisServices port (commands/services.ts) implemented with the real
// planner, apply engine, monitor and stores, over one lab (real or simulated). Chat, console and the demo use it.
import { readdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type {
  ApplyOptions,
  ApplyProgress,
  ApplyReport as ChatApplyReport,
  DryRunReport,
  FollowUp,
  GateResult,
  GateState,
  HistoryEntry,
  JarvisServices,
  PlanResult,
  Report,
  Requester,
  ServiceRefusal,
  SnapshotList,
  TaskLog,
} from '../commands/services.ts';
import { qualifiedId } from '../commands/services.ts';
import type { ApprovalAuditEvent } from '../bot/approvals.ts';
import { writePlanFiles } from './plan-files.ts';
import { createApplyContext, loadPlanSpec } from '../deploy/context.ts';
import { applyDbPath } from '../deploy/db.ts';
import { applyPlan } from '../deploy/engine.ts';
import { Journal } from '../deploy/journal.ts';
import { acquireApplyLock, freeze, freezeState, readLockHolder, unfreeze, type ApplyLock } from '../deploy/lock.ts';
import { loadPlan } from '../deploy/plan-file.ts';
import type { ApplyEvent, ApplyReport } from '../deploy/types.ts';
import type { JarvisConfig } from '../lib/config.ts';
import { JarvisError, InputError, UnreachableError } from '../lib/errors.ts';
import { AlertStore } from '../monitor/alert-store.ts';
import { jobCovers } from '../monitor/backups.ts';
import { collect } from '../monitor/collect.ts';
import { readGates } from '../monitor/gates.ts';
import { statusToReport } from '../monitor/report.ts';
import { buildStatus } from '../monitor/status.ts';
import type { DriftSummary, StatusReport } from '../monitor/types.ts';
import { known } from '../planner/state.ts';
import { historyHours } from '../monitor/watch.ts';
import { renderPlanMarkdown } from '../planner/index.ts';
import type { Plan, PlanPhase } from '../planner/plan.ts';
import { formatDiagnostic } from '../planner/spec/diagnostic.ts';
import { checkSpec } from '../planner/spec/guardrails.ts';
import { loadSpec, readSpecFile } from '../planner/spec/load.ts';
import { buildBackupRunPlan, buildRollbackPlan, isSpecialPlan, type SpecialPlanBase } from '../planner/special-plans.ts';
import type { Lab } from './lab.ts';
import { PHASE_SPECS, PLAN_PHASES, makePlan, newPlanId, monitorPortsOf } from './planning.ts';

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

const MANUAL_LOCK = 'manual-lock';
/** How much of a task log "Show log" posts: the end is where vzdump says what went wrong. */
const TASK_LOG_TAIL = 30;
const UPID = /^UPID:[A-Za-z0-9][A-Za-z0-9.-]*:[0-9A-Fa-f]{8}:[0-9A-Fa-f]{8}:[0-9A-Fa-f]{8}:[^:\s]*:[^:\s]*:[^:\s]+:$/;

/** vzdump's `prune-backups` as a property string (the job API may hand it back as an object). */
function pruneString(value: unknown): string | undefined {
  if (typeof value === 'string' && value) return value;
  if (value && typeof value === 'object') {
    const parts = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`);
    return parts.length ? parts.join(',') : undefined;
  }
  return undefined;
}

function refusal(error: unknown): ServiceRefusal {
  if (error instanceof InputError) return { ok: false, code: 'invalid', message: error.message };
  if (error instanceof UnreachableError) return { ok: false, code: 'unreachable', message: error.message };
  if (error instanceof JarvisError) return { ok: false, code: 'refused', message: error.message };
  throw error;
}

/** ApplyEvent (engine) → ApplyProgress (chat): one line per action start and end. */
function progressMapper(onProgress: ((p: ApplyProgress) => void) | undefined, total: number): (event: ApplyEvent) => void {
  const index = new Map<string, number>();
  return (event) => {
    if (!onProgress) return;
    switch (event.type) {
      case 'action.started':
        index.set(event.actionId, event.index);
        return onProgress({ actionId: event.actionId, target: event.target, state: 'started', index: event.index, total: event.total });
      case 'action.finished':
        return onProgress({ actionId: event.actionId, target: event.target, state: 'done', index: index.get(event.actionId) ?? 0, total, detail: event.detail });
      case 'action.failed':
        return onProgress({ actionId: event.actionId, target: event.target, state: 'failed', index: index.get(event.actionId) ?? 0, total, detail: event.error });
      case 'action.skipped':
        return onProgress({ actionId: event.actionId, target: event.target, state: 'skipped', index: index.get(event.actionId) ?? 0, total, detail: event.reason });
      case 'action.reverted':
        return onProgress({ actionId: event.actionId, target: event.target, state: 'failed', index: index.get(event.actionId) ?? 0, total, detail: `reverted: ${event.detail}` });
      default:
        return;
    }
  };
}

/** What a status suggests planning: a fix for known drift, a retry for each covered VM whose backup needs attention. */
function statusFollowUps(status: StatusReport): FollowUp[] {
  const out: FollowUp[] = [];
  const drift = status.drift?.known ? status.drift.value : undefined;
  if (drift && drift.actionCount > 0 && (PLAN_PHASES as readonly string[]).includes(drift.phase)) out.push({ kind: 'plan-fix', phase: drift.phase as PlanPhase });
  if (status.backups.known) {
    for (const vm of status.backups.value.perVm) {
      if ((vm.level === 'warn' || vm.level === 'critical') && vm.jobs.length > 0) out.push({ kind: 'plan-retry', vmid: vm.vmid });
    }
  }
  return out;
}

function toChatReport(plan: Plan, report: ApplyReport): ChatApplyReport {
  const completed = report.actions.filter((a) => a.outcome === 'done' || a.outcome === 'already-done').map((a) => a.actionId);
  const failedAction = report.actions.find((a) => a.outcome === 'failed' || a.outcome === 'reverted');
  const validated = report.validation?.ok ?? false;
  // A target that could not be read: nothing was written, so the approved plan may simply be applied again.
  if (report.refusal?.code === 'unreadable') {
    return { outcome: 'not-started', planId: plan.id, message: report.refusal.message, completed, validated: false };
  }
  if (report.status === 'refused') {
    return { outcome: 'refused', planId: plan.id, message: report.refusal?.message ?? 'refused', completed, validated: false };
  }
  if (report.status === 'applied' && isSpecialPlan(plan)) {
    const probes = report.validation?.probes ?? [];
    const failing = probes.filter((p) => !p.ok);
    const message = validated
      ? `applied ${completed.length} action(s); checks pass: ${probes.map((p) => p.name).join(', ') || 'none needed'}`
      : `applied, but a check fails: ${failing.map((p) => `${p.name} (${p.detail})`).join('; ')}`;
    return { outcome: 'applied', planId: plan.id, message, completed, validated, validatedBy: 'vm-checks' };
  }
  if (report.status === 'applied') {
    const message = validated
      ? `applied ${completed.length} action(s); re-scan: nothing left to do`
      : `applied, but the re-scan still finds work: ${(report.validation?.remaining ?? []).map((r) => r.summary).join('; ') || 'health probes failed'}`;
    return { outcome: 'applied', planId: plan.id, message, completed, validated };
  }
  const hints = plan.actions.filter((a) => completed.includes(a.id)).map((a) => `${a.id}: ${a.rollbackHint}`).reverse();
  return {
    outcome: 'failed',
    planId: plan.id,
    message: [failedAction ? `${failedAction.actionId} failed: ${failedAction.detail}` : `apply ${report.status}`, ...report.next].join('\n'),
    completed,
    ...(failedAction ? { failed: { actionId: failedAction.actionId, error: failedAction.detail } } : {}),
    validated: false,
    rollbackHints: hints,
  };
}

export function createServices(options: ServicesOptions): RunningServices {
  const { lab, config, cwd } = options;
  const dataDir = isAbsolute(config.dataDir) ? config.dataDir : resolve(cwd, config.dataDir);
  const plansDir = join(dataDir, 'plans');
  const journal = Journal.open(applyDbPath(dataDir));
  let manualLock: ApplyLock | undefined;

  const monitorPorts = monitorPortsOf(lab.ports);

  async function savePlan(phase: PlanPhase, requester: Requester): Promise<PlanResult> {
    try {
      const { plan } = await makePlan({
        phase,
        cwd,
        ports: lab.ports,
        labName: lab.describe,
        requestedBy: qualifiedId(requester),
        onProgress: options.log,
      });
      await writePlanFiles(plansDir, plan);
      journal.audit({ kind: 'plan.saved', planId: plan.id, planHash: plan.planHash, actor: plan.requestedBy, data: { phase, summary: plan.summary } });
      if (plan.violations.length > 0) {
        const first = plan.violations[0]!;
        return { ok: false, code: 'refused', message: `refused by guardrails: [${first.ruleId}] ${first.message}`, violations: plan.violations, plan };
      }
      return { ok: true, plan, markdown: renderPlanMarkdown(plan) };
    } catch (error) {
      return refusal(error);
    }
  }

  /** Saves a plan made outside the spec diff (rollback, backup retry) like any plan, for approval and apply. */
  async function saveSpecialPlan(plan: Plan, kind: 'rollback' | 'backup-retry'): Promise<PlanResult> {
    await writePlanFiles(plansDir, plan);
    journal.audit({ kind: 'plan.saved', planId: plan.id, planHash: plan.planHash, actor: plan.requestedBy, data: { phase: kind === 'rollback' ? 'rollback' : plan.phase, kind, summary: plan.summary } });
    return { ok: true, plan, markdown: renderPlanMarkdown(plan) };
  }

  /**
   * What a special plan stands on: the spec the lab is managed by (the drift watch's phase, phase0 when off), so
   * apply can load it for its stale check, and the VM's current config digest and run state.
   */
  async function specialBase(vmid: number, requester: Requester): Promise<{ base: SpecialPlanBase; digest: string; running: boolean; name?: string; inSpec: boolean }> {
    const phase = config.drift.phase === 'off' ? 'phase0' : config.drift.phase;
    const specPath = config.drift.spec ?? PHASE_SPECS[phase];
    const loaded = await loadSpec(isAbsolute(specPath) ? specPath : join(cwd, specPath), { cwd });
    const [{ config: vmConfig, digest }, status] = await Promise.all([lab.ports.pve.vmConfig(vmid), lab.ports.pve.vmStatus(vmid)]);
    const now = new Date();
    const name = typeof vmConfig.name === 'string' ? vmConfig.name : undefined;
    return {
      base: { node: lab.ports.pve.node, spec: { path: specPath, sha256: loaded.source.sha256 }, phase, requestedBy: qualifiedId(requester), now: now.toISOString(), id: newPlanId(now) },
      digest,
      running: status.status === 'running',
      ...(name ? { name } : {}),
      inSpec: loaded.spec.vms.some((vm) => vm.vmid === vmid),
    };
  }

  /** Apply re-reads only the VMs the managed spec names (its stale check); others cannot be planned for safely. */
  const unmanaged = (vmid: number, specPath: string, byHand: string): ServiceRefusal => ({
    ok: false,
    code: 'refused',
    message: `VM ${vmid} is not in ${specPath}, so Jarvis cannot check it has not changed before applying; ${byHand}`,
  });

  async function runApply(planId: string, dryRun: boolean, opts?: ApplyOptions): Promise<{ plan: Plan; report: ApplyReport }> {
    const plan = await loadPlan(planId, dataDir);
    const spec = await loadPlanSpec(plan, cwd);
    const ctx = createApplyContext({
      plan,
      spec,
      lab: lab.ports,
      mgmt: lab.mgmt,
      journal,
      env: options.env,
      requester: opts ? qualifiedId(opts.requester) : 'dry-run',
      via: 'chat',
      approved: (opts?.approvals.length ?? 0) > 0,
      approvals: opts?.approvals.map((a) => ({ by: a.approver, at: a.at, note: a.via })),
      dryRun,
      onProgress: progressMapper(opts?.onProgress, plan.actions.length),
      snapshotRetention: config.snapshotRetention,
      confirmWindowMs: (config.apply.confirmWindowSeconds ?? spec.spec.safetyGuards.confirmWindowSeconds) * 1000,
      backupStorage: config.apply.backupStorage,
    });
    return { plan, report: await applyPlan(plan, ctx) };
  }

  async function statusReport(): Promise<Report> {
    const now = Date.now();
    const collected = await collect(monitorPorts, { now, historyHours: historyHours(config.alerts) });
    if (collected.unreachable) {
      return { level: 'critical', headline: `Proxmox at ${lab.describe} is unreachable: ${collected.unreachable}`, sections: [] };
    }
    const gates = readGates(dataDir, now, config.approvalTtlMinutes);
    const drift = lastDrift();
    const status = buildStatus(collected, { now, thresholds: config.alerts, ...gates, ...(drift ? { drift: known(drift) } : {}) });
    return { ...statusToReport(status), followUps: statusFollowUps(status) };
  }

  /** The drift watch's last result, when a watcher has run in this data dir (status never creates the store). */
  function lastDrift(): DriftSummary | undefined {
    const store = AlertStore.openExisting(dataDir);
    try {
      return store?.lastDrift();
    } finally {
      store?.close();
    }
  }

  function gateState(): GateState {
    const holder = readLockHolder(journal);
    const frozen = freezeState(journal);
    return {
      ...(holder ? { lock: { holder: holder.who, since: holder.since, reason: holder.planId === MANUAL_LOCK ? 'locked by hand' : `applying plan ${holder.planId}` } } : {}),
      ...(frozen ? { freeze: { by: frozen.who, since: frozen.since, reason: frozen.why } } : {}),
    };
  }

  function releaseManualLock(): void {
    manualLock?.release();
    journal.db.prepare('DELETE FROM apply_lock WHERE id = 1 AND plan_id = ?').run(MANUAL_LOCK);
    manualLock = undefined;
  }

  const services: JarvisServices = {
    plan: savePlan,

    async getPlan(planId) {
      try {
        const plan = await loadPlan(planId, dataDir);
        return { plan, markdown: renderPlanMarkdown(plan) };
      } catch {
        return undefined;
      }
    },

    async dryRun(planId): Promise<DryRunReport | ServiceRefusal> {
      try {
        const { plan, report } = await runApply(planId, true);
        const dry = report.dryRun;
        if (!dry) return { ok: false, code: 'refused', message: report.refusal?.message ?? 'dry run refused' };
        const problems: string[] = [];
        if (dry.stale) problems.push(`stale: ${dry.stale.message}`);
        const lines = dry.actions.map((action) => {
          const bad = action.requests.filter((r) => !r.schema.ok);
          for (const r of bad) if (!r.schema.ok) problems.push(`${action.actionId}: ${r.method} ${r.path}: ${Object.entries(r.schema.errors).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
          const what = [action.requests.length > 0 ? `${action.requests.length} request(s)${bad.length ? `, ${bad.length} invalid` : ' valid'}` : '', ...action.operations].filter(Boolean).join('; ');
          return `${bad.length ? '✗' : '✓'} ${action.actionId} — ${what}`;
        });
        return { ok: problems.length === 0, planId: plan.id, lines, problems };
      } catch (error) {
        return refusal(error);
      }
    },

    async apply(planId, opts) {
      // `/jarvis lock` holds the lab for one person: they may still apply (the hold is lifted for the apply and put
      // back after it); anyone else is refused and told who holds it.
      const holder = readLockHolder(journal);
      const held = holder?.planId === MANUAL_LOCK ? holder : undefined;
      const mine = held !== undefined && held.who.startsWith(qualifiedId(opts.requester));
      if (held && !mine) {
        return { outcome: 'refused', planId, message: `the lab is locked by ${held.who} since ${held.since}; ask them to /jarvis unlock`, completed: [], validated: false };
      }
      if (mine) releaseManualLock();
      try {
        const { plan, report } = await runApply(planId, false, opts);
        return toChatReport(plan, report);
      } catch (error) {
        const r = refusal(error);
        return { outcome: 'refused', planId, message: r.message, completed: [], validated: false };
      } finally {
        if (mine) {
          const again = acquireApplyLock(journal, { who: held.who, planId: MANUAL_LOCK, now: Date.now });
          if (again.acquired) manualLock = again.lock;
        }
      }
    },

    status: statusReport,

    async backups() {
      const report = await statusReport();
      const sections = report.sections.filter((s) => /backup|not covered|attention/i.test(s.title));
      return {
        ...report,
        sections: sections.map((s) => (s.title === 'Needs attention' ? { ...s, lines: s.lines.filter((l) => /backup/i.test(l)) } : s)),
        followUps: (report.followUps ?? []).filter((f) => f.kind === 'plan-retry'),
      };
    },

    async check() {
      const dir = join(cwd, 'specs');
      const files = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
      const sections: Report['sections'] = [];
      let errors = 0;
      let warnings = 0;
      for (const name of files) {
        const display = join('specs', name);
        const loaded = await readSpecFile(join(dir, name), display);
        const findings = loaded.ok ? checkSpec(loaded.loaded) : loaded.errors;
        errors += findings.filter((f) => f.severity === 'error').length + (loaded.ok ? 0 : 1);
        warnings += findings.filter((f) => f.severity === 'warning').length;
        sections.push({ title: display, lines: findings.length > 0 ? findings.map(formatDiagnostic) : ['ok'] });
      }
      return {
        level: errors > 0 ? 'critical' : warnings > 0 ? 'warn' : 'ok',
        headline: errors > 0 ? `${errors} spec error(s) — plans are refused until fixed` : `${files.length} spec(s) valid${warnings ? `, ${warnings} warning(s)` : ''}`,
        sections,
      };
    },

    async drift(requester) {
      const phase = config.drift.phase === 'off' ? 'phase0' : config.drift.phase;
      const result = await savePlan(phase, requester);
      if (!result.ok && !result.plan) return { level: 'critical', headline: `drift check failed: ${result.message}`, sections: [] };
      const plan = result.ok ? result.plan : result.plan!;
      if (plan.actions.length === 0) return { level: 'ok', headline: `no drift: the lab matches ${plan.spec.path} (${phase})`, sections: [], planId: plan.id };
      return {
        level: plan.summary.maxRisk === 'critical' || plan.summary.maxRisk === 'high' ? 'critical' : 'warn',
        headline: `${plan.actions.length} difference(s) from ${plan.spec.path} (${phase}); plan ${plan.id} would fix them`,
        sections: [{ title: 'Drift', lines: plan.actions.map((a) => `${a.kind === 'create' ? '+' : a.kind === 'delete' ? '-' : '~'} ${a.target}: ${a.changes.map((c) => c.path).join(', ') || a.type}`) }],
        planId: plan.id,
        followUps: [{ kind: 'plan-fix', phase }],
      };
    },

    async snapshots(vmid): Promise<SnapshotList | ServiceRefusal> {
      try {
        const [snapshots, resources] = await Promise.all([lab.ports.pve.listSnapshots(vmid), lab.ports.pve.clusterResources('vm')]);
        const name = resources.find((r) => r.vmid === vmid)?.name;
        return {
          vmid,
          ...(name ? { name } : {}),
          snapshots: snapshots
            .filter((s) => s.name !== 'current')
            .map((s) => ({ name: s.name, ...(s.snaptime ? { createdAt: new Date(s.snaptime * 1000).toISOString() } : {}), ...(s.description ? { description: s.description } : {}) })),
        };
      } catch (error) {
        if (error instanceof JarvisError) return refusal(error);
        return { ok: false, code: 'not-found', message: `VM ${vmid}: ${(error as Error).message}` };
      }
    },

    async planRollback(vmid, snapshot, requester) {
      try {
        let names: string[];
        try {
          names = (await lab.ports.pve.listSnapshots(vmid)).map((s) => s.name).filter((n) => n !== 'current');
        } catch (error) {
          if (error instanceof UnreachableError) throw error;
          return { ok: false, code: 'not-found', message: `VM ${vmid}: ${(error as Error).message}` };
        }
        if (!names.includes(snapshot)) {
          return {
            ok: false,
            code: 'not-found',
            message: `VM ${vmid} has no snapshot "${snapshot}"; ${names.length ? `its snapshots: ${names.join(', ')}` : 'it has no snapshots'}`,
          };
        }
        const facts = await specialBase(vmid, requester);
        if (!facts.inSpec) return unmanaged(vmid, facts.base.spec.path, `roll it back by hand: qm rollback ${vmid} ${snapshot}`);
        const plan = buildRollbackPlan({ ...facts.base, vmid, ...(facts.name ? { vmName: facts.name } : {}), snapshot, liveDigest: facts.digest, running: facts.running });
        return await saveSpecialPlan(plan, 'rollback');
      } catch (error) {
        return refusal(error);
      }
    },

    async planBackupRetry(vmid, requester) {
      try {
        const jobs = await lab.ports.pve.listBackupJobs();
        const job = jobs.find((candidate) => jobCovers(candidate, vmid));
        if (!job) return { ok: false, code: 'not-found', message: `VM ${vmid} is in no enabled backup job, so there is nothing to retry; add it to one in the spec` };
        const facts = await specialBase(vmid, requester);
        if (!facts.inSpec) return unmanaged(vmid, facts.base.spec.path, `back it up by hand: vzdump ${vmid} --storage ${job.storage ?? 'local'}`);
        const mode = job.mode === 'stop' || job.mode === 'suspend' ? job.mode : 'snapshot';
        const compress = typeof job.compress === 'string' && ['0', '1', 'gzip', 'lzo', 'zstd'].includes(job.compress) ? (job.compress as '0' | '1' | 'gzip' | 'lzo' | 'zstd') : undefined;
        const prune = pruneString(job['prune-backups']);
        const plan = buildBackupRunPlan({
          ...facts.base,
          vmid,
          ...(facts.name ? { vmName: facts.name } : {}),
          liveDigest: facts.digest,
          running: facts.running,
          // PVE's own default when a job names no storage.
          storage: job.storage ?? 'local',
          mode,
          ...(compress ? { compress } : {}),
          ...(prune ? { pruneBackups: prune } : {}),
          jobId: job.id,
        });
        return await saveSpecialPlan(plan, 'backup-retry');
      } catch (error) {
        return refusal(error);
      }
    },

    async taskLog(upid): Promise<TaskLog | ServiceRefusal> {
      if (!UPID.test(upid)) return { ok: false, code: 'invalid', message: `"${upid}" is not a Proxmox task id (UPID:node:…)` };
      try {
        const [status, lines] = await Promise.all([lab.ports.pve.taskStatus(upid), lab.ports.pve.taskLog(upid, { start: 0, limit: 10_000 })]);
        const text = lines.sort((a, b) => a.n - b.n).map((line) => line.t);
        return { upid, status: status.status === 'running' ? 'running' : (status.exitstatus ?? 'unknown'), lines: text.slice(-TASK_LOG_TAIL), total: text.length };
      } catch (error) {
        if (error instanceof UnreachableError) return refusal(error);
        return { ok: false, code: 'not-found', message: `task ${upid}: ${(error as Error).message}` };
      }
    },

    async snoozeAlert(key, hours, requester) {
      const now = Date.now();
      const until = now + hours * 3_600_000;
      const store = AlertStore.open(dataDir);
      try {
        store.snooze(key, until, now);
      } finally {
        store.close();
      }
      journal.audit({ kind: 'alert.snoozed', actor: qualifiedId(requester), data: { key, hours, until: new Date(until).toISOString() } });
      return { ok: true, key, until: new Date(until).toISOString() };
    },

    async gates() {
      return gateState();
    },

    async lock(requester, reason): Promise<GateResult> {
      const attempt = acquireApplyLock(journal, { who: `${qualifiedId(requester)}${reason ? ` (${reason})` : ''}`, planId: MANUAL_LOCK, now: Date.now });
      if (!attempt.acquired) return { ok: false, code: 'locked', message: attempt.message };
      manualLock = attempt.lock;
      journal.audit({ kind: 'lock.on', actor: qualifiedId(requester), data: { reason: reason ?? null } });
      return { ok: true, state: gateState() };
    },

    async unlock(requester): Promise<GateResult> {
      const holder = readLockHolder(journal);
      if (!holder) return { ok: true, state: gateState() };
      if (holder.planId !== MANUAL_LOCK) return { ok: false, code: 'locked', message: `an apply is running (plan ${holder.planId}); it releases the lock when it ends` };
      releaseManualLock();
      journal.audit({ kind: 'lock.off', actor: qualifiedId(requester), data: { heldBy: holder.who, since: holder.since } });
      return { ok: true, state: gateState() };
    },

    async freeze(requester, reason): Promise<GateResult> {
      freeze(journal, qualifiedId(requester), reason ?? 'no reason given', Date.now);
      return { ok: true, state: gateState() };
    },

    async unfreeze(requester): Promise<GateResult> {
      unfreeze(journal, qualifiedId(requester));
      return { ok: true, state: gateState() };
    },

    async history(limit): Promise<HistoryEntry[]> {
      const byPlan = new Map<string, HistoryEntry>();
      for (const entry of journal.auditEntries()) {
        if (!entry.planId || entry.planId === MANUAL_LOCK) continue;
        const data = JSON.parse(entry.data) as Record<string, unknown>;
        let h = byPlan.get(entry.planId);
        if (!h) {
          h = { at: entry.at, planId: entry.planId, phase: 'phase0', requestedBy: entry.actor ?? '?', approvedBy: [], outcome: 'refused', summary: '' };
          byPlan.set(entry.planId, h);
        }
        if (entry.kind === 'plan.saved') {
          h.phase = (data.phase as PlanPhase) ?? h.phase;
          h.requestedBy = entry.actor ?? h.requestedBy;
          const summary = data.summary as Plan['summary'] | undefined;
          h.summary = summary ? `${summary.create} create, ${summary.update} update, ${summary.delete} delete; max risk ${summary.maxRisk}` : '';
          h.outcome = 'expired';
        } else if (entry.kind === 'approval' && entry.actor && data.type === 'approval.decision' && /^approv/.test(String(data.outcome))) {
          if (!h.approvedBy.includes(entry.actor)) h.approvedBy.push(entry.actor);
        } else if (entry.kind === 'approval' && data.type === 'approval.decision' && /^reject/.test(String(data.outcome))) {
          h.outcome = 'rejected';
        } else if (entry.kind === 'apply.finished') {
          h.at = entry.at;
          const status = data.status as string;
          h.outcome = status === 'applied' ? 'applied' : status === 'refused' ? 'refused' : 'failed';
        } else if (entry.kind === 'apply.refused') {
          h.outcome = 'refused';
        }
      }
      return [...byPlan.values()].sort((a, b) => b.at.localeCompare(a.at)).slice(0, limit);
    },
  };

  return { services, journal, dataDir, close: () => journal.close() };
}

/** Chat approval decisions (bot/approvals.ts) into the hash-chained audit trail, refusals included. */
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
