// Making a plan: load and check the phase's spec, scan the lab, build the artifact. Shared by `jarvis plan`, chat
// (`/jarvis plan`), the drift watch and `jarvis status`, so every path plans the same way.
import { randomUUID } from 'node:crypto';
import { isAbsolute, join } from 'node:path';
import { readHostFacts } from '../infra/facts/host.ts';
import { FACT_READERS } from '../infra/facts/readers.ts';
import type { JarvisConfig } from '../lib/config.ts';
import { InputError, UnreachableError } from '../lib/errors.ts';
import { buildPlan, phaseNumberOf, scanLab, type ScanPorts } from '../planner/index.ts';
import type { Plan, PlanPhase } from '../planner/plan.ts';
import { checkSpec } from '../planner/spec/guardrails.ts';
import { loadSpec, type LoadedSpec } from '../planner/spec/load.ts';
import type { MonitorPorts } from '../monitor/collect.ts';
import type { LabPorts } from './lab.ts';

/** The canonical spec of each phase in the specs directory (README "Phases and specs"); `--spec` overrides it. */
export const PHASE_SPEC_FILES: Record<PlanPhase, string> = {
  phase0: 'nas.desired.yaml',
  phase1: 'jarvis-homelab.desired.yaml',
  phase2: 'jarvis-homelab.desired.yaml',
  firewall: 'preprod.firewall.desired.yaml',
};
export const PLAN_PHASES = Object.keys(PHASE_SPEC_FILES) as PlanPhase[];

/** Where the specs are (JARVIS_SPECS_DIR) and the site file they read instead of their own (`site:`), if any. */
export interface SpecPlace {
  specsDir: string;
  site?: string;
}

/** The configuration's place; a simulated lab brings the simulated node's site unless JARVIS_SITE_FILE names one. */
export function specPlace(config: Pick<JarvisConfig, 'specsDir' | 'siteFile'>, lab?: { site?: string }): SpecPlace {
  const site = config.siteFile ?? lab?.site;
  return { specsDir: config.specsDir, ...(site ? { site } : {}) };
}

/** specPlace from the two variables alone, for commands that need no other configuration (check, plan --sim). */
export function specPlaceFromEnv(env: NodeJS.ProcessEnv, lab?: { site?: string }): SpecPlace {
  return specPlace({ specsDir: env.JARVIS_SPECS_DIR || 'specs', ...(env.JARVIS_SITE_FILE ? { siteFile: env.JARVIS_SITE_FILE } : {}) }, lab);
}

/** JARVIS_SELF_VMID without the rest of the configuration (plan --sim); the default is the planner's (100). */
export function selfVmidFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const value = Number(env.JARVIS_SELF_VMID);
  return env.JARVIS_SELF_VMID && Number.isInteger(value) && value >= 100 ? value : undefined;
}

/** The phase's canonical spec, as a path relative to the working directory unless the specs directory is absolute. */
export const defaultSpecFor = (phase: PlanPhase, specsDir = 'specs'): string => join(specsDir, PHASE_SPEC_FILES[phase]);

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
  /** Relative to cwd unless absolute; default: the phase's canonical spec in `place.specsDir`. */
  specPath?: string;
  place?: SpecPlace;
  /** The VM Jarvis runs in (JARVIS_SELF_VMID): the plan marks actions that take it offline. */
  selfVmid?: number;
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
  const specPath = input.specPath ?? defaultSpecFor(input.phase, input.place?.specsDir);
  const absolute = isAbsolute(specPath) ? specPath : join(input.cwd, specPath);
  const loaded = await loadSpec(absolute, { cwd: input.cwd, ...(input.place?.site ? { site: input.place.site } : {}) });
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
      ...(input.selfVmid !== undefined ? { selfVmid: input.selfVmid } : {}),
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
