// `jarvis apply <PLAN_ID|FILE>`: apply a saved plan to the lab named by PROXMOX_*; `--yes` is the CLI's approval.
import { userInfo } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { openConfiguredLab } from '../../app/lab.ts';
import { createApplyContext, loadPlanSpec } from '../../deploy/context.ts';
import { applyDbPath } from '../../deploy/db.ts';
import { applyPlan } from '../../deploy/engine.ts';
import { Journal } from '../../deploy/journal.ts';
import { loadPlanById, loadPlanFile, planReference } from '../../deploy/plan-file.ts';
import { renderEvent, renderReport } from '../../deploy/render.ts';
import type { ApplyReport } from '../../deploy/types.ts';
import { loadConfig } from '../../lib/config.ts';
import { EXIT, type ExitCode } from '../../lib/errors.ts';
import { scrubSecrets } from '../../lib/secret.ts';
import { defineCommand } from '../args.ts';

export function exitCodeOf(report: ApplyReport): ExitCode {
  switch (report.status) {
    case 'applied':
    case 'waiting-for-owner':
      return EXIT.ok;
    case 'dry-run':
      return report.dryRun && (report.dryRun.schemaErrors > 0 || report.dryRun.stale || report.dryRun.violations) ? EXIT.refused : EXIT.ok;
    case 'refused':
      return EXIT.refused;
    case 'failed':
      return EXIT.failed;
    case 'unreachable':
      return EXIT.unreachable;
  }
}

export const command = defineCommand(
  {
    name: 'apply',
    operands: '<PLAN_ID|FILE>',
    positionals: { min: 1, max: 1 },
    options: {
      'dry-run': { type: 'boolean', description: 'list every request each action would send, checked against the PVE schema; send nothing' },
      yes: { type: 'boolean', short: 'y', description: "apply it (without it, apply refuses: the CLI's approval)" },
      json: { type: 'boolean', description: 'print the report as one JSON document on stdout' },
    },
    description:
      'Applies a plan saved by `jarvis plan` to the lab named by PROXMOX_*. A plan id (letters, digits, _ and -) names\n' +
      'JARVIS_DATA_DIR/plans/<id>.json; an argument with a / or ending in .json is a file (relative to the working\n' +
      'directory), so `plan-1.json` is never read as the saved plan `plan-1`. Plan files must be regular files up to 10 MB.\n' +
      'Progress goes to stderr as each action starts and ends; the report (or JSON) to stdout. To try it on a simulated\n' +
      'lab, start one with `jarvis sim` and load the variables it prints (README: CLI).',
    environment:
      'PROXMOX_*, JARVIS_DATA_DIR, JARVIS_MGMT_HOST, JARVIS_SNAPSHOT_RETENTION, JARVIS_CONFIRM_WINDOW_SECONDS (default: the\n' +
      "spec's safetyGuards.confirmWindowSeconds), JARVIS_BACKUP_STORAGE (see .env.example)",
    exitCodes: [
      [EXIT.ok, 'applied and validated, manual steps left to the owner listed (or a clean dry run)'],
      [EXIT.refused, 'refused (unapproved, stale, locked, frozen, tampered)'],
      [EXIT.invalidInput, 'invalid input'],
      [EXIT.failed, 'failed (the report says where and what next)'],
      [EXIT.unreachable, 'lab unreachable, or a target could not be read before the first write (nothing was changed: run the same apply again)'],
    ],
  },
  async ({ values, positionals }, io) => {
    const options = { ref: positionals[0]!, yes: values.yes, dryRun: values['dry-run'], json: values.json };
    const config = loadConfig(io.env);
    const dataDir = isAbsolute(config.dataDir) ? config.dataDir : resolve(io.cwd, config.dataDir);
    const ref = planReference(options.ref);
    const plan = 'id' in ref ? await loadPlanById(ref.id, dataDir) : await loadPlanFile(resolve(io.cwd, ref.file));
    // No lab, no point reading the spec: say what to configure first.
    const lab = await openConfiguredLab(config, 'or start a simulated lab with `jarvis sim` and load the variables it prints');
    try {
      const spec = await loadPlanSpec(plan, io.cwd, config.siteFile);
      const journal = Journal.open(applyDbPath(dataDir));
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
          firewallCycleMs: lab.firewallCycleMs,
          backupStorage: config.apply.backupStorage,
        });
        const report = await applyPlan(plan, ctx);
        io.stdout(scrubSecrets(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report)));
        return exitCodeOf(report);
      } finally {
        journal.close();
      }
    } finally {
      await lab.close();
    }
  },
);
