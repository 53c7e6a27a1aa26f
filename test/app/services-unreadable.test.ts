// A target apply cannot read is not a changed target: through the real services, planner and engine over the
// simulator, a guest whose agent does not answer at apply time stops the apply before any write with "could not
// read", and the same plan applies once the agent answers again; a VM that was stopped since the plan is stale.
import { describe, expect, it } from 'vitest';
import type { Lab } from '../../app/lab.ts';
import type { RunningServices } from '../../app/services.ts';
import type { ApprovalRecord, Requester } from '../../commands/services.ts';
import { planContent, planContentHash } from '../../planner/artifact.ts';
import type { Plan } from '../../planner/plan.ts';
import { servicesOnSimAroundEach } from '../support/services-on-sim.ts';

const owner: Requester = { platform: 'discord', id: '111111111111111111', displayName: 'owner' };
const approvalOf = (plan: Plan): ApprovalRecord => ({
  approver: `discord:${owner.id}`,
  planId: plan.id,
  planHash: plan.planHash,
  contentHash: planContentHash(plan),
  at: new Date().toISOString(),
  via: 'reaction',
});
/** What the approval store hands apply: the approvals and the plan as it was shown. */
const approved = (plan: Plan) => ({ approvals: [approvalOf(plan)], approvedPlan: planContent(plan), requester: owner });

let lab: Lab;
let running: RunningServices;

servicesOnSimAroundEach({ scenario: 'phase0', taskSeconds: 0.05 }, (opened) => ({ lab, running } = opened));

/** A phase-0 plan whose only action provisions Docker in VM 300 (target guest/300, read through the guest agent). */
async function dockerPlan(): Promise<Plan> {
  lab.sim!.lab.guests[300]!.facts.docker = { installed: false, compose: false };
  const result = await running.services.plan('phase0', owner);
  if (!result.ok) throw new Error(result.message);
  expect(result.plan.actions.map((a) => a.targetKey)).toEqual(['guest/300']);
  return result.plan;
}

const writesSince = (from: number) => lab.sim!.requests.slice(from).filter((r) => r.method !== 'GET' && r.status < 400);

describe('apply: could not read is not stale', () => {
  it('stops before any write when the guest agent does not answer, and the same plan applies once it does', async () => {
    const plan = await dockerPlan();
    lab.sim!.lab.agentsDown.add(300);
    const before = lab.sim!.requests.length;
    const first = await running.services.apply(plan.id, approved(plan));
    expect(first).toMatchObject({ outcome: 'not-started', completed: [] });
    expect(first.message).toMatch(/^could not read guest\/300: .*QEMU guest agent is not running.*; nothing was changed, try again$/);
    expect(first.message).not.toContain('stale');
    expect(writesSince(before)).toEqual([]);
    // The facts probe was sent again before giving up (one read and three re-reads).
    const probes = lab.sim!.requests.slice(before).filter((r) => r.path === '/nodes/proxmox/qemu/300/agent/exec');
    expect(probes).toHaveLength(4);

    lab.sim!.lab.agentsDown.delete(300);
    const second = await running.services.apply(plan.id, approved(plan));
    expect(second).toMatchObject({ outcome: 'applied', validated: true, completed: ['guest.docker.install:300'] });
  }, 60_000);

  it('calls a guest whose VM was stopped since the plan stale: that is a change, not a failed read', async () => {
    const plan = await dockerPlan();
    await lab.ports.pve.request('POST', '/nodes/proxmox/qemu/300/status/stop', {});
    await expect.poll(() => lab.sim!.lab.vm('300').status, { timeout: 10_000 }).toBe('stopped');
    const report = await running.services.apply(plan.id, approved(plan));
    expect(report.outcome).toBe('refused');
    expect(report.message).toContain(`plan ${plan.id} is stale: 1 target(s) changed since it was made (guest/300)`);
  }, 60_000);
});
