// `jarvis bot`: the chat bot with the adapters the environment configures (Discord, Slack), over the lab named by
// PROXMOX_*, plus the alert watchers on their schedule. Outbound connections only; runs until SIGINT/SIGTERM.
import { alertToReply } from '../../app/alert-reply.ts';
import { openConfiguredLab } from '../../app/lab.ts';
import { defaultSpecFor, monitorPortsOf, scanPortsOf } from '../../app/planning.ts';
import { approvalAuditor, createServices } from '../../app/services.ts';
import { startChatBot } from '../../bot/start-bot.ts';
import { loadConfig } from '../../lib/config.ts';
import { EXIT } from '../../lib/errors.ts';
import { createLogger } from '../../lib/log.ts';
import { AlertStore } from '../../monitor/alert-store.ts';
import { scanDrift } from '../../monitor/drift.ts';
import { scheduleWatchers } from '../../monitor/watch.ts';
import { defineCommand } from '../args.ts';
import { isAbsolute, join } from 'node:path';

export const command = defineCommand(
  {
    name: 'bot',
    positionals: { min: 0, max: 0 },
    options: {},
    description:
      'Runs the chat bot: Discord (DISCORD_TOKEN, DISCORD_APP_ID) and/or Slack (SLACK_BOT_TOKEN + SLACK_APP_TOKEN, or\n' +
      'SLACK_SIGNING_SECRET + SLACK_HTTP_LISTEN), against the lab named by PROXMOX_*, with the alert watchers on\n' +
      'JARVIS_WATCH_SCHEDULE, until SIGINT or SIGTERM. Check the setup first with `jarvis doctor`.',
    environment: 'every setting of .env.example',
    exitCodes: [
      [EXIT.ok, 'stopped by SIGINT or SIGTERM'],
      [EXIT.invalidInput, 'invalid configuration'],
      [EXIT.failed, 'a chat adapter failed to start'],
    ],
  },
  async (_args, io) => {
    const config = loadConfig(io.env);
    const logger = createLogger(config.logLevel);
    const lab = await openConfiguredLab(config);
    const running = createServices({ lab, config, cwd: io.cwd, env: io.env, log: (line) => logger.info(line) });
    const store = AlertStore.open(running.dataDir);
    let stopWatch: (() => void) | undefined;
    let bot: Awaited<ReturnType<typeof startChatBot>> | undefined;
    try {
      bot = await startChatBot({
        config: { ...config, dataDir: running.dataDir },
        env: io.env,
        services: running.services,
        audit: approvalAuditor(running.journal),
        log: (level, message, fields) => logger[level](fields ?? {}, message),
      });
      const chat = bot;
      const { phase, spec } = config.drift;
      const driftSpec = phase === 'off' ? undefined : (spec ?? defaultSpecFor(phase));
      const watch = scheduleWatchers(
        config.alerts.schedule,
        {
          ports: monitorPortsOf(lab.ports),
          store,
          thresholds: config.alerts,
          deliver: (alert) => chat.alert(alertToReply(alert)),
          ...(phase !== 'off' && driftSpec
            ? {
                drift: () =>
                  scanDrift({
                    ports: scanPortsOf(lab.ports),
                    specPath: isAbsolute(driftSpec) ? driftSpec : join(io.cwd, driftSpec),
                    displayPath: driftSpec,
                    phase,
                    now: Date.now(),
                  }),
              }
            : {}),
        },
        { onError: (error) => logger.error({ err: error instanceof Error ? error.message : String(error) }, 'watchers failed') },
      );
      stopWatch = watch.stop;
      logger.info({ adapters: bot.adapters, lab: lab.describe, nextWatch: watch.nextRun()?.toISOString() }, 'Jarvis is ready');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      logger.info('stopping');
      return EXIT.ok;
    } finally {
      stopWatch?.();
      await bot?.stop();
      store.close();
      running.close();
      await lab.close();
    }
  },
);
