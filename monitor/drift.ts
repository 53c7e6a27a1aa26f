// The drift watch: a plan against the spec, made the way `jarvis plan` makes it (scan through the ports, then the
// pure planner), summarised as what would change. The summary's hash covers only the changes themselves, so the same
// drift gives the same hash across runs however the plan id, time or unrelated state move.
import { createHash } from 'node:crypto';
import { buildPlan, phaseNumberOf, scanLab, type ScanPorts } from '../planner/index.ts';
import type { Plan, PlanPhase } from '../planner/plan.ts';
import { loadSpec } from '../planner/spec/load.ts';
import type { DriftSummary } from './types.ts';

const SYMBOL = { create: '+', update: '~', delete: '-', replace: '-/+' } as const;

export function driftOf(plan: Plan, checkedAt: string): DriftSummary {
  const changes = plan.actions.map((a) => ({ id: a.id, changes: a.changes.map((c) => [c.path, c.from, c.to]) }));
  return {
    phase: plan.phase,
    actionCount: plan.actions.length,
    lines: plan.actions.map((a) => {
      const fields = a.changes.map((c) => c.path).filter(Boolean);
      return `${SYMBOL[a.kind]} ${a.target}${fields.length > 0 ? `: ${fields.join(', ')}` : ` (${a.type})`}`;
    }),
    hash: createHash('sha256').update(JSON.stringify(changes)).digest('hex'),
    planId: plan.id,
    checkedAt,
  };
}

export interface DriftScanOptions {
  ports: ScanPorts;
  /** Absolute path of the spec; `displayPath` is how the plan names it. */
  specPath: string;
  displayPath: string;
  /** A site file to read instead of the spec's own. */
  site?: string;
  phase: PlanPhase;
  /** Unix milliseconds. */
  now: number;
}

export async function scanDrift(options: DriftScanOptions): Promise<DriftSummary> {
  const loaded = await loadSpec(options.specPath, options.site ? { site: options.site } : {});
  const state = await scanLab(options.ports, loaded.spec, phaseNumberOf(options.phase, loaded.spec));
  const at = new Date(options.now).toISOString();
  const plan = buildPlan({
    spec: loaded.spec,
    specPath: options.displayPath,
    specSha256: loaded.source.sha256,
    phase: options.phase,
    state,
    requestedBy: 'jarvis:drift-watch',
    now: at,
    id: `drift-${at.slice(0, 19).replace(/[-:T]/g, '')}`,
  });
  return driftOf(plan, at);
}
