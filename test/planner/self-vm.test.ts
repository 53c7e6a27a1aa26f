// Jarvis knows its own VM (JARVIS_SELF_VMID): a plan that reboots, rolls back or re-addresses it says that Jarvis goes
// offline and resumes from the journal; other VMs' restarts say nothing of the kind.
import { describe, expect, it } from 'vitest';
import { buildPlan, renderPlanMarkdown, renderPlanText } from '../../planner/index.ts';
import { buildRollbackPlan } from '../../planner/special-plans.ts';
import { checkSpec } from '../../planner/spec/guardrails.ts';
import { loadReference, phase0State } from './fixtures.ts';

async function planWith(state = phase0State(), selfVmid?: number) {
  const loaded = await loadReference();
  return buildPlan({
    spec: loaded.spec,
    specPath: 'specs/jarvis-homelab.desired.yaml',
    specSha256: loaded.source.sha256,
    phase: 'phase0',
    state,
    specFindings: checkSpec(loaded),
    requestedBy: 'test',
    now: new Date(0).toISOString(),
    id: 'plan-self',
    ...(selfVmid !== undefined ? { selfVmid } : {}),
  });
}

/** VM 100 running with less memory than the spec: the change waits for a reboot (no memory hotplug). */
function memoryDrift(vmid: number) {
  const state = phase0State();
  state.vms[vmid]!.config.memory = '1024';
  return state;
}

describe('a plan that takes Jarvis’s own VM away', () => {
  it('marks the reboot of VM 100 (the default JARVIS_SELF_VMID): offline for ~N s, resumes from the journal', async () => {
    const plan = await planWith(memoryDrift(100));
    expect(plan.actions.map((a) => a.id)).toContain('vm.reboot:100');
    expect(plan.warnings).toContainEqual({
      code: 'jarvis-offline',
      actionId: 'vm.reboot:100',
      message: 'vm.reboot:100: Jarvis itself goes offline for ~30 s (its VM restarts: VM 100 is where Jarvis runs); the apply resumes from the journal after restart',
    });
    for (const text of [renderPlanText(plan), renderPlanMarkdown(plan)]) expect(text).toContain('Jarvis itself goes offline for ~30 s');
  });

  it('says nothing for another VM’s reboot, and follows JARVIS_SELF_VMID when it names another VM', async () => {
    expect((await planWith(memoryDrift(300))).warnings.filter((w) => w.code === 'jarvis-offline')).toEqual([]);
    const moved = await planWith(memoryDrift(300), 300);
    expect(moved.warnings.filter((w) => w.code === 'jarvis-offline').map((w) => w.actionId)).toEqual(['vm.reboot:300']);
  });

  it('marks a rollback of Jarvis’s VM (it restarts from the snapshot)', () => {
    const base = { node: 'proxmox', spec: { path: 'specs/nas.desired.yaml', sha256: 'x' }, phase: 'phase0' as const, requestedBy: 'cli:owner', now: new Date(0).toISOString(), id: 'plan-rb' };
    const own = buildRollbackPlan({ ...base, vmid: 100, snapshot: 'before', liveDigest: 'd', running: true });
    expect(own.warnings.map((w) => w.message)).toEqual([
      'vm.rollback:100: Jarvis itself goes offline for ~60 s (its VM is rolled back to a snapshot: VM 100 is where Jarvis runs); the apply resumes from the journal after restart',
    ]);
    expect(buildRollbackPlan({ ...base, vmid: 300, snapshot: 'before', liveDigest: 'd', running: true }).warnings).toEqual([]);
  });
});
