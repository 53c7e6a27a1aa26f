// `jarvis status [--json] [--sim SCENARIO]`: the lab snapshot, headline first. Exit 0, or 4 when the node cannot be
// reached (the message names the URL and the reason).
import { EXIT, InputError } from '../../lib/errors.ts';
import { loadConfig } from '../../lib/config.ts';
import { scrubSecrets } from '../../lib/secret.ts';
import { openConfiguredLab, openSimLab } from '../../app/lab.ts';
import { monitorPortsOf, scanPortsOf } from '../../app/planning.ts';
import { collect, type MonitorPorts } from '../../monitor/collect.ts';
import type { ScanPorts } from '../../planner/index.ts';
import { AlertStore } from '../../monitor/alert-store.ts';
import { readGates } from '../../monitor/gates.ts';
import { known } from '../../planner/state.ts';
import { buildStatus, renderStatusText } from '../../monitor/status.ts';
import { historyHours } from '../../monitor/watch.ts';
import type { CliCommand } from '../io.ts';

const USAGE = `usage: jarvis status [--json] [--sim SCENARIO]

A snapshot of the lab, headline first: node, storage, guests, backups, ZFS, tailnet, gates.

  --json           print the report as one JSON document on stdout
  --sim SCENARIO   start the simulated lab in-process (fresh, phase0, phase1, phase2, drifted, backup-failures, lived-in, large)
  --help           show this help

exit codes: 0 snapshot printed, 2 invalid input, 4 Proxmox unreachable
`;

export interface MonitorArgs {
  json: boolean;
  once: boolean;
  sim?: string;
  help: boolean;
}

/** Shared by status and watch; `allowed` lists the flags the command takes. */
export function parseMonitorArgs(command: string, args: string[], allowed: ReadonlyArray<'--json' | '--once'>): MonitorArgs {
  const out: MonitorArgs = { json: false, once: false, help: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--help' || arg === '-h') out.help = true;
    else if (arg === '--json' && allowed.includes('--json')) out.json = true;
    else if (arg === '--once' && allowed.includes('--once')) out.once = true;
    else if (arg === '--sim' || arg.startsWith('--sim=')) {
      const value = arg === '--sim' ? args[++i] : arg.slice('--sim='.length);
      if (!value) throw new InputError(`--sim needs a scenario name`);
      out.sim = value;
    } else throw new InputError(`unknown argument "${arg}" (see jarvis ${command} --help)`);
  }
  return out;
}

export interface MonitorLab {
  ports: MonitorPorts;
  /** The same lab as the planner scans it (for the drift watch). */
  scanPorts: ScanPorts;
  /** The Proxmox URL, for messages. */
  url: string;
  close(): Promise<void>;
}

/** `--sim SCENARIO`: checked against the simulator's scenarios (loaded only on this path). */
async function simScenario(name: string): Promise<string> {
  const { SCENARIOS } = await import('../../sim/scenarios.ts');
  if (!(SCENARIOS as readonly string[]).includes(name)) throw new InputError(`--sim ${name}: unknown scenario; one of ${SCENARIOS.join(', ')}`);
  return name;
}

/** Opens the lab through app/lab.ts like every command (a simulated lab comes with its host and guest shells). */
export async function openMonitorLab(sim: string | undefined, config: ReturnType<typeof loadConfig>): Promise<MonitorLab> {
  const lab = sim ? await openSimLab({ scenario: await simScenario(sim) }) : await openConfiguredLab(config);
  return {
    ports: monitorPortsOf(lab.ports),
    scanPorts: scanPortsOf(lab.ports),
    url: lab.sim?.url ?? lab.describe,
    close: () => lab.close(),
  };
}

/** Drift at a glance: the drift watch's last result (status itself does not plan; `jarvis watch` does). */
function lastDrift(dataDir: string) {
  const store = AlertStore.openExisting(dataDir);
  try {
    const summary = store?.lastDrift();
    return summary && known(summary);
  } finally {
    store?.close();
  }
}

export const run: CliCommand = async (args, io) => {
  const options = parseMonitorArgs('status', args, ['--json']);
  if (options.help) {
    io.stdout(USAGE);
    return EXIT.ok;
  }
  const config = loadConfig(io.env);
  const connection = await openMonitorLab(options.sim, config);
  try {
    const now = Date.now();
    const thresholds = config.alerts;
    const collected = await collect(connection.ports, { now, historyHours: historyHours(thresholds) });
    if (collected.unreachable) {
      io.stderr(scrubSecrets(`jarvis status: Proxmox at ${connection.url} is unreachable: ${collected.unreachable}\n`));
      return EXIT.unreachable;
    }
    const report = buildStatus(collected, { now, thresholds, ...readGates(config.dataDir, now, config.approvalTtlMinutes), drift: lastDrift(config.dataDir) });
    io.stdout(scrubSecrets(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderStatusText(report)));
    return EXIT.ok;
  } finally {
    await connection.close();
  }
};
