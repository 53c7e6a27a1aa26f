// The change gates for the status snapshot, read from the data dir without creating anything: the apply lock and the
// freeze (apply store, deploy/lock.ts) and the plans waiting for approval (data/plans/*.json written by `jarvis plan`
// that are younger than the approval TTL, have actions, and that the audit trail has not settled: not superseded,
// rejected, applied or refused, and not a drift check (deploy/plan-lifecycle.ts)).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { applyDbPath } from '../deploy/db.ts';
import { Journal } from '../deploy/journal.ts';
import { freezeState, readLockHolder } from '../deploy/lock.ts';
import { planLifecycles } from '../deploy/plan-lifecycle.ts';
import type { GateSummary, PendingPlanSummary } from './types.ts';

const planHead = z.object({
  id: z.string(),
  phase: z.string(),
  createdAt: z.string(),
  summary: z.object({ maxRisk: z.string() }),
  actions: z.array(z.unknown()),
});

function savedPlans(dataDir: string, now: number, ttlMinutes: number): PendingPlanSummary[] {
  const dir = join(dataDir, 'plans');
  if (!existsSync(dir)) return [];
  const out: PendingPlanSummary[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    let head: z.infer<typeof planHead>;
    try {
      head = planHead.parse(JSON.parse(readFileSync(join(dir, name), 'utf8')));
    } catch {
      continue; // not a plan artifact (or one being written): not a pending plan
    }
    const age = now - Date.parse(head.createdAt);
    if (head.actions.length === 0 || !(age >= 0 && age <= ttlMinutes * 60_000)) continue;
    out.push({ id: head.id, phase: head.phase, createdAt: head.createdAt, actions: head.actions.length, maxRisk: head.summary.maxRisk });
  }
  return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

export function readGates(dataDir: string, now: number, approvalTtlMinutes: number): GateSummary {
  const plans = savedPlans(dataDir, now, approvalTtlMinutes);
  const path = applyDbPath(dataDir);
  if (!existsSync(path)) return { pendingPlans: plans };
  const journal = Journal.open(path);
  try {
    const holder = readLockHolder(journal);
    const frozen = freezeState(journal);
    // A plan the audit trail has settled (superseded, rejected, applied, a drift check…) no longer waits for anyone.
    const settled = new Set(
      planLifecycles(journal.auditEntries(), { now, ttlMs: approvalTtlMinutes * 60_000 })
        .filter((plan) => plan.outcome !== 'pending')
        .map((plan) => plan.planId),
    );
    return {
      lock: holder && { holder: holder.who, since: holder.since, reason: `applying plan ${holder.planId} (pid ${holder.pid} on ${holder.host})` },
      freeze: frozen && { by: frozen.who, since: frozen.since, reason: frozen.why },
      pendingPlans: plans.filter((p) => !settled.has(p.id)),
    };
  } finally {
    journal.db.close();
  }
}
