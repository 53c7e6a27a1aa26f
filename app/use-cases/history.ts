// `/jarvis history`: past plans and their outcomes, read back from the hash-chained audit trail (deploy/plan-lifecycle.ts).
import type { HistoryEntry } from '../../commands/services.ts';
import type { Journal } from '../../deploy/journal.ts';
import { planLifecycles } from '../../deploy/plan-lifecycle.ts';
import { MANUAL_LOCK } from './gates.ts';

export function planHistory(journal: Journal, limit: number, options: { now: number; ttlMs: number }): HistoryEntry[] {
  return planLifecycles(journal.auditEntries(), { ...options, skip: [MANUAL_LOCK] })
    .map((plan) => ({
      at: plan.at,
      planId: plan.planId,
      phase: plan.phase,
      requestedBy: plan.requestedBy,
      approvedBy: plan.approvedBy,
      outcome: plan.outcome,
      summary: plan.summary ? `${plan.summary.create} create, ${plan.summary.update} update, ${plan.summary.delete} delete; max risk ${plan.summary.maxRisk}` : '',
    }))
    .sort((a, b) => b.at.localeCompare(a.at))
    .slice(0, limit);
}
