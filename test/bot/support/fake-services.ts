// A JarvisServices double for chat tests: plans from a script, applies that only record and report progress.
// The lead's flows use the real services; these tests are about the chat edge.
import type { Plan, PlanPhase, Risk } from '../../../planner/plan.ts';
import { qualifiedId, type ApplyOptions, type ApplyReport, type GateState, type JarvisServices, type PlanResult, type Requester } from '../../../commands/services.ts';
import { makePlan, planMarkdown } from './plans.ts';

export interface FakeServicesOptions {
  /** Risks of the actions the next plan of a phase gets; default low + medium. */
  risks?: Partial<Record<PlanPhase, Risk[]>>;
  now?: () => number;
  /** Apply refuses as stale (the lab moved since the plan). */
  stale?: boolean;
  /** The first N applies cannot read a target and write nothing (the lab answers again afterwards). */
  unreadableApplies?: number;
}

export class FakeServices implements JarvisServices {
  readonly plans = new Map<string, { plan: Plan; markdown: string }>();
  readonly applied: Array<{ planId: string; approvers: string[] }> = [];
  readonly appliedPhases = new Set<PlanPhase>();
  readonly gateState: GateState = {};
  #counter = 0;

  constructor(readonly options: FakeServicesOptions = {}) {}

  async plan(phase: PlanPhase, requester: Requester): Promise<PlanResult> {
    const risks = this.appliedPhases.has(phase) ? [] : (this.options.risks?.[phase] ?? ['low', 'medium']);
    const plan = makePlan({
      id: `p${++this.#counter}-${phase}`,
      phase,
      risks,
      requestedBy: qualifiedId(requester),
      createdAt: new Date(this.options.now?.() ?? Date.now()).toISOString(),
    });
    const saved = { plan, markdown: planMarkdown(plan) };
    this.plans.set(plan.id, saved);
    return { ok: true, ...saved };
  }

  async getPlan(planId: string) {
    return this.plans.get(planId);
  }

  async dryRun(planId: string) {
    const saved = this.plans.get(planId);
    if (!saved) return { ok: false as const, code: 'not-found' as const, message: `no plan ${planId}` };
    return { ok: true, planId, lines: saved.plan.actions.map((a) => `✓ ${a.id} — 1 request valid`), problems: [] };
  }

  async apply(planId: string, options: ApplyOptions): Promise<ApplyReport> {
    const saved = this.plans.get(planId);
    if (!saved) return { outcome: 'refused', planId, message: `no plan ${planId}`, completed: [], validated: false };
    if ((this.options.unreadableApplies ?? 0) > 0) {
      this.options.unreadableApplies! -= 1;
      const message = 'could not read guest/100: QEMU guest agent is not running; nothing was changed, try again';
      return { outcome: 'not-started', planId, message, completed: [], validated: false };
    }
    if (this.options.stale) return { outcome: 'refused', planId, message: `plan ${planId} is stale: vm/100 changed since the plan; re-run /jarvis plan`, completed: [], validated: false };
    const total = saved.plan.actions.length;
    const completed: string[] = [];
    for (const [i, action] of saved.plan.actions.entries()) {
      options.onProgress?.({ actionId: action.id, target: action.target, state: 'started', index: i + 1, total });
      await new Promise((resolve) => setImmediate(resolve));
      completed.push(action.id);
      options.onProgress?.({ actionId: action.id, target: action.target, state: 'done', index: i + 1, total });
    }
    this.applied.push({ planId, approvers: options.approvals.map((a) => a.approver) });
    this.appliedPhases.add(saved.plan.phase);
    return { outcome: 'applied', planId, message: `${total} action(s) applied`, completed, validated: true };
  }

  async status() {
    return { level: 'ok' as const, headline: 'Lab healthy: 1 node, 0 guests down', sections: [{ title: 'Node', lines: ['proxmox up'] }] };
  }
  async backups() {
    return { level: 'ok' as const, headline: 'Backups: all jobs ran', sections: [] };
  }
  async check() {
    return { level: 'ok' as const, headline: 'Specs valid', sections: [] };
  }
  async drift() {
    return { level: 'ok' as const, headline: 'No drift', sections: [] };
  }
  async snapshots(vmid: number) {
    return { vmid, snapshots: [{ name: 'jarvis-pre-1', createdAt: '2026-11-26T00:00:00Z' }] };
  }
  async planRollback(vmid: number, snapshot: string, requester: Requester): Promise<PlanResult> {
    const plan = { ...makePlan({ id: `rb${++this.#counter}-${vmid}`, risks: ['high'], requestedBy: qualifiedId(requester) }), phase: 'phase0' as const };
    const saved = { plan, markdown: `# rollback ${vmid} to ${snapshot}\n` };
    this.plans.set(plan.id, saved);
    return { ok: true, ...saved };
  }
  async planBackupRetry(vmid: number, requester: Requester): Promise<PlanResult> {
    const plan = { ...makePlan({ id: `br${++this.#counter}-${vmid}`, risks: ['low'], requestedBy: qualifiedId(requester) }), phase: 'phase0' as const };
    const saved = { plan, markdown: `# back up VM ${vmid} now\n` };
    this.plans.set(plan.id, saved);
    return { ok: true, ...saved };
  }
  async taskLog(upid: string) {
    if (!upid.startsWith('UPID:')) return { ok: false as const, code: 'invalid' as const, message: `"${upid}" is not a task id` };
    return { upid, status: 'job errors', lines: ['INFO: starting new backup job', `ERROR: Backup of VM 300 failed - No space left on device`], total: 2 };
  }
  readonly snoozed: Array<{ key: string; hours: number; by: string }> = [];
  async snoozeAlert(key: string, hours: number, requester: Requester) {
    this.snoozed.push({ key, hours, by: qualifiedId(requester) });
    return { ok: true as const, key, until: new Date((this.options.now?.() ?? Date.now()) + hours * 3_600_000).toISOString() };
  }
  async gates() {
    return this.gateState;
  }
  async lock(requester: Requester, reason?: string) {
    this.gateState.lock = { holder: qualifiedId(requester), since: '2026-11-26T00:00:00Z', ...(reason && { reason }) };
    return { ok: true as const, state: this.gateState };
  }
  async unlock() {
    delete this.gateState.lock;
    return { ok: true as const, state: this.gateState };
  }
  async freeze(requester: Requester, reason?: string) {
    this.gateState.freeze = { by: qualifiedId(requester), since: '2026-11-26T00:00:00Z', ...(reason && { reason }) };
    return { ok: true as const, state: this.gateState };
  }
  async unfreeze() {
    delete this.gateState.freeze;
    return { ok: true as const, state: this.gateState };
  }
  async history(limit: number) {
    return this.applied.slice(-limit).map((a) => ({ at: '2026-11-26T00:00:00Z', planId: a.planId, phase: 'phase0' as const, requestedBy: 'console:owner', approvedBy: a.approvers, outcome: 'applied' as const, summary: 'applied' }));
  }
}
