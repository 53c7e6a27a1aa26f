// `jarvis plan <phase>`: scans the lab (or an in-process simulator), builds the plan, prints it and writes the
// artifact (JSON + Markdown).
import { isAbsolute, join } from 'node:path';
import { openConfiguredLab, openSimLab, type Lab } from '../../app/lab.ts';
import { PHASE_SPEC_FILES, makePlan, selfVmidFromEnv, specPlaceFromEnv } from '../../app/planning.ts';
import { writePlanFiles } from '../../app/plan-files.ts';
import { didYouMean } from '../../commands/suggest.ts';
import { loadConfig } from '../../lib/config.ts';
import { EXIT, InputError } from '../../lib/errors.ts';
import { renderPlanText } from '../../planner/index.ts';
import type { PlanPhase } from '../../planner/plan.ts';
import { SCENARIOS } from '../../sim/scenario-names.ts';
import { defineCommand } from '../args.ts';
import type { CliIo } from '../io.ts';

const PHASES = Object.keys(PHASE_SPEC_FILES) as PlanPhase[];

function phaseOf(name: string): PlanPhase {
  if ((PHASES as string[]).includes(name)) return name as PlanPhase;
  const guess = didYouMean(name, PHASES);
  throw new InputError(`unknown phase "${name}" (one of ${PHASES.join(', ')})${guess ? `; did you mean "${guess}"?` : ''}`);
}

async function openLab(sim: string | undefined, io: CliIo): Promise<Lab> {
  return sim ? openSimLab({ scenario: sim }) : openConfiguredLab(loadConfig(io.env), 'or use --sim SCENARIO');
}

export const command = defineCommand(
  {
    name: 'plan',
    operands: `<${PHASES.join('|')}>`,
    positionals: { min: 1, max: 1 },
    options: {
      spec: { type: 'string', value: 'FILE', description: "plan this spec instead of the phase's own (README: Phases and specs)" },
      json: { type: 'boolean', description: 'print the plan as one JSON document on stdout (progress stays on stderr)' },
      out: { type: 'string', value: 'DIR', description: 'write the plan files here (default: JARVIS_DATA_DIR/plans)' },
      sim: { type: 'string', value: 'SCENARIO', choices: SCENARIOS, description: 'plan against a simulated lab started in-process' },
    },
    description:
      'Scans the lab, builds the plan for a phase, prints it and writes JARVIS_DATA_DIR/plans/<id>.{json,md} for\n' +
      '`jarvis apply` and the chat. Nothing in the lab changes.',
    environment: 'PROXMOX_*, SSH_*, TAILSCALE_* (the lab, unless --sim), JARVIS_DATA_DIR (see .env.example)',
    exitCodes: [
      [EXIT.ok, 'planned'],
      [EXIT.refused, 'refused by guardrails'],
      [EXIT.invalidInput, 'invalid input'],
      [EXIT.unreachable, 'lab unreachable'],
    ],
  },
  async ({ values, positionals }, io) => {
    const phase = phaseOf(positionals[0]!);
    const lab = await openLab(values.sim, io);
    let plan;
    try {
      ({ plan } = await makePlan({
        phase,
        specPath: values.spec,
        cwd: io.cwd,
        place: specPlaceFromEnv(io.env, lab),
        ...(selfVmidFromEnv(io.env) !== undefined ? { selfVmid: selfVmidFromEnv(io.env)! } : {}),
        ports: lab.ports,
        labName: lab.sim?.url ?? lab.describe,
        requestedBy: `cli:${io.env.USER ?? 'unknown'}`,
        onProgress: values.json ? undefined : (line) => io.stderr(`${line}\n`),
      }));
    } finally {
      await lab.close();
    }
    const dir = values.out ?? join(io.env.JARVIS_DATA_DIR ?? join(io.cwd, 'data'), 'plans');
    const files = await writePlanFiles(isAbsolute(dir) ? dir : join(io.cwd, dir), plan);
    if (values.json) io.stdout(`${JSON.stringify(plan, null, 2)}\n`);
    else {
      io.stdout(renderPlanText(plan));
      io.stderr(`plan written to ${files.json} and ${files.markdown}\n`);
    }
    return plan.violations.length > 0 ? EXIT.refused : EXIT.ok;
  },
);
