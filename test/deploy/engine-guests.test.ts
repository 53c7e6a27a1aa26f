// The engine and guests that boot: a start ends only when the guest agent answers (progress while it waits), a guest
// step never runs before it, and a manual step of the owner leaves the apply "waiting for the owner", not failed.
import { describe, expect, it } from 'vitest';
import { applyPlan } from '../../deploy/engine.ts';
import { nextSteps } from '../../deploy/next-steps.ts';
import type { Step } from '../../deploy/steps/types.ts';
import type { RemoteShell } from '../../infra/shell.ts';
import type { TailnetApi, TailnetDevice } from '../../infra/tailscale/api.ts';
import { FakePve } from './support/fake-pve.ts';
import { action, context, memoryJournal, plan, startVmRequest, vmCreateAction, withFingerprints } from './support/plans.ts';

const wait = { vmid: 300, seconds: 30, os: 'debian-13' as const };
const shell: RemoteShell = { host: 'vm/300', transport: 'agent', exec: async () => ({ code: 0, stdout: '', stderr: '' }), close: async () => {} };

function recordingStep(log: string[], pve: FakePve, upAt: () => number): (id: string) => Step {
  return (id) => ({
    id,
    where: 'guest',
    check: async () => ({ done: log.includes(`apply ${id}`), detail: id }),
    apply: async () => {
      // The step runs only once the agent answers.
      expect(Date.now()).toBeGreaterThanOrEqual(upAt());
      expect(pve.vms.get(300)?.status).toBe('running');
      log.push(`apply ${id}`);
    },
  });
}

function tailnet(devices: Array<Partial<TailnetDevice>>): TailnetApi {
  return {
    listDevices: async () => devices.map((d, i) => ({ id: `d${i}`, nodeId: `n${i}`, name: `${d.hostname}.ts.net`, hostname: '', addresses: [], authorized: true, keyExpiryDisabled: false, advertisedRoutes: [], enabledRoutes: [], ...d })),
  } as unknown as TailnetApi;
}

const manualStep = action('manual.step:400:tailscale', {
  type: 'manual.step',
  kind: 'create',
  channel: 'owner',
  target: 'vm/400 (home-assistant) — by the owner',
  targetKey: 'tailnet',
  params: { channel: 'owner', instructions: ['install the Tailscale add-on'], observe: { kind: 'tailnet-device-online', hostname: 'home-assistant' } },
});

describe('guest agent waits in apply', () => {
  it('a start ends when the agent answers; the guest step after it runs then, with progress while waiting', async () => {
    let upAt = Number.POSITIVE_INFINITY;
    const pve = new FakePve({ taskMs: 5, agentDown: () => Date.now() < upAt });
    const log: string[] = [];
    const p = await withFingerprints(
      plan([
        vmCreateAction(300),
        action('vm.start:300', { targetKey: 'vm/300', dependsOn: ['vm.create:300'], params: { channel: 'pve', requests: [startVmRequest(300)], agentWait: wait } }),
        action('guest.docker.install:300', { channel: 'guest', targetKey: 'guest/300', dependsOn: ['vm.start:300'], params: { channel: 'guest', vmid: 300, step: 'docker.install', args: {}, agentWait: wait } }),
      ]),
      pve,
    );
    const ctx = context(pve, memoryJournal(), {
      steps: recordingStep(log, pve, () => upAt),
      shells: { guest: () => shell },
      onProgress: (event) => {
        ctx.events.push(event);
        // The guest comes up a moment after its start task ends.
        if (event.type === 'action.progress' && upAt === Number.POSITIVE_INFINITY) upAt = Date.now() + 60;
      },
    });
    const report = await applyPlan(p, ctx);
    expect(report.status).toBe('applied');
    expect(log).toEqual(['apply docker.install']);
    const progress = ctx.events.flatMap((e) => (e.type === 'action.progress' ? [`${e.actionId}: ${e.detail}`] : []));
    expect(progress[0]).toMatch(/^vm\.start:300: waiting for VM 300's guest agent \(up to 30 s/);
    expect(report.actions.find((a) => a.actionId === 'vm.start:300')?.detail).toMatch(/guest agent answers/);
  });

  it('a guest step fails with what to look at when the agent never answers, and runs nothing in the guest', async () => {
    const pve = new FakePve({ taskMs: 5, agentDown: () => true });
    pve.addVm(300, { status: 'running' });
    const log: string[] = [];
    const p = await withFingerprints(
      plan([action('guest.docker.install:300', { channel: 'guest', targetKey: 'guest/300', params: { channel: 'guest', vmid: 300, step: 'docker.install', args: {}, agentWait: { ...wait, seconds: 10 } } })]),
      pve,
    );
    let clock = 0;
    const report = await applyPlan(p, context(pve, memoryJournal(), { steps: recordingStep(log, pve, () => 0), shells: { guest: () => shell }, now: () => clock, sleep: async (ms) => void (clock += ms) }));
    expect(report.status).toBe('failed');
    expect(report.actions[0]).toMatchObject({ outcome: 'failed', detail: expect.stringMatching(/did not answer within 10 s.*cloud-init status/) });
    expect(log).toEqual([]);
  });
});

describe('manual steps in apply', () => {
  it('applies the rest, reports the step as waiting for the owner, and ends as such (not failed)', async () => {
    const pve = new FakePve({ taskMs: 5 });
    const p = await withFingerprints(plan([vmCreateAction(100), manualStep]), pve);
    const ctx = context(pve, memoryJournal(), {
      tailnet: tailnet([]),
      validate: async () => ({ remaining: [], probes: [], waiting: [{ actionId: manualStep.id, summary: 'vm/400: home-assistant online in the tailnet', instructions: ['install the Tailscale add-on'] }] }),
    });
    const report = await applyPlan(p, ctx);
    expect(report.status).toBe('waiting-for-owner');
    expect(report.actions.map((a) => [a.actionId, a.outcome])).toEqual([['vm.create:100', 'done'], [manualStep.id, 'waiting']]);
    expect(ctx.events).toContainEqual({ type: 'action.waiting', actionId: manualStep.id, target: manualStep.target, instructions: ['install the Tailscale add-on'] });
    expect(report.next[0]).toMatch(/waiting for the owner/);
    expect(report.next.join('\n')).toContain('install the Tailscale add-on');
    expect(pve.requests.filter((r) => r.path.includes('400'))).toEqual([]);
    expect(nextSteps(p, report)).toEqual(report.next);
  });

  it('counts the step done once the device is online in the tailnet', async () => {
    const pve = new FakePve({ taskMs: 5 });
    const p = await withFingerprints(plan([manualStep]), pve);
    const report = await applyPlan(p, context(pve, memoryJournal(), { tailnet: tailnet([{ hostname: 'home-assistant', connectedToControl: true }]) }));
    expect(report.status).toBe('applied');
    expect(report.actions[0]).toMatchObject({ outcome: 'already-done', detail: expect.stringContaining('home-assistant is online') });
  });
});
