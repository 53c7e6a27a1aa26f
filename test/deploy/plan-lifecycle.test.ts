// What became of a plan, read from the audit trail: an apply that left only the owner's manual steps is not a failure.
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../deploy/audit.ts';
import { planLifecycles } from '../../deploy/plan-lifecycle.ts';

let seq = 0;
const entry = (kind: AuditEntry['kind'], data: Record<string, unknown>): AuditEntry => ({
  seq: ++seq,
  at: new Date(Date.UTC(2026, 11, 5, 12, seq)).toISOString(),
  kind,
  planId: 'p-owner',
  planHash: 'h',
  actor: 'discord:1',
  data: JSON.stringify(data),
  prevHash: '',
  hash: '',
});

describe('planLifecycles', () => {
  it.each([
    ['applied', 'applied'],
    ['waiting-for-owner', 'waiting-for-owner'],
    ['refused', 'refused'],
    ['failed', 'failed'],
    ['unreachable', 'failed'],
  ])('an apply that finished %s reads as %s', (status, outcome) => {
    const trail = [entry('plan.saved', { phase: 'phase0', summary: { create: 3, update: 0, delete: 0, maxRisk: 'medium' }, violations: 0 }), entry('apply.started', {}), entry('apply.finished', { status })];
    expect(planLifecycles(trail, { now: Date.UTC(2026, 11, 5, 13), ttlMs: 30 * 60_000 })[0]!.outcome).toBe(outcome);
  });

  it('an apply stopped because the lab could not be read is not started, and a later apply counts', () => {
    const saved = entry('plan.saved', { phase: 'phase0', summary: { create: 3, update: 0, delete: 0, maxRisk: 'medium' }, violations: 0 });
    const stopped = entry('apply.refused', { via: 'chat', code: 'unreadable', message: 'could not read guest/100' });
    const opts = { now: Date.UTC(2026, 11, 5, 13), ttlMs: 30 * 60_000 };
    expect(planLifecycles([saved, stopped], opts)[0]!.outcome).toBe('not-started');
    expect(planLifecycles([saved, stopped, entry('apply.refused', { via: 'chat', code: 'stale' })], opts)[0]!.outcome).toBe('refused');
    expect(planLifecycles([saved, stopped, entry('apply.started', {}), entry('apply.finished', { status: 'applied' })], opts)[0]!.outcome).toBe('applied');
  });
});
