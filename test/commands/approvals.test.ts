import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Approvals, type ApprovalAuditEvent } from '../../commands/approvals/state-machine.ts';
import { approvalPolicyFromEnv, type ApprovalPolicy } from '../../commands/approvals/policy.ts';
import type { Requester } from '../../commands/services.ts';
import { shortHash } from '../../commands/plan-labels.ts';
import { planContent, planContentHash } from '../../planner/artifact.ts';
import { makePlan } from '../bot/support/plans.ts';

const owner: Requester = { platform: 'discord', id: '400', displayName: 'alice' };
const second: Requester = { platform: 'discord', id: '401', displayName: 'bob' };
const stranger: Requester = { platform: 'discord', id: '666', displayName: 'mallory' };
const CHANNEL = 'discord:300';
const MESSAGE = 'discord:300:900';

let open: Approvals[] = [];
afterEach(() => {
  for (const a of open) a.close();
  open = [];
});

function setup(env: Record<string, string> = {}, policyOverride: Partial<ApprovalPolicy> = {}) {
  let now = Date.parse('2026-11-26T01:00:00Z');
  const audit: ApprovalAuditEvent[] = [];
  const policy = { ...approvalPolicyFromEnv({ JARVIS_APPROVERS: 'discord:400,discord:401', ...env }), ...policyOverride };
  const approvals = new Approvals({ dbPath: ':memory:', policy, audit: (e) => audit.push(e), now: () => now });
  open.push(approvals);
  const show = (id: string, risks: Parameters<typeof makePlan>[0]['risks'] = ['low'], phase: 'phase0' | 'phase1' = 'phase0') => {
    const plan = makePlan({ id, risks, phase, requestedBy: 'discord:400', createdAt: new Date(now).toISOString() });
    approvals.register(plan, CHANNEL, owner);
    approvals.attachMessage(id, `discord:300:m-${id}`);
    return plan;
  };
  const react = (who: Requester, id: string, eventKey?: string) =>
    approvals.approve({ actor: who, via: 'reaction', target: { messageKey: `discord:300:m-${id}` }, ...(eventKey && { eventKey }) });
  return { approvals, audit, show, react, advance: (ms: number) => (now += ms) };
}

describe('approval state machine', () => {
  it('approves a low-risk plan with one authorized reaction and lets apply start exactly once', () => {
    const { approvals, show, react } = setup();
    const plan = show('p1');
    expect(react(owner, 'p1')).toMatchObject({ outcome: 'approved', planId: 'p1' });
    const start = approvals.beginApply('p1');
    expect(start).toMatchObject({ ok: true, approvals: [{ approver: 'discord:400', planHash: plan.planHash, via: 'reaction' }] });
    expect(approvals.beginApply('p1')).toMatchObject({ ok: false, reason: expect.stringContaining('applying') });
  });

  it('refuses a stranger, says so, and audits the refusal', () => {
    const { approvals, audit, show, react } = setup();
    show('p1');
    expect(react(stranger, 'p1')).toEqual({ outcome: 'refused', planId: 'p1', reason: 'not-approver', message: 'mallory is not an approver for this plan' });
    expect(approvals.get('p1')?.state).toBe('pending');
    expect(audit).toContainEqual(expect.objectContaining({ type: 'approval.decision', actor: 'discord:666', outcome: 'approve:refused', reason: 'not-approver' }));
    expect(approvals.beginApply('p1')).toMatchObject({ ok: false });
  });

  it('ignores reactions on messages that are not Jarvis plan messages', () => {
    const { approvals, audit, show } = setup();
    show('p1');
    const before = audit.length;
    expect(approvals.approve({ actor: owner, via: 'reaction', target: { messageKey: MESSAGE } })).toEqual({ outcome: 'ignored', unlinked: true });
    expect(audit.length).toBe(before);
    expect(approvals.get('p1')?.state).toBe('pending');
  });

  it('refuses an expired plan and never applies it', () => {
    const { approvals, show, react, advance } = setup();
    show('p1');
    advance(30 * 60_000 + 1);
    expect(react(owner, 'p1')).toMatchObject({ outcome: 'refused', reason: 'expired' });
    expect(approvals.get('p1')?.state).toBe('expired');
  });

  it('re-checks freshness when apply starts', () => {
    const { approvals, show, react, advance } = setup();
    show('p1');
    react(owner, 'p1');
    advance(31 * 60_000);
    expect(approvals.beginApply('p1')).toMatchObject({ ok: false, reason: 'plan p1 is expired, not approved' });
  });

  it('re-checks authorization when apply starts (approver removed since)', () => {
    // A restarted process with a narrower policy must not honour an approval by someone no longer authorized.
    const dir = mkdtempSync(join(tmpdir(), 'jarvis-approvals-'));
    try {
      const path = join(dir, 'approvals.db');
      const first = new Approvals({ dbPath: path, policy: approvalPolicyFromEnv({ JARVIS_APPROVERS: 'discord:400' }), audit: () => undefined });
      first.register(makePlan({ id: 'p9' }), CHANNEL, owner);
      first.approve({ actor: owner, via: 'text', target: { planId: 'p9' } });
      first.close();
      const restarted = new Approvals({ dbPath: path, policy: approvalPolicyFromEnv({ JARVIS_APPROVERS: 'discord:401' }), audit: () => undefined });
      expect(restarted.beginApply('p9')).toMatchObject({ ok: false, reason: 'discord:400 is no longer an approver' });
      restarted.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('treats a double click and a replayed event as one decision', () => {
    const { approvals, audit, show, react } = setup();
    show('p1');
    expect(react(owner, 'p1', 'evt-1')).toMatchObject({ outcome: 'approved' });
    expect(react(owner, 'p1', 'evt-1')).toEqual({ outcome: 'ignored' });
    expect(react(owner, 'p1', 'evt-2')).toMatchObject({ outcome: 'duplicate', planId: 'p1' });
    expect(approvals.approvers('p1')).toEqual(['discord:400']);
    expect(audit.filter((e) => e.outcome === 'approve:approved')).toHaveLength(1);
    approvals.beginApply('p1');
    expect(react(owner, 'p1', 'evt-3')).toMatchObject({ outcome: 'duplicate', planId: 'p1' });
  });

  it('rejects a plan; approvals after that change nothing', () => {
    const { approvals, show, react } = setup();
    show('p1');
    expect(approvals.reject({ actor: owner, via: 'reaction', target: { messageKey: 'discord:300:m-p1' } })).toMatchObject({ outcome: 'rejected' });
    expect(react(second, 'p1')).toMatchObject({ outcome: 'refused', reason: 'closed' });
    expect(approvals.beginApply('p1')).toMatchObject({ ok: false });
  });

  it('supersedes an older open plan of the same phase in the channel', () => {
    const { show, react } = setup();
    show('p1');
    show('p2');
    expect(react(owner, 'p1')).toMatchObject({ outcome: 'refused', reason: 'superseded' });
    expect(react(owner, 'p2')).toMatchObject({ outcome: 'approved' });
  });

  it('addresses the plan awaiting a decision in the channel when no plan id is given, and asks which when several do', () => {
    const { approvals, show } = setup();
    show('p1', ['low'], 'phase0');
    show('p2', ['low'], 'phase1');
    const channel = { actor: owner, via: 'text' as const, target: { channelKey: CHANNEL } };
    expect(approvals.approve(channel)).toMatchObject({ outcome: 'refused', reason: 'ambiguous', message: expect.stringMatching(/2 plans await a decision here: p2 \(phase1, by discord:400\), p1 \(phase0/) });
    expect(approvals.approve({ ...channel, target: { planId: 'p1' } })).toMatchObject({ outcome: 'approved', planId: 'p1' });
    expect(approvals.approve(channel)).toMatchObject({ outcome: 'approved', planId: 'p2' });
    expect(approvals.approve({ actor: owner, via: 'text', target: { channelKey: 'discord:999' } })).toMatchObject({ outcome: 'refused', reason: 'no-plan' });
  });

  it('keeps the plan exactly as it was shown, and gives apply that content with approvals bound to it', () => {
    const { approvals, show, react } = setup();
    const plan = show('p1');
    react(owner, 'p1');
    const start = approvals.beginApply('p1');
    if (!start.ok) throw new Error(start.reason);
    expect(start.plan).toBe(planContent(plan));
    expect(start.approvals).toEqual([expect.objectContaining({ planHash: plan.planHash, contentHash: planContentHash(plan) })]);
  });

  it('lets a viewer’s plan stand beside an approver’s pending or approved plan instead of superseding it', () => {
    const { approvals, show, react } = setup({ JARVIS_APPROVALS_REQUIRED: 'low=2' });
    show('p1');
    expect(react(owner, 'p1')).toMatchObject({ outcome: 'recorded' });
    const viewerPlan = makePlan({ id: 'p2', requestedBy: 'discord:666' });
    const viewer = approvals.register(viewerPlan, CHANNEL, stranger);
    expect(viewer.superseded).toEqual([]);
    expect(viewer.keptBeside.map((r) => r.planId)).toEqual(['p1']);
    expect(approvals.get('p1')?.state).toBe('pending');
    expect(react(second, 'p1')).toMatchObject({ outcome: 'approved' });
    // A viewer's newer plan replaces their own older one; an approver's replaces anyone's.
    expect(approvals.register(makePlan({ id: 'p3', requestedBy: 'discord:666' }), CHANNEL, stranger).superseded).toEqual(['p2']);
    expect(approvals.register(makePlan({ id: 'p4', requestedBy: 'discord:401' }), CHANNEL, second).superseded).toEqual(['p3', 'p1']);
    expect(approvals.get('p1')?.state).toBe('superseded');
  });

  it('does not burn the event of a reaction that comes before its message is linked: the same event counts after', () => {
    const { approvals } = setup();
    approvals.register(makePlan({ id: 'p1', requestedBy: 'discord:400' }), CHANNEL, owner);
    const early = { actor: owner, via: 'reaction' as const, target: { messageKey: 'discord:300:m-early' }, eventKey: 'discord:reaction:m-early:400:✅' };
    expect(approvals.approve(early)).toEqual({ outcome: 'ignored', unlinked: true });
    approvals.attachMessage('p1', 'discord:300:m-early');
    expect(approvals.approve(early)).toMatchObject({ outcome: 'approved', planId: 'p1' });
    expect(approvals.approve(early)).toEqual({ outcome: 'ignored' });
  });

  it('counts a ✅ removed and added again as a new event (once per approver)', () => {
    const { approvals, show, react, advance } = setup();
    const plan = show('p1', ['critical']);
    const key = 'discord:reaction:m-p1:400:✅';
    expect(react(owner, 'p1', key)).toMatchObject({ outcome: 'needs-confirmation' });
    advance(2 * 60_000 + 1);
    expect(approvals.confirm({ actor: owner, via: 'typed-confirmation', target: { planId: 'p1' } }, shortHash(plan.planHash))).toMatchObject({ reason: 'confirmation-expired' });
    expect(react(owner, 'p1', key)).toEqual({ outcome: 'ignored' });
    approvals.forgetEvent(key);
    expect(react(owner, 'p1', key)).toMatchObject({ outcome: 'needs-confirmation' });
    approvals.forgetEvent(key);
    expect(react(owner, 'p1', key)).toMatchObject({ outcome: 'duplicate' });
  });

  it('takes a typed confirmation without plan id for the plan awaiting it, even beside another pending plan', () => {
    const { approvals, show, react } = setup();
    const critical = show('p1', ['critical'], 'phase1');
    show('p2', ['low'], 'phase0');
    react(owner, 'p1');
    expect(approvals.confirm({ actor: owner, via: 'typed-confirmation', target: { channelKey: CHANNEL } }, shortHash(critical.planHash))).toMatchObject({ outcome: 'approved', planId: 'p1' });
  });

  it('answers a second approve while the typed confirmation is awaited, and an approve of an applied plan', () => {
    const { approvals, show, react } = setup();
    const plan = show('p1', ['critical']);
    react(owner, 'p1');
    const again = approvals.approve({ actor: owner, via: 'text', target: { channelKey: CHANNEL } });
    expect(again).toMatchObject({ outcome: 'duplicate', next: `/jarvis confirm ${shortHash(plan.planHash)} p1`, message: expect.stringContaining('waits for its typed confirmation') });
    expect(approvals.approve({ actor: second, via: 'text', target: { planId: 'p1' } })).toMatchObject({ outcome: 'duplicate', message: expect.stringContaining('waits for its typed confirmation') });
    approvals.confirm({ actor: owner, via: 'typed-confirmation', target: { planId: 'p1' } }, shortHash(plan.planHash));
    approvals.beginApply('p1');
    approvals.finishApply('p1', 'applied');
    expect(approvals.approve({ actor: owner, via: 'text', target: { planId: 'p1' } })).toMatchObject({ outcome: 'refused', reason: 'closed', message: 'Plan p1 is already applied; there is nothing left to approve' });
  });

  it('needs the typed short hash within two minutes for a critical plan', () => {
    const { approvals, show, react, advance } = setup();
    const plan = show('p1', ['low', 'critical']);
    const decision = react(owner, 'p1');
    expect(decision).toMatchObject({ outcome: 'needs-confirmation', shortHash: shortHash(plan.planHash) });
    expect(approvals.beginApply('p1')).toMatchObject({ ok: false });
    const confirm = (who: Requester, hash: string) => approvals.confirm({ actor: who, via: 'typed-confirmation', target: { planId: 'p1' } }, hash);
    expect(confirm(stranger, shortHash(plan.planHash))).toMatchObject({ outcome: 'refused', reason: 'not-approver' });
    expect(confirm(owner, '00000000')).toMatchObject({ outcome: 'refused', reason: 'wrong-hash' });
    advance(60_000);
    expect(confirm(owner, shortHash(plan.planHash).toUpperCase())).toMatchObject({ outcome: 'approved' });
    expect(approvals.beginApply('p1')).toMatchObject({ ok: true });
  });

  it('lets the critical confirmation lapse after two minutes; a new ✅ reopens it', () => {
    const { approvals, show, react, advance } = setup();
    const plan = show('p1', ['critical']);
    react(owner, 'p1');
    advance(2 * 60_000 + 1);
    expect(approvals.confirm({ actor: owner, via: 'typed-confirmation', target: { planId: 'p1' } }, shortHash(plan.planHash))).toMatchObject({ outcome: 'refused', reason: 'confirmation-expired' });
    expect(approvals.get('p1')?.state).toBe('pending');
    expect(react(owner, 'p1')).toMatchObject({ outcome: 'needs-confirmation' });
  });

  it('needs a second distinct approver for a critical plan where configured, instead of the typed hash', () => {
    const { approvals, show, react } = setup({ JARVIS_APPROVALS_REQUIRED: 'critical=2' });
    show('p1', ['critical']);
    expect(react(owner, 'p1')).toMatchObject({ outcome: 'recorded', message: expect.stringContaining('(1/2)') });
    expect(react(owner, 'p1')).toMatchObject({ outcome: 'duplicate' });
    expect(approvals.beginApply('p1')).toMatchObject({ ok: false });
    expect(react(second, 'p1')).toMatchObject({ outcome: 'approved' });
    expect(approvals.beginApply('p1')).toMatchObject({ ok: true, approvals: [{ approver: 'discord:400' }, { approver: 'discord:401' }] });
  });

  it('refuses self-approval when the policy forbids it', () => {
    const { show, react } = setup({ JARVIS_SELF_APPROVAL: 'false' });
    show('p1');
    expect(react(owner, 'p1')).toMatchObject({ outcome: 'refused', reason: 'self-approval' });
    expect(react(second, 'p1')).toMatchObject({ outcome: 'approved' });
  });

  it('accepts members of an approver group (Discord role, Slack user group)', () => {
    const { approvals, show, react } = setup({ JARVIS_APPROVER_GROUPS: 'discord:777' });
    show('p1');
    expect(react({ ...stranger, groups: ['888'] }, 'p1')).toMatchObject({ outcome: 'refused', reason: 'not-approver' });
    expect(react({ ...stranger, groups: ['777'] }, 'p1')).toMatchObject({ outcome: 'approved' });
    expect(approvals.beginApply('p1')).toMatchObject({ ok: true, approvals: [{ approver: 'discord:666' }] });
  });

  it('does not honour a group vote once the group is no longer an approver group', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jarvis-approvals-'));
    try {
      const path = join(dir, 'approvals.db');
      const first = new Approvals({ dbPath: path, policy: approvalPolicyFromEnv({ JARVIS_APPROVER_GROUPS: 'slack:S0OPS' }), audit: () => undefined });
      first.register(makePlan({ id: 'p9' }), 'slack:C1', owner);
      expect(first.approve({ actor: { platform: 'slack', id: 'U1', displayName: 'carol', groups: ['S0OPS'] }, via: 'reaction', target: { planId: 'p9' } })).toMatchObject({ outcome: 'approved' });
      first.close();
      const restarted = new Approvals({ dbPath: path, policy: approvalPolicyFromEnv({ JARVIS_APPROVER_GROUPS: 'slack:S0OTHER' }), audit: () => undefined });
      expect(restarted.beginApply('p9')).toMatchObject({ ok: false, reason: 'slack:U1 is no longer an approver' });
      restarted.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('approvalPolicyFromEnv', () => {
  it('rejects approvers that are not platform:id, naming the variable', () => {
    expect(() => approvalPolicyFromEnv({ JARVIS_APPROVERS: 'alice' })).toThrow(/JARVIS_APPROVERS: "alice" is not platform:id/);
    expect(() => approvalPolicyFromEnv({ JARVIS_APPROVALS_REQUIRED: 'critical=9' })).toThrow(/JARVIS_APPROVALS_REQUIRED/);
  });

  it('JARVIS_SECOND_APPROVER_FOR_CRITICAL asks for two approvers instead of the typed hash', () => {
    const policy = approvalPolicyFromEnv({ JARVIS_SECOND_APPROVER_FOR_CRITICAL: 'true', JARVIS_APPROVAL_TTL_MINUTES: '10' });
    expect(policy.required.critical).toBe(2);
    expect(policy.criticalTypedConfirmation).toBe(false);
    expect(policy.ttlMs).toBe(10 * 60_000);
  });

  it('defaults to one approval, typed confirmation for critical, 30 minute TTL', () => {
    const policy = approvalPolicyFromEnv({ JARVIS_APPROVERS: 'discord:1,slack:U1' });
    expect([...policy.approvers]).toEqual(['discord:1', 'slack:U1']);
    expect(policy.required.critical).toBe(1);
    expect(policy.criticalTypedConfirmation).toBe(true);
    expect(policy.ttlMs).toBe(30 * 60_000);
  });
});
