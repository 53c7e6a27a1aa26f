// What history and the status Gates say about plans, through the real services and approval store over the
// simulator: a superseded, no-change or drift-check plan is not "pending"; a rejected plan shows no "approved by";
// a refused ✅ is never an approval.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../../app/lab.ts';
import { approvalAuditor, type RunningServices } from '../../app/services.ts';
import { approvalPolicyFromEnv } from '../../commands/approvals/policy.ts';
import { Approvals } from '../../commands/approvals/state-machine.ts';
import type { PlanResult, Requester } from '../../commands/services.ts';
import { historyCommand } from '../../commands/handlers/history.ts';
import type { CommandContext } from '../../commands/context.ts';
import { readGates } from '../../monitor/gates.ts';
import type { Plan } from '../../planner/plan.ts';
import { servicesOnSimAroundAll } from '../support/services-on-sim.ts';

const owner: Requester = { platform: 'discord', id: '1001', displayName: 'owner' };
const second: Requester = { platform: 'discord', id: '1002', displayName: 'second' };
const stranger: Requester = { platform: 'discord', id: '6666', displayName: 'mallory' };
const CHANNEL = 'discord:300';

let lab: Lab;
let running: RunningServices;
let approvals: Approvals;
let dir: string;

servicesOnSimAroundAll({ scenario: 'phase0', taskSeconds: 0.05 }, (opened) => ({ lab, running, dir } = opened));
beforeAll(() => {
  approvals = new Approvals({
    dbPath: ':memory:',
    policy: approvalPolicyFromEnv({ JARVIS_APPROVERS: 'discord:1001,discord:1002', JARVIS_APPROVALS_REQUIRED: 'critical=2' }),
    audit: approvalAuditor(running.journal),
  });
});
afterAll(() => approvals.close());

const made = (result: PlanResult): Plan => {
  if (!result.ok) throw new Error(result.message);
  return result.plan;
};

describe('plan history and the pending plans of the Gates', () => {
  it('never calls a superseded, rejected, no-change or drift-check plan pending, and lists only approvals that counted', async () => {
    const unchanged = made(await running.services.plan('phase0', owner));
    expect(unchanged.actions).toEqual([]);
    const first = made(await running.services.plan('phase1', owner));
    approvals.register(first, CHANNEL, owner);
    const replacement = made(await running.services.plan('phase1', owner));
    approvals.register(replacement, CHANNEL, owner);
    expect(approvals.get(first.id)?.state).toBe('superseded');
    // A stranger's ✅ is refused; the owner's counts (1/2); then the second approver rejects the plan.
    expect(approvals.approve({ actor: stranger, via: 'reaction', target: { planId: replacement.id } })).toMatchObject({ outcome: 'refused' });
    expect(approvals.approve({ actor: owner, via: 'reaction', target: { planId: replacement.id } })).toMatchObject({ outcome: 'recorded' });
    expect(approvals.reject({ actor: second, via: 'reaction', target: { planId: replacement.id } })).toMatchObject({ outcome: 'rejected' });
    await lab.sim!.lab.setVmConfig(300, { memory: '6144' });
    const drift = await running.services.drift(owner);
    expect(drift.planId).toBeDefined();
    const waiting = made(await running.services.plan('phase1', second));
    approvals.register(waiting, CHANNEL, second);

    const outcomes = Object.fromEntries((await running.services.history(20)).map((h) => [h.planId, { outcome: h.outcome, approvedBy: h.approvedBy }]));
    expect(outcomes).toEqual({
      [unchanged.id]: { outcome: 'no-change', approvedBy: [] },
      [first.id]: { outcome: 'superseded', approvedBy: [] },
      [replacement.id]: { outcome: 'rejected', approvedBy: [] },
      [drift.planId!]: { outcome: 'drift', approvedBy: [] },
      [waiting.id]: { outcome: 'pending', approvedBy: [] },
    });
    expect(readGates(dir, Date.now(), 30).pendingPlans.map((p) => p.id)).toEqual([waiting.id]);

    const ctx = { deps: { services: running.services } } as unknown as CommandContext;
    const text = (await historyCommand({ name: 'history', limit: 20 }, ctx)).sections.flatMap((s) => s.lines).join('\n');
    expect(text).not.toContain('approved by');
    expect(text).toContain(`↪️ superseded`);
  });
});
