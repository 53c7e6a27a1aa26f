// `jarvis apply <PLAN_ID|FILE> [--dry-run] [--yes] [--json]`: apply a saved plan to the lab named by PROXMOX_*.
// Progress lines go to stderr as each action starts and ends; the report (or JSON) goes to stdout.
// Exit codes (DESIGN §3): 0 applied and validated (or a clean dry run), 1 refused, 2 invalid input, 3 failed,
// 4 unreachable (also: a target could not be read before the first write; nothing was changed).
import { userInfo } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { openConfiguredLab } from '../../app/lab.ts';
import { createApplyContext, loadPlanSpec } from '../../deploy/context.ts';
import { applyDbPath } from '../../deploy/db.ts';
import { applyPlan } from '../../deploy/engine.ts';
import { Journal } from '../../deploy/journal.ts';
import { loadPlan } from '../../deploy/plan-file.ts';
import { renderEvent, renderReport } from '../../deploy/render.ts';
import type { ApplyReport } from '../../deploy/types.ts';
import { loadConfig } from '../../lib/config.ts';
import { EXIT, InputError, type ExitCode } from '../../lib/errors.ts';
import { scrubSecrets } from '../../lib/secret.ts';
import type { CliCommand } from '../io.ts';

const USAGE = `usage: jarvis apply <PLAN_ID|FILE> [--dry-run] [--yes] [--json]

Applies a plan saved by \`jarvis plan\` (JARVIS_DATA_DIR/plans/<id>.json, or a file) to the lab named by PROXMOX_*.

  --yes       apply it (without it, apply refuses: the CLI's approval)
  --dry-run   list every request each action would send, checked against the PVE schema; send nothing
  --json      print the report as one JSON document on stdout
  --help      show this help

Environment: PROXMOX_*, JARVIS_DATA_DIR, JARVIS_MGMT_HOST, JARVIS_SNAPSHOT_RETENTION, JARVIS_CONFIRM_WINDOW_SECONDS
(default: the spec's safetyGuards.confirmWindowSeconds), JARVIS_BACKUP_STORAGE (see .env.example).

exit codes: 0 applied and validated, 1 refused (unapproved, stale, locked, frozen, tampered), 2 invalid input,
            3 failed (the report says where and what next), 4 lab unreachable, or a target could not be read
            before the first write ("could not read …; nothing was changed, try again": run the same apply again)
`;


interface ApplyArgs {
  ref?: string;
  yes: boolean;
  dryRun: boolean;
  json: boolean;
  help: boolean;
}

function parseArgs(args: string[]): ApplyArgs {
  const out: ApplyArgs = { yes: false, dryRun: false, json: false, help: false };
  for (const arg of args) {
    if (arg === '--help' || arg === '-h') out.help = true;
    else if (arg === '--yes' || arg === '-y') out.yes = true;
    else if (arg === '--dry-run') out.dryRun = true;
    else if (arg === '--json') out.json = true;
    else if (arg.startsWith('-')) throw new InputError(`unknown option "${arg}" (see jarvis apply --help)`);
    else if (out.ref) throw new InputError(`one plan at a time: got "${out.ref}" and "${arg}"`);
    else out.ref = arg;
  }
  return out;
}

export function exitCodeOf(report: ApplyReport): ExitCode {
  switch (report.status) {
    case 'applied':
      return EXIT.ok;
    case 'dry-run':
      return report.dryRun && (report.dryRun.schemaErrors > 0 || report.dryRun.stale) ? EXIT.refused : EXIT.ok;
    case 'refused':
      return EXIT.refused;
    case 'failed':
      return EXIT.failed;
    case 'unreachable':
      return EXIT.unreachable;
  }
}

export const run: CliCommand = async (args, io) => {
  const options = parseArgs(args);
  if (options.help) {
    io.stdout(USAGE);
    return EXIT.ok;
  }
  if (!options.ref) throw new InputError('which plan? usage: jarvis apply <PLAN_ID|FILE> [--dry-run] [--yes]');
  const config = loadConfig(io.env);
  const dataDir = isAbsolute(config.dataDir) ? config.dataDir : resolve(io.cwd, config.dataDir);
  const ref = options.ref.endsWith('.json') || options.ref.includes('/') ? resolve(io.cwd, options.ref) : options.ref;
  const plan = await loadPlan(ref, dataDir);
  const spec = await loadPlanSpec(plan, io.cwd);
  const journal = Journal.open(applyDbPath(dataDir));
  try {
    const lab = await openConfiguredLab(config);
    try {
      const ctx = createApplyContext({
        plan,
        spec,
        lab: lab.ports,
        mgmt: lab.mgmt,
        journal,
        env: io.env,
        requester: `cli:${userInfo().username}`,
        via: 'cli',
        approved: options.yes,
        dryRun: options.dryRun,
        onProgress: (event) => io.stderr(scrubSecrets(`${renderEvent(event)}\n`)),
        snapshotRetention: config.snapshotRetention,
        confirmWindowMs: (config.apply.confirmWindowSeconds ?? spec.spec.safetyGuards.confirmWindowSeconds) * 1000,
        backupStorage: config.apply.backupStorage,
      });
      const report = await applyPlan(plan, ctx);
      io.stdout(scrubSecrets(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report)));
      return exitCodeOf(report);
    } finally {
      await lab.close();
    }
  } finally {
    journal.close();
  }
};
