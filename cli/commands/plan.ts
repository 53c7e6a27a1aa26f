// `jarvis plan <phase0|phase1|phase2|firewall> [--spec F] [--json] [--out DIR] [--sim SCENARIO]`
// Scans the lab (or an in-process simulator), builds the plan, prints it and writes the artifact (JSON + Markdown).
// Exit codes: 0 planned, 1 refused by guardrails, 2 invalid input, 4 lab unreachable.
import { randomUUID } from 'node:crypto';
import { isAbsolute, join } from 'node:path';
import { loadConfig } from '../../lib/config.ts';
import { EXIT, InputError, UnreachableError } from '../../lib/errors.ts';
import { openConfiguredLab, openSimLab } from '../../app/lab.ts';
import { readGuestFacts } from '../../infra/facts/guest.ts';
import { readHostFacts } from '../../infra/facts/host.ts';
import { loadSpec } from '../../planner/spec/load.ts';
import { checkSpec } from '../../planner/spec/guardrails.ts';
import { buildPlan, phaseNumberOf, renderPlanText, scanLab, type FactReaders, type ScanPorts } from '../../planner/index.ts';
import type { PlanPhase } from '../../planner/plan.ts';
import type { CliCommand, CliIo } from '../io.ts';
import { writePlanFiles } from '../plan-files.ts';
import { attachSimShells } from '../sim-shells.ts';

const PHASE_SPECS: Record<PlanPhase, string> = {
  phase0: 'specs/nas.desired.yaml',
  phase1: 'specs/jarvis-homelab.desired.yaml',
  phase2: 'specs/jarvis-homelab.desired.yaml',
  firewall: 'specs/preprod.firewall.desired.yaml',
};
const SCENARIOS = ['fresh', 'phase0', 'phase1', 'phase2', 'drifted', 'backup-failures', 'large'] as const;
type Scenario = (typeof SCENARIOS)[number];

const USAGE = 'usage: jarvis plan <phase0|phase1|phase2|firewall> [--spec FILE] [--json] [--out DIR] [--sim SCENARIO]';

interface Options {
  phase: PlanPhase;
  spec?: string;
  json: boolean;
  out?: string;
  sim?: Scenario;
}

export function parsePlanArgs(args: string[]): Options {
  const positional: string[] = [];
  const opts: Partial<Options> = { json: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw new InputError(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === '--json') opts.json = true;
    else if (arg === '--spec') opts.spec = value();
    else if (arg === '--out') opts.out = value();
    else if (arg === '--sim') {
      const scenario = value();
      if (!(SCENARIOS as readonly string[]).includes(scenario)) throw new InputError(`--sim: unknown scenario "${scenario}" (one of ${SCENARIOS.join(', ')})`);
      opts.sim = scenario as Scenario;
    } else if (arg.startsWith('--')) throw new InputError(`unknown option ${arg}\n${USAGE}`);
    else positional.push(arg);
  }
  if (positional.length !== 1) throw new InputError(`expected exactly one phase\n${USAGE}`);
  const phase = positional[0]!;
  if (!(phase in PHASE_SPECS)) throw new InputError(`unknown phase "${phase}" (one of ${Object.keys(PHASE_SPECS).join(', ')})\n${USAGE}`);
  return { ...opts, phase: phase as PlanPhase, json: opts.json ?? false };
}

const facts: FactReaders = { guest: (shell) => readGuestFacts(shell), host: readHostFacts };

/** The lab to scan, through app/lab.ts like every other command; `--sim` also attaches the simulated shells. */
async function openLab(opts: Options, io: CliIo): Promise<{ ports: ScanPorts; url: string; close: () => Promise<void> }> {
  if (opts.sim) {
    const lab = await openSimLab({ scenario: opts.sim });
    const shells = await attachSimShells(lab.sim!);
    return {
      ports: { ...lab.ports, hostShell: shells.hostShell, facts },
      url: lab.sim!.url,
      close: async () => {
        await shells.close();
        await lab.close();
      },
    };
  }
  const lab = await openConfiguredLab(loadConfig(io.env));
  return { ports: { ...lab.ports, facts }, url: lab.describe, close: () => lab.close() };
}

const HELP = `${USAGE}

Scans the lab (PROXMOX_*; or, with --sim, an in-process simulator in that scenario), plans the phase and writes the
plan as JSON and Markdown to --out (default JARVIS_DATA_DIR/plans, JARVIS_DATA_DIR defaulting to ./data).

  phase0    specs/nas.desired.yaml (the reference spec's phase 0)
  phase1    specs/jarvis-homelab.desired.yaml at phase 1
  phase2    specs/jarvis-homelab.desired.yaml at phase 2
  firewall  specs/preprod.firewall.desired.yaml (firewall-only wave)
  --spec F  plan another spec file instead
  --json    print the plan JSON only on standard output
  --sim S   ${SCENARIOS.join(' | ')}

exit codes: 0 planned, 1 refused by guardrails, 2 invalid input, 4 lab unreachable
`;

export const run: CliCommand = async (args, io) => {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  const opts = parsePlanArgs(args);
  const specArg = opts.spec ?? PHASE_SPECS[opts.phase];
  const specPath = isAbsolute(specArg) ? specArg : join(io.cwd, specArg);
  const loaded = await loadSpec(specPath, { cwd: io.cwd });
  const { spec } = loaded;
  if (opts.phase === 'firewall' && spec.metadata.scope !== 'firewall') io.stderr(`note: ${specArg} is not a firewall-scope spec; planning its firewall at phase ${spec.metadata.maxPhase} with everything else\n`);
  const phaseNumber = phaseNumberOf(opts.phase, spec);
  if (phaseNumber > spec.metadata.maxPhase) throw new InputError(`${specArg}: metadata.maxPhase is ${spec.metadata.maxPhase}; it does not describe ${opts.phase}`);
  const lab = await openLab(opts, io);
  let plan;
  try {
    io.stderr(`scanning ${lab.url} for ${opts.phase} (${specArg})…\n`);
    const state = await scanLab(lab.ports, spec, phaseNumber);
    plan = buildPlan({
      spec,
      specPath: specArg,
      specSha256: loaded.source.sha256,
      phase: opts.phase,
      state,
      specFindings: checkSpec(loaded),
      requestedBy: `cli:${io.env.USER ?? 'unknown'}`,
      now: new Date().toISOString(),
      id: `plan-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomUUID().slice(0, 8)}`,
    });
  } catch (error) {
    // Every unreachable report names the lab's URL (the client's own messages usually do already).
    if (error instanceof UnreachableError && !error.message.includes(lab.url)) throw new UnreachableError(`${lab.url}: ${error.message}`, { cause: error });
    throw error;
  } finally {
    await lab.close();
  }
  const dir = opts.out ?? join(io.env.JARVIS_DATA_DIR ?? join(io.cwd, 'data'), 'plans');
  const files = await writePlanFiles(isAbsolute(dir) ? dir : join(io.cwd, dir), plan);
  io.stdout(opts.json ? `${JSON.stringify(plan, null, 2)}\n` : renderPlanText(plan));
  io.stderr(`plan written to ${files.json} and ${files.markdown}\n`);
  return plan.violations.length > 0 ? EXIT.refused : EXIT.ok;
};

/** For tests and the README: which spec a phase plans by default. */
export const defaultSpecFor = (phase: PlanPhase): string => PHASE_SPECS[phase];
