// `jarvis status`: the lab snapshot, headline first. Exit 0, or 4 when Proxmox cannot be read (unreachable, TLS pin
// mismatch, token rejected or lacking privileges, timeout): the report still prints, headlined by that, and standard
// error names the URL, the reason and the fix.
import { EXIT } from '../../lib/errors.ts';
import { loadConfig } from '../../lib/config.ts';
import { scrubSecrets } from '../../lib/secret.ts';
import { openConfiguredLab, openSimLab } from '../../app/lab.ts';
import { monitorPortsOf, scanPortsOf } from '../../app/planning.ts';
import { labStatus } from '../../app/status-report.ts';
import type { MonitorPorts } from '../../monitor/collect.ts';
import type { ScanPorts } from '../../planner/index.ts';
import { renderStatusText } from '../../monitor/status.ts';
import { SCENARIOS } from '../../sim/scenario-names.ts';
import { defineCommand } from '../args.ts';

export interface MonitorLab {
  ports: MonitorPorts;
  /** The same lab as the planner scans it (for the drift watch). */
  scanPorts: ScanPorts;
  /** The Proxmox URL, for messages. */
  url: string;
  /** The simulated node's site file, for a simulated lab. */
  site?: string;
  close(): Promise<void>;
}

/** Opens the lab through app/lab.ts like every command (a simulated lab comes with its host and guest shells). */
export async function openMonitorLab(sim: string | undefined, config: ReturnType<typeof loadConfig>): Promise<MonitorLab> {
  const lab = sim ? await openSimLab({ scenario: sim }) : await openConfiguredLab(config, 'or use --sim SCENARIO');
  return {
    ports: monitorPortsOf(lab.ports),
    scanPorts: scanPortsOf(lab.ports),
    url: lab.sim?.url ?? lab.describe,
    ...(lab.site ? { site: lab.site } : {}),
    close: () => lab.close(),
  };
}

/** `--sim SCENARIO`, shared by status and watch. */
export const SIM_OPTION = { type: 'string', value: 'SCENARIO', choices: SCENARIOS, description: 'read a simulated lab started in-process instead' } as const;

export const command = defineCommand(
  {
    name: 'status',
    positionals: { min: 0, max: 0 },
    options: {
      json: { type: 'boolean', description: 'print the report as one JSON document on stdout' },
      sim: SIM_OPTION,
    },
    description: 'A snapshot of the lab, headline first: node, storage, guests, backups, ZFS, tailnet, gates.',
    environment: 'PROXMOX_*, SSH_*, TAILSCALE_* (the lab, unless --sim), JARVIS_DATA_DIR, the alert thresholds (see .env.example)',
    exitCodes: [
      [EXIT.ok, 'snapshot printed'],
      [EXIT.invalidInput, 'invalid input'],
      [EXIT.unreachable, 'Proxmox unreadable: unreachable, TLS pin mismatch, 401, 403 or timeout (the report says which and the fix)'],
    ],
  },
  async ({ values: options }, io) => {
    const config = loadConfig(io.env);
    const connection = await openMonitorLab(options.sim, config);
    try {
      const report = await labStatus({ ports: connection.ports, config, dataDir: config.dataDir, cwd: io.cwd, ...(connection.site ? { site: connection.site } : {}) });
      io.stdout(scrubSecrets(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderStatusText(report)));
      if (report.unreadable) {
        io.stderr(scrubSecrets(`jarvis status: cannot read Proxmox at ${connection.url}: ${report.unreadable.reason}\n  fix: ${report.unreadable.fix}\n`));
        return EXIT.unreachable;
      }
      return EXIT.ok;
    } finally {
      await connection.close();
    }
  },
);
