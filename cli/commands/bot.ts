// `jarvis bot`: the chat bot with the adapters the environment configures (Discord, Slack), over the lab named by
// PROXMOX_*, plus the alert watchers on their schedule, whose every alert (Proxmox unreadable and stalled watchers
// included) goes to the alert channels, and the Proxmox webhook receiver when JARVIS_WEBHOOK_LISTEN is set (the one
// listener, on the address the owner names). Otherwise outbound connections only; runs until SIGINT/SIGTERM.
import { alertToReply } from '../../app/alert-reply.ts';
import { openConfiguredLab } from '../../app/lab.ts';
import { monitorPortsOf, scanPortsOf } from '../../app/planning.ts';
import { approvalAuditor, createServices } from '../../app/services.ts';
import { startWatchLoop, startWebhook } from '../../app/watchers.ts';
import { startChatBot, type ChatBot } from '../../bot/start-bot.ts';
import { loadConfig, type JarvisConfig } from '../../lib/config.ts';
import { EXIT } from '../../lib/errors.ts';
import { createLogger, type Logger } from '../../lib/log.ts';
import { AlertStore } from '../../monitor/alert-store.ts';
import type { Alert } from '../../monitor/types.ts';
import type { WebhookReceiver } from '../../monitor/webhook.ts';
import { defineCommand } from '../args.ts';

export interface RunningBot {
  chat: ChatBot;
  /** The Proxmox URL. */
  lab: string;
  nextWatch: Date | null;
  /** http://host:port of the Proxmox webhook receiver, when JARVIS_WEBHOOK_LISTEN is set. */
  webhook?: string;
  stop(): Promise<void>;
}

/** Everything `jarvis bot` runs, started; `stop()` ends it in order (watchers, chat, stores, lab). */
export async function startBot(input: { config: JarvisConfig; env: NodeJS.ProcessEnv; cwd: string; logger: Logger }): Promise<RunningBot> {
  const { config, logger } = input;
  const lab = await openConfiguredLab(config);
  const running = createServices({ lab, config, cwd: input.cwd, env: input.env, log: (line) => logger.info(line) });
  const store = AlertStore.open(running.dataDir);
  let chat: ChatBot | undefined;
  let receiver: WebhookReceiver | undefined;
  try {
    const bot = await startChatBot({
      config: { ...config, dataDir: running.dataDir },
      env: input.env,
      services: running.services,
      audit: approvalAuditor(running.journal),
      log: (level, message, fields) => logger[level](fields ?? {}, message),
    });
    chat = bot;
    const inputs = {
      ports: monitorPortsOf(lab.ports),
      scanPorts: scanPortsOf(lab.ports),
      config,
      cwd: input.cwd,
      ...(lab.site ? { site: lab.site } : {}),
      store,
      deliver: (alert: Alert) => bot.alert(alertToReply(alert)),
    };
    receiver = await startWebhook(inputs, (message) => logger.warn(message));
    const watch = startWatchLoop({
      ...inputs,
      name: 'bot',
      hooks: {
        onResult: (result) => {
          if (result.problems.length > 0) logger.warn({ problems: result.problems }, 'watchers could not read everything');
        },
        onError: (error) => logger.error({ err: error instanceof Error ? error.message : String(error) }, 'watchers failed'),
      },
    });
    return {
      chat: bot,
      lab: lab.describe,
      nextWatch: watch.nextRun(),
      ...(receiver ? { webhook: receiver.url } : {}),
      async stop() {
        watch.stop();
        await receiver?.close();
        await bot.stop();
        store.close();
        running.close();
        await lab.close();
      },
    };
  } catch (error) {
    await receiver?.close();
    await chat?.stop();
    store.close();
    running.close();
    await lab.close();
    throw error;
  }
}

export const command = defineCommand(
  {
    name: 'bot',
    positionals: { min: 0, max: 0 },
    options: {},
    description:
      'Runs the chat bot: Discord (DISCORD_TOKEN, DISCORD_APP_ID) and/or Slack (SLACK_BOT_TOKEN + SLACK_APP_TOKEN, or\n' +
      'SLACK_SIGNING_SECRET + SLACK_HTTP_LISTEN), against the lab named by PROXMOX_*, with the alert watchers on\n' +
      'JARVIS_WATCH_SCHEDULE, and the Proxmox webhook receiver when JARVIS_WEBHOOK_LISTEN (and its secret) is set, until\n' +
      'SIGINT or SIGTERM. Check the setup first with `jarvis doctor`.',
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
    const bot = await startBot({ config, env: io.env, cwd: io.cwd, logger });
    try {
      logger.info({ adapters: bot.chat.adapters, resumed: bot.chat.resumed, lab: bot.lab, nextWatch: bot.nextWatch?.toISOString(), ...(bot.webhook ? { webhook: bot.webhook } : {}) }, 'Jarvis is ready');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      logger.info('stopping');
      return EXIT.ok;
    } finally {
      await bot.stop();
    }
  },
);
