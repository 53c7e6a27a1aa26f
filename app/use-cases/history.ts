// `/jarvis history`: past plans and their outcomes, read back from the hash-chained audit trail.
import type { HistoryEntry } from '../../commands/services.ts';
import type { Journal } from '../../deploy/journal.ts';
import type { Plan, PlanPhase } from '../../planner/plan.ts';
import { MANUAL_LOCK } from './gates.ts';

export function planHistory(journal: Journal, limit: number): HistoryEntry[] {
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
}
