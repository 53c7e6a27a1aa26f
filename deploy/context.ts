// Wires the apply engine to a lab: the planner's fingerprints for the stale check, the re-scan for validation, the
// provisioning steps, secrets from the environment and the TCP management probe. Used by `jarvis apply` and by chat.
import { readFirewallStatus } from '../infra/facts/pve-firewall.ts';
import { FACT_READERS } from '../infra/facts/readers.ts';
import type { ProxmoxApi } from '../infra/proxmox/api.ts';
import type { RemoteShell } from '../infra/shell.ts';
import type { TailnetApi } from '../infra/tailscale/api.ts';
import { isAbsolute, join } from 'node:path';
import { EXIT, JarvisError } from '../lib/errors.ts';
import { changesFirewall, phaseNumberOf, readLiveFirewall, readTargets, recheckPlan, resolvePhase, type ScanPorts } from '../planner/index.ts';
import type { Plan } from '../planner/plan.ts';
import { loadSpec, type LoadedSpec } from '../planner/spec/load.ts';
import type { Journal } from './journal.ts';
import { managementProbe } from './probe.ts';
import { getStep } from './steps/registry.ts';
import { secretsFromEnv } from './steps/secrets.ts';
import type { ApplyContext, ApplyEvent, ApplyPve } from './types.ts';
import { makeValidator } from './validate.ts';

export const DEFAULT_CONFIRM_WINDOW_MS = 60_000;
/** pve-firewall src/PVE/Service/pve_firewall.pm: `my $updatetime = 10;`. */
export const PVE_FIREWALL_CYCLE_MS = 10_000;

export interface LabConnection {
  pve: ProxmoxApi & ApplyPve;
  hostShell?: RemoteShell;
  guestShell: (vmid: number) => RemoteShell | undefined;
  tailnet?: TailnetApi;
}

export interface ApplyWiring {
  plan: Plan;
  spec: LoadedSpec;
  lab: LabConnection;
  mgmt: { host: string; apiPort: number; sshPort: number };
  journal: Journal;
  env: NodeJS.ProcessEnv;
  requester: string;
  via: 'cli' | 'chat';
  approved: boolean;
  approvals?: ApplyContext['approvals'];
  dryRun: boolean;
  onProgress: (event: ApplyEvent) => void;
  snapshotRetention: number;
  confirmWindowMs?: number;
  /** pve-firewall's update cycle on this node (default 10 s; a simulator's is scaled). */
  firewallCycleMs?: number;
  concurrency?: number;
  backupStorage?: string;
}

/** The spec a plan was made from, unchanged: a changed spec means a new plan (exit 1, refused). */
export async function loadPlanSpec(plan: Plan, cwd: string, site?: string): Promise<LoadedSpec> {
  const loaded = await loadSpec(isAbsolute(plan.spec.path) ? plan.spec.path : join(cwd, plan.spec.path), { cwd, ...(site ? { site } : {}) });
  if (loaded.source.sha256 !== plan.spec.sha256) {
    throw new JarvisError(
      'spec-changed',
      `${plan.spec.path} changed since plan ${plan.id} was made; re-plan with: jarvis plan ${plan.phase}`,
      EXIT.refused,
    );
  }
  return loaded;
}

export function createApplyContext(wiring: ApplyWiring): ApplyContext {
  const { lab, plan } = wiring;
  const scanPorts: ScanPorts = {
    pve: lab.pve,
    hostShell: lab.hostShell,
    guestShell: lab.guestShell,
    tailnet: lab.tailnet,
    facts: FACT_READERS,
  };
  const spec = wiring.spec.spec;
  return {
    pve: lab.pve,
    shells: { host: lab.hostShell, guest: lab.guestShell },
    tailnet: lab.tailnet,
    steps: getStep,
    stepSecrets: secretsFromEnv(wiring.env),
    journal: wiring.journal,
    fingerprint: (keys) => readTargets(scanPorts, keys, spec),
    validate: makeValidator({ plan, spec, scanPorts, pve: lab.pve, now: Date.now }),
    guardrails: async () => {
      if (!changesFirewall(plan)) return recheckPlan({ plan, spec: wiring.spec });
      const firewall = await readLiveFirewall(scanPorts, resolvePhase(spec, phaseNumberOf(plan.phase, spec)));
      if (!firewall.known) throw new Error(`the firewall could not be read for the lock-out check (${firewall.reason})`);
      return recheckPlan({ plan, spec: wiring.spec, liveFirewall: firewall.value });
    },
    requester: wiring.requester,
    via: wiring.via,
    approved: wiring.approved,
    approvals: wiring.approvals,
    dryRun: wiring.dryRun,
    onProgress: wiring.onProgress,
    probeManagement: managementProbe(wiring.mgmt),
    confirmWindowMs: wiring.confirmWindowMs ?? DEFAULT_CONFIRM_WINDOW_MS,
    firewallCycleMs: wiring.firewallCycleMs ?? PVE_FIREWALL_CYCLE_MS,
    ...(lab.hostShell ? { firewallStatus: () => readFirewallStatus(lab.hostShell!) } : {}),
    snapshotRetention: wiring.snapshotRetention,
    backupStorage: wiring.backupStorage,
    concurrency: wiring.concurrency,
    now: Date.now,
  };
}
