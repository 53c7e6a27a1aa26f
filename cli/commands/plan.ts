// `jarvis plan <phase0|phase1|phase2|firewall> [--spec F] [--json] [--out DIR] [--sim SCENARIO]`
// Scans the lab (or an in-process simulator), builds the plan, prints it and writes the artifact (JSON + Markdown).
// Exit codes: 0 planned, 1 refused by guardrails, 2 invalid input, 4 lab unreachable.
import { isAbsolute, join } from 'node:path';
import { openConfiguredLab, openSimLab, type Lab } from '../../app/lab.ts';
import { PHASE_SPECS, makePlan } from '../../app/planning.ts';
import { loadConfig } from '../../lib/config.ts';
import { EXIT, InputError } from '../../lib/errors.ts';
import { renderPlanText } from '../../planner/index.ts';
import type { PlanPhase } from '../../planner/plan.ts';
import type { CliCommand, CliIo } from '../io.ts';
import { writePlanFiles } from '../../app/plan-files.ts';

const SCENARIOS = ['fresh', 'phase0', 'phase1', 'phase2', 'drifted', 'backup-failures', 'lived-in', 'large'] as const;
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

async function openLab(opts: Options, io: CliIo): Promise<Lab> {
  return opts.sim ? openSimLab({ scenario: opts.sim }) : openConfiguredLab(loadConfig(io.env));
}

export const run: CliCommand = async (args, io) => {
  const opts = parsePlanArgs(args);
  const lab = await openLab(opts, io);
  let plan;
  try {
    ({ plan } = await makePlan({
      phase: opts.phase,
      specPath: opts.spec,
      cwd: io.cwd,
      ports: lab.ports,
      labName: lab.sim?.url ?? lab.describe,
      requestedBy: `cli:${io.env.USER ?? 'unknown'}`,
      onProgress: opts.json ? undefined : (line) => io.stderr(`${line}\n`),
    }));
  } finally {
    await lab.close();
  }
  const dir = opts.out ?? join(io.env.JARVIS_DATA_DIR ?? join(io.cwd, 'data'), 'plans');
  const files = await writePlanFiles(isAbsolute(dir) ? dir : join(io.cwd, dir), plan);
  if (opts.json) io.stdout(`${JSON.stringify(plan, null, 2)}\n`);
  else {
    io.stdout(renderPlanText(plan));
    io.stderr(`plan written to ${files.json} and ${files.markdown}\n`);
  }
  return plan.violations.length > 0 ? EXIT.refused : EXIT.ok;
};
