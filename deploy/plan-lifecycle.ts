// What became of each plan, read back from the audit trail (the record that outlives chat messages and restarts):
// made, offered for approval, approved, superseded, rejected, applied. One reading for `/jarvis history` and for the
// status Gates, so neither calls a superseded, rejected, no-change or drift-check plan "pending", and only approvals
// that counted are listed (a stranger's refused ✅ is not an approval; a rejected plan shows none).
import type { AuditEntry } from './audit.ts';

export type PlanOutcome = 'pending' | 'applying' | 'not-started' | 'applied' | 'waiting-for-owner' | 'failed' | 'refused' | 'rejected' | 'expired' | 'superseded' | 'no-change' | 'drift';

export interface PlanLifecycle {
  planId: string;
  /** When the plan was made, or when apply last finished with it. */
  at: string;
  phase: string;
  requestedBy: string;
  /** Approvals that counted, in order; never a refused one, and none for a rejected plan. */
  approvedBy: string[];
  outcome: PlanOutcome;
  summary?: { create: number; update: number; delete: number; replace?: number; maxRisk: string };
}

/** Decisions that are approvals (the state machine's `<kind>:<outcome>`); refusals and duplicates are not. */
const COUNTED = new Set(['approve:recorded', 'approve:needs-confirmation', 'approve:approved', 'confirm:approved']);

const parse = (entry: AuditEntry): Record<string, unknown> => JSON.parse(entry.data) as Record<string, unknown>;

/**
 * Every plan the trail names (but `skip`), oldest entry first. A plan still pending after the approval TTL is
 * `expired`; a plan saved by `/jarvis drift` is `drift` (a check, never offered for approval).
 */
export function planLifecycles(entries: readonly AuditEntry[], options: { now: number; ttlMs: number; skip?: readonly string[] }): PlanLifecycle[] {
  const plans = new Map<string, PlanLifecycle & { savedAt?: number }>();
  for (const entry of entries) {
    if (!entry.planId || options.skip?.includes(entry.planId)) continue;
    const data = parse(entry);
    let plan = plans.get(entry.planId);
    if (!plan) {
      plan = { planId: entry.planId, at: entry.at, phase: typeof data.phase === 'string' ? data.phase : '?', requestedBy: entry.actor ?? '?', approvedBy: [], outcome: 'pending' };
      plans.set(entry.planId, plan);
    }
    switch (entry.kind) {
      case 'plan.saved': {
        const summary = data.summary as PlanLifecycle['summary'] | undefined;
        const actions = summary ? summary.create + summary.update + summary.delete + (summary.replace ?? 0) : undefined;
        Object.assign(plan, { at: entry.at, savedAt: Date.parse(entry.at), phase: String(data.phase ?? plan.phase), requestedBy: entry.actor ?? plan.requestedBy, summary });
        plan.outcome = Number(data.violations ?? 0) > 0 ? 'refused' : actions === 0 ? 'no-change' : data.purpose === 'drift' ? 'drift' : 'pending';
        break;
      }
      case 'approval': {
        if (data.type !== 'approval.decision') break;
        const outcome = String(data.outcome);
        if (outcome === 'superseded') plan.outcome = 'superseded';
        else if (outcome === 'reject:rejected') plan.outcome = 'rejected';
        else if (COUNTED.has(outcome) && entry.actor && !plan.approvedBy.includes(entry.actor)) plan.approvedBy.push(entry.actor);
        break;
      }
      case 'apply.refused':
        // The lab could not be read: nothing was changed and the plan may be applied again (deploy/engine.ts).
        plan.outcome = data.code === 'unreadable' ? 'not-started' : 'refused';
        break;
      case 'apply.started':
        plan.outcome = 'applying';
        break;
      case 'apply.finished':
        plan.at = entry.at;
        // Applied with manual steps left to the owner is not a failure (deploy/types.ts ApplyStatus).
        plan.outcome = data.status === 'applied' || data.status === 'waiting-for-owner' || data.status === 'refused' ? data.status : 'failed';
        break;
      default:
        break;
    }
  }
  return [...plans.values()].map(({ savedAt, ...plan }) => {
    const lapsed = plan.outcome === 'pending' && savedAt !== undefined && options.now - savedAt > options.ttlMs;
    return { ...plan, outcome: lapsed ? 'expired' : plan.outcome, approvedBy: plan.outcome === 'rejected' ? [] : plan.approvedBy };
  });
}
