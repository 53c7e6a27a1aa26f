// Making a plan: load and check the phase's spec, scan the lab, build the artifact. Shared by `jarvis plan`, chat
// (`/jarvis plan`), the drift watch and `jarvis status`, so every path plans the same way.
import { randomUUID } from 'node:crypto';
import { isAbsolute, join } from 'node:path';
import { readHostFacts } from '../infra/facts/host.ts';
import { FACT_READERS } from '../infra/facts/readers.ts';
import { InputError, UnreachableError } from '../lib/errors.ts';
import { buildPlan, phaseNumberOf, scanLab, type ScanPorts } from '../planner/index.ts';
import type { Plan, PlanPhase } from '../planner/plan.ts';
import { checkSpec } from '../planner/spec/guardrails.ts';
import { loadSpec, type LoadedSpec } from '../planner/spec/load.ts';
import type { MonitorPorts } from '../monitor/collect.ts';
import type { LabPorts } from './lab.ts';

/** The canonical spec of each phase (README "Phases and specs"); `--spec` overrides it. */
export const PHASE_SPECS: Record<PlanPhase, string> = {
  phase0: 'specs/nas.desired.yaml',
  phase1: 'specs/jarvis-homelab.desired.yaml',
  phase2: 'specs/jarvis-homelab.desired.yaml',
  firewall: 'specs/preprod.firewall.desired.yaml',
};
export const PLAN_PHASES = Object.keys(PHASE_SPECS) as PlanPhase[];

export const defaultSpecFor = (phase: PlanPhase): string => PHASE_SPECS[phase];

export function scanPortsOf(ports: LabPorts): ScanPorts {
  return { ...ports, facts: FACT_READERS };
}

/** What status and the watchers read: the API, the tailnet, and host facts when there is a host shell. */
export function monitorPortsOf(ports: LabPorts): MonitorPorts {
  const shell = ports.hostShell;
  return { proxmox: ports.pve, tailnet: ports.tailnet, ...(shell ? { hostFacts: () => readHostFacts(shell) } : {}) };
}

export function newPlanId(now: Date): string {
  return `plan-${now.toISOString().slice(0, 10).replace(/-/g, '')}-${randomUUID().slice(0, 8)}`;
}

export interface MakePlanInput {
  phase: PlanPhase;
  /** Relative to cwd unless absolute; default: the phase's canonical spec. */
  specPath?: string;
  cwd: string;
  ports: LabPorts;
  /** Where the lab is, for messages (URL or "simulated lab"). */
  labName: string;
  requestedBy: string;
  now?: Date;
  onProgress?: (line: string) => void;
}

export interface MadePlan {
  plan: Plan;
  loaded: LoadedSpec;
  specPath: string;
}

/** Loads the spec (InputError with file:line on bad input), scans, plans. Violations are in the plan, not thrown. */
export async function makePlan(input: MakePlanInput): Promise<MadePlan> {
  const specPath = input.specPath ?? PHASE_SPECS[input.phase];
  const absolute = isAbsolute(specPath) ? specPath : join(input.cwd, specPath);
  const loaded = await loadSpec(absolute, { cwd: input.cwd });
  const { spec } = loaded;
  if (input.phase === 'firewall' && spec.metadata.scope !== 'firewall') {
    input.onProgress?.(`note: ${specPath} is not a firewall-scope spec; planning its firewall at phase ${spec.metadata.maxPhase} with everything else`);
  }
  const phaseNumber = phaseNumberOf(input.phase, spec);
  if (phaseNumber > spec.metadata.maxPhase) {
    throw new InputError(`${specPath}: metadata.maxPhase is ${spec.metadata.maxPhase}; it does not describe ${input.phase}`);
  }
  input.onProgress?.(`scanning ${input.labName} for ${input.phase} (${specPath})…`);
  const now = input.now ?? new Date();
  try {
    const state = await scanLab(scanPortsOf(input.ports), spec, phaseNumber);
    const plan = buildPlan({
      spec,
      specPath,
      specSha256: loaded.source.sha256,
      phase: input.phase,
      state,
      specFindings: checkSpec(loaded),
      requestedBy: input.requestedBy,
      now: now.toISOString(),
      id: newPlanId(now),
    });
    return { plan, loaded, specPath };
  } catch (error) {
    // Every unreachable report names the lab (the client's own messages usually do already).
    if (error instanceof UnreachableError && !error.message.includes(input.labName)) {
      throw new UnreachableError(`${input.labName}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
