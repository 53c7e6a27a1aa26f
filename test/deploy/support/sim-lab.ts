// The simulator in this process with the product's own clients on it (pinned HTTPS, the node's shell, guest agents,
// the tailnet), a phase planned against it, and an apply through the engine: what the whole-phase tests share.
import { simHostShell } from '../../../app/sim-shells.ts';
import { createApplyContext } from '../../../deploy/context.ts';
import { applyPlan } from '../../../deploy/engine.ts';
import { Journal } from '../../../deploy/journal.ts';
import type { ApplyEvent, ApplyReport } from '../../../deploy/types.ts';
import { FACT_READERS } from '../../../infra/facts/readers.ts';
import { createAgentShell } from '../../../infra/proxmox/agent-shell.ts';
import type { RemoteShell } from '../../../infra/shell.ts';
import { createTailnetClient } from '../../../infra/tailscale/client.ts';
import { registerSecret, Secret } from '../../../lib/secret.ts';
import { buildPlan, phaseNumberOf, scanLab, type ScanPorts } from '../../../planner/index.ts';
import type { Plan, PlanPhase } from '../../../planner/plan.ts';
import { startSim, type ScenarioName } from '../../../sim/server.ts';
import { clientFor, loadTestSpec, SPEC_PATH } from './processes.ts';

export type Cleanups = Array<() => Promise<void> | void>;

export async function simLab(scenario: ScenarioName, cleanups: Cleanups) {
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

export type SimLabHandle = Awaited<ReturnType<typeof simLab>>;
export type TestSpec = Awaited<ReturnType<typeof loadTestSpec>>;

/** Scans the lab and plans `phase` of the reference spec (with the simulated site). */
export async function planFor(ports: Omit<ScanPorts, 'facts'>, phase: PlanPhase, id: string): Promise<{ loaded: TestSpec; plan: Plan }> {
  const loaded = await loadTestSpec();
  const state = await scanLab({ ...ports, facts: FACT_READERS }, loaded.spec, phaseNumberOf(phase, loaded.spec));
  return { loaded, plan: buildPlan({ spec: loaded.spec, specPath: SPEC_PATH, specSha256: loaded.source.sha256, phase, state, requestedBy: 'cli:test', now: new Date().toISOString(), id }) };
}

/** Applies an approved plan from the CLI, on the simulator's firewall cycle, collecting the progress events. */
export async function applyOnSim(handle: SimLabHandle, loaded: TestSpec, plan: Plan, confirmWindowMs: number, cleanups: Cleanups): Promise<{ report: ApplyReport; events: ApplyEvent[]; journal: Journal }> {
  const events: ApplyEvent[] = [];
  const journal = Journal.open(':memory:');
  cleanups.push(() => journal.close());
  const ctx = createApplyContext({
    plan,
    spec: loaded,
    lab: handle.lab,
    mgmt: handle.mgmt,
    journal,
    env: {},
    requester: 'cli:test',
    via: 'cli',
    approved: true,
    dryRun: false,
    onProgress: (event) => events.push(event),
    snapshotRetention: 3,
    confirmWindowMs,
    firewallCycleMs: handle.sim.lab.firewall.cycleSeconds() * 1000,
  });
  return { report: await applyPlan(plan, ctx), events, journal };
}
