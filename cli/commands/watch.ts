// `jarvis watch`: runs the alert watchers (failed backups, absence and freshness, storage, tailnet, Funnel, and
// Proxmox itself not being readable) once or on JARVIS_WATCH_SCHEDULE, and prints the alerts it raises. Alert memory
// lives in JARVIS_DATA_DIR, so a second `--once` raises nothing already raised, and the end of an outage is said once.
// The long-running mode also starts the Proxmox webhook receiver when JARVIS_WEBHOOK_LISTEN and JARVIS_WEBHOOK_SECRET
// are set, and beats as `watch` in status.
import { EXIT } from '../../lib/errors.ts';
import { loadConfig } from '../../lib/config.ts';
import { scrubSecrets } from '../../lib/secret.ts';
import { AlertStore } from '../../monitor/alert-store.ts';
import { renderAlertText } from '../../monitor/render-alert.ts';
import type { Alert } from '../../monitor/types.ts';
import { runWatchers, type WatchResult } from '../../monitor/watch.ts';
import { startWatchLoop, startWebhook, watchOptions, type WatcherInputs } from '../../app/watchers.ts';
import { defineCommand } from '../args.ts';
import type { CliIo } from '../io.ts';
import { SIM_OPTION, openMonitorLab } from './status.ts';

function summary(result: WatchResult): string {
  const parts = [`${result.delivered.length} alert${result.delivered.length === 1 ? '' : 's'} raised`, `${result.suppressed} already raised`];
  if (result.held.length > 0) parts.push(`${result.held.length} held for after quiet hours`);
  return `jarvis watch: ${parts.join(', ')}${result.problems.length > 0 ? `; could not read: ${result.problems.join('; ')}` : ''}\n`;
}

async function runForever(io: CliIo, inputs: WatcherInputs): Promise<number> {
  const { config } = inputs;
  const options = watchOptions(inputs);
  const receiver = await startWebhook(inputs, (message) => io.stderr(`jarvis watch: ${message}\n`));
  if (receiver) io.stderr(`jarvis watch: webhook receiver on ${receiver.url}\n`);
  const report = (result: WatchResult): void => io.stderr(scrubSecrets(summary(result)));
  const fail = (error: unknown): void => io.stderr(scrubSecrets(`jarvis watch: pass failed: ${error instanceof Error ? error.message : String(error)}\n`));
  await runWatchers({ ...options, now: Date.now() }).then(report, fail);
  const job = startWatchLoop({ ...inputs, name: 'watch', hooks: { onResult: report, onError: fail } });
  io.stderr(`jarvis watch: next pass ${job.nextRun()?.toISOString() ?? 'never'} (${config.alerts.schedule}); Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  job.stop();
  await receiver?.close();
  return EXIT.ok;
}

export const command = defineCommand(
  {
    name: 'watch',
    positionals: { min: 0, max: 0 },
    options: {
      once: { type: 'boolean', description: 'one pass, then exit (default: run on JARVIS_WATCH_SCHEDULE until interrupted)' },
      sim: SIM_OPTION,
    },
    description:
      'Runs the alert watchers (backups, absence, storage, tailnet, Funnel, drift) and prints the alerts they raise,\n' +
      'de-duplicated across runs via JARVIS_DATA_DIR. Without --once it also starts the Proxmox webhook receiver when\n' +
      'JARVIS_WEBHOOK_LISTEN and JARVIS_WEBHOOK_SECRET are set.',
    environment: 'PROXMOX_*, SSH_*, TAILSCALE_* (the lab, unless --sim), JARVIS_DATA_DIR, JARVIS_WATCH_SCHEDULE, JARVIS_DRIFT_*, JARVIS_WEBHOOK_* (see .env.example)',
    exitCodes: [
      [EXIT.ok, 'ok'],
      [EXIT.invalidInput, 'invalid input'],
      [EXIT.unreachable, 'Proxmox unreadable: unreachable, TLS pin mismatch, 401, 403 or timeout (raised as a critical alert too)'],
    ],
  },
  async ({ values: options }, io) => {
    const config = loadConfig(io.env);
    const connection = await openMonitorLab(options.sim, config);
    const store = AlertStore.open(config.dataDir);
    try {
      const deliver = (alert: Alert): void => io.stdout(scrubSecrets(renderAlertText(alert)));
      const inputs = { ports: connection.ports, scanPorts: connection.scanPorts, config, cwd: io.cwd, store, deliver, ...(connection.site ? { site: connection.site } : {}) };
      if (!options.once) return await runForever(io, inputs);
      const result = await runWatchers({ ...watchOptions(inputs), now: Date.now() });
      io.stderr(scrubSecrets(summary(result)));
      if (result.unreadable) {
        io.stderr(scrubSecrets(`jarvis watch: cannot read Proxmox at ${connection.url}: ${result.unreadable.reason}\n  fix: ${result.unreadable.fix}\n`));
        return EXIT.unreachable;
      }
      return EXIT.ok;
    } finally {
      store.close();
      await connection.close();
    }
  },
);
