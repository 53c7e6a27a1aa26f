// Properties over generated inputs: tag spelling never produces a diff; a plan read back from its JSON file has the
// hash it was written with (apply recomputes it); the order always respects every dependency.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildPlan, computePlanHash } from '../../planner/artifact.ts';
import { loadReference, phase0State } from './fixtures.ts';

const { spec, source } = await loadReference();
const input = (state = phase0State(), phase: 'phase0' | 'phase1' | 'phase2' = 'phase0') => ({
  spec,
  specPath: 's',
  specSha256: source.sha256,
  phase,
  state,
  requestedBy: 't',
  now: 'n',
  id: 'i',
});

// Fixed, seeded work that only takes longer on a slower or busier machine: the timeout guards against a hang, nothing more.
const CPU_BOUND = { timeout: 180_000 };

describe('planner properties', CPU_BOUND, () => {
  it('tags in any order, case and separator produce no action', () => {
    const tags = spec.vms.find((v) => v.vmid === 300)!.tags;
    fc.assert(
      fc.property(
        fc.shuffledSubarray(tags, { minLength: tags.length, maxLength: tags.length }),
        fc.array(fc.boolean(), { minLength: tags.length, maxLength: tags.length }),
        fc.constantFrom(';', ',', ' ', '; '),
        (order, upper, separator) => {
          const state = phase0State();
          state.vms[300]!.config.tags = order.map((t, i) => (upper[i] ? t.toUpperCase() : t)).join(separator);
          expect(buildPlan(input(state)).actions).toEqual([]);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('a plan read back from JSON has the same hash, and every action runs after what it depends on', () => {
    for (const phase of ['phase0', 'phase1', 'phase2'] as const) {
      const plan = buildPlan(input(phase0State(), phase));
      const reread = JSON.parse(JSON.stringify(plan)) as typeof plan;
      expect(computePlanHash(reread)).toBe(plan.planHash);
      const position = new Map(plan.actions.map((a, i) => [a.id, i]));
      for (const action of plan.actions) for (const dep of action.dependsOn) expect(position.get(dep)!).toBeLessThan(position.get(action.id)!);
    }
  });
});
