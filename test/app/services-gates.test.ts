// `/jarvis lock` and `/jarvis freeze` through the real services over the simulator: a lock holds the lab for its
// holder (others are refused and told who holds it), a freeze stops everyone, both show in the gates and the audit.
import { describe, expect, it } from 'vitest';
import type { Lab } from '../../app/lab.ts';
import type { RunningServices } from '../../app/services.ts';
import type { ApprovalRecord, Requester } from '../../commands/services.ts';
import { planContent, planContentHash } from '../../planner/artifact.ts';
import type { Plan } from '../../planner/plan.ts';
import { servicesOnSimAroundAll } from '../support/services-on-sim.ts';

const owner: Requester = { platform: 'discord', id: '111111111111111111', displayName: 'owner' };
const coAdmin: Requester = { platform: 'slack', id: 'U0COADMIN', displayName: 'co-admin' };
const approvalOf = (plan: Plan, by: Requester): ApprovalRecord => ({
  approver: `${by.platform}:${by.id}`,
  planId: plan.id,
  planHash: plan.planHash,
  contentHash: planContentHash(plan),
  at: new Date().toISOString(),
  via: 'reaction',
});
/** What the approval store hands apply: the approvals and the plan as it was shown. */
const approvedBy = (plan: Plan, by: Requester) => ({ approvals: [approvalOf(plan, by)], approvedPlan: planContent(plan) });

let lab: Lab;
let running: RunningServices;

servicesOnSimAroundAll({ scenario: 'drifted', taskSeconds: 0.05 }, (opened) => ({ lab, running } = opened));

async function driftPlan(by: Requester): Promise<Plan> {
  const result = await running.services.plan('phase0', by);
  if (!result.ok) throw new Error(result.message);
  expect(result.plan.actions.length).toBeGreaterThan(0);
  return result.plan;
}

describe('lock and freeze', () => {
  it('a lock refuses other people’s applies, lets its holder apply, and stays held afterwards', async () => {
    const locked = await running.services.lock(owner, 'maintenance');
    expect(locked).toMatchObject({ ok: true, state: { lock: { holder: expect.stringContaining('discord:111111111111111111') } } });
    expect((await running.services.lock(coAdmin)).ok).toBe(false);

    const plan = await driftPlan(coAdmin);
    const refused = await running.services.apply(plan.id, { ...approvedBy(plan, owner), requester: coAdmin });
    expect(refused).toMatchObject({ outcome: 'refused', completed: [] });
    expect(refused.message).toContain('locked by discord:111111111111111111');

    const applied = await running.services.apply(plan.id, { ...approvedBy(plan, owner), requester: owner });
    expect(applied).toMatchObject({ outcome: 'applied', validated: true });
    expect((await running.services.gates()).lock?.holder).toContain('discord:111111111111111111');

    expect((await running.services.unlock(owner)).ok).toBe(true);
    expect((await running.services.gates()).lock).toBeUndefined();
  });

  it('a freeze refuses every apply until unfreeze, and the audit trail records both', async () => {
    await lab.sim!.lab.setVmConfig(300, { memory: '6144' });
    const plan = await driftPlan(owner);
    expect((await running.services.freeze(owner, 'family movie night')).ok).toBe(true);
    const refused = await running.services.apply(plan.id, { ...approvedBy(plan, owner), requester: owner });
    expect(refused.outcome).toBe('refused');
    expect(refused.message).toContain('family movie night');
    expect((await running.services.unfreeze(owner)).ok).toBe(true);
    expect((await running.services.apply(plan.id, { ...approvedBy(plan, owner), requester: owner })).outcome).toBe('applied');
    const kinds = running.journal.auditEntries().map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['lock.on', 'lock.off', 'freeze.on', 'freeze.off', 'plan.saved']));
  });
});
