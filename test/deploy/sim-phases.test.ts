// Whole phases through the engine against the simulator in this process (HTTPS, pinned client), with the simulator's
// guest and host shells attached so provisioning steps run for real in their sandboxes: apply, then the plan for the
// same phase is empty.
import { afterEach, describe, expect, it } from 'vitest';
import { simHostShell } from '../../app/sim-shells.ts';
import { createApplyContext } from '../../deploy/context.ts';
import { applyPlan } from '../../deploy/engine.ts';
import { Journal } from '../../deploy/journal.ts';
import type { ApplyEvent } from '../../deploy/types.ts';
import { FACT_READERS } from '../../infra/facts/readers.ts';
import { createAgentShell } from '../../infra/proxmox/agent-shell.ts';
import type { RemoteShell } from '../../infra/shell.ts';
import { createTailnetClient } from '../../infra/tailscale/client.ts';
import { registerSecret, Secret } from '../../lib/secret.ts';
import { buildPlan, phaseNumberOf, scanLab, type ScanPorts } from '../../planner/index.ts';
import type { PlanPhase } from '../../planner/plan.ts';
import { startSim, type ScenarioName } from '../../sim/server.ts';
import { clientFor, loadTestSpec, SPEC_PATH } from './support/processes.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function simLab(scenario: ScenarioName) {
  const sim = await startSim({ scenario, taskSeconds: 0.1 });
  cleanups.push(() => sim.close());
  const hostShell = simHostShell(sim);
  cleanups.push(() => hostShell.close());
  const pve = clientFor({ PROXMOX_URL: sim.url, PROXMOX_NODE: sim.node, PROXMOX_TOKEN_ID: sim.tokenId, PROXMOX_TOKEN_SECRET: sim.tokenSecret, PROXMOX_FINGERPRINT: sim.fingerprint });
  cleanups.push(() => pve.close());
  const tailnet = createTailnetClient({ baseUrl: sim.tailscaleUrl, tailnet: '-', apiKey: registerSecret(new Secret(sim.tailscaleApiKey)) });
  const agents = new Map<number, RemoteShell>();
  const guestShell = (vmid: number): RemoteShell => {
    if (!agents.has(vmid)) agents.set(vmid, createAgentShell(pve, vmid, `vm/${vmid}`));
    return agents.get(vmid)!;
  };
  const lab = { pve, hostShell, guestShell, tailnet };
  const url = new URL(sim.url);
  return { sim, lab, mgmt: { host: url.hostname, apiPort: Number(url.port), sshPort: sim.mgmtSshPort } };
}

async function planFor(ports: ScanPorts, phase: PlanPhase, id: string) {
  const loaded = await loadTestSpec();
  const state = await scanLab({ ...ports, facts: FACT_READERS }, loaded.spec, phaseNumberOf(phase, loaded.spec));
  return { loaded, plan: buildPlan({ spec: loaded.spec, specPath: SPEC_PATH, specSha256: loaded.source.sha256, phase, state, requestedBy: 'cli:test', now: new Date().toISOString(), id }) };
}

describe.each([
  { phase: 'phase1' as const, scenario: 'phase0' as const, expect: ['zfs.pool.create:tank', 'zfs.dataset.create:tank/media', 'migration.data:plex-media', 'host.apt.sources:no-subscription'], owner: [] as string[], blocked: [] as string[] },
  // The full reference at phase 2: router 150 boots its installer until the owner installs and configures OPNsense;
  // the moves, the tags that say where the guests live and the routes into the segments wait for that.
  {
    phase: 'firewall' as const,
    scenario: 'phase1' as const,
    expect: ['firewall.options:cluster', 'network.apply'],
    owner: ['manual.step:150:router'],
    blocked: ['guest.tailscale.routes:100', 'tailnet.routes.approve:edge-gateway', 'vm.nic.reattach:300:net0', 'vm.nic.reattach:400:net0', 'vm.tags:300', 'vm.tags:400'],
  },
])('$phase from $scenario', ({ phase, scenario, expect: mustHave, owner, blocked }) => {
  it('applies, validates, and the plan for the same phase is empty afterwards but for the owner\'s manual steps', async () => {
    const { sim, lab, mgmt } = await simLab(scenario);
    const { loaded, plan } = await planFor(lab, phase, `${phase}-from-${scenario}`);
    expect(plan.violations).toEqual([]);
    expect(plan.actions.map((a) => a.id)).toEqual(expect.arrayContaining(mustHave));
    const events: ApplyEvent[] = [];
    const journal = Journal.open(':memory:');
    cleanups.push(async () => journal.close());
    const ctx = createApplyContext({
      plan,
      spec: loaded,
      lab,
      mgmt,
      journal,
      env: {},
      requester: 'cli:test',
      via: 'cli',
      approved: true,
      dryRun: false,
      onProgress: (event) => events.push(event),
      snapshotRetention: 3,
      confirmWindowMs: 5_000,
      firewallCycleMs: sim.lab.firewall.cycleSeconds() * 1000,
    });
    const report = await applyPlan(plan, ctx);
    expect(report.actions.filter((a) => a.outcome !== 'done' && !owner.includes(a.actionId) && !blocked.includes(a.actionId))).toEqual([]);
    expect(report.actions.filter((a) => a.outcome === 'waiting').map((a) => a.actionId)).toEqual(owner);
    expect(report.actions.filter((a) => a.outcome === 'not-run').map((a) => a.actionId).sort()).toEqual([...blocked].sort());
    expect(report.validation?.remaining).toEqual([]);
    expect(report.validation?.waiting?.map((w) => w.actionId)).toEqual(owner);
    expect(report.validation?.blocked?.map((b) => b.actionId).sort() ?? []).toEqual([...blocked].sort());
    expect(report.status).toBe(owner.length ? 'waiting-for-owner' : 'applied');
    expect(report.actions.filter((a) => !a.achieved).map((a) => a.actionId).sort()).toEqual([...owner, ...blocked].sort());
    expect((await planFor(lab, phase, `${phase}-again`)).plan.actions.map((a) => a.id).sort()).toEqual([...owner, ...blocked].sort());
    expect(journal.verifyAuditChain().ok).toBe(true);
  }, 180_000);
});
