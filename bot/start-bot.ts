// `jarvis bot`: starts whichever chat adapters the configuration names, around one dispatcher and one approval
// store (SQLite in JARVIS_DATA_DIR). Alerts go to every configured alert channel.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { JarvisConfig } from '../lib/config.ts';
import { InputError } from '../lib/errors.ts';
import { parseListenAddress } from '../lib/addresses.ts';
import type { CommandDeps } from '../commands/context.ts';
import { resumeInterruptedApplies } from '../commands/apply-flow.ts';
import { createDispatcher, type Dispatcher } from '../commands/dispatcher.ts';
import type { Reply } from '../commands/reply.ts';
import type { JarvisServices } from '../commands/services.ts';
import { createWorkQueue } from '../commands/work-queue.ts';
import { Approvals, type ApprovalAuditEvent } from '../commands/approvals/state-machine.ts';
import { approvalPolicyFromEnv } from '../commands/approvals/policy.ts';
import { startDiscord } from './discord/adapter.ts';
import { startSlack, type SlackMode } from './slack/adapter.ts';

export interface ChatBot {
  dispatcher: Dispatcher;
  approvals: Approvals;
  /** `discord`, `slack`: the adapters that started. */
  adapters: string[];
  /** Plans whose apply a previous run left half-done, resumed from the journal now (commands/apply-flow.ts). */
  resumed: string[];
  /** Posts to every configured alert channel (the watchers call this). */
  alert(reply: Reply): Promise<void>;
  stop(): Promise<void>;
}

export interface ChatBotOptions {
  config: Pick<JarvisConfig, 'discord' | 'slack' | 'dataDir'>;
  /** The approval variables (JARVIS_APPROVERS, JARVIS_APPROVER_GROUPS, JARVIS_APPROVALS_REQUIRED, …). */
  env: Record<string, string | undefined>;
  services: JarvisServices;
  /** The audit trail (deploy/journal.ts) for every approval decision. */
  audit: (event: ApprovalAuditEvent) => void;
  log: CommandDeps['log'];
}

/** Test-only API bases must stay on this machine: a typo must never send tokens elsewhere. */
function loopbackOnly(variable: string, url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') throw new InputError(`${variable}=${url}: only for tests, must point at 127.0.0.1 or localhost`);
  return url;
}

function slackMode(slack: NonNullable<JarvisConfig['slack']>): SlackMode {
  if (slack.appToken) return { kind: 'socket', appToken: slack.appToken };
  if (!slack.signingSecret || !slack.httpListen) throw new InputError('Slack needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET with SLACK_HTTP_LISTEN (HTTP mode)');
  const { host, port } = parseListenAddress('SLACK_HTTP_LISTEN', slack.httpListen);
  return { kind: 'http', signingSecret: slack.signingSecret, host, port };
}

export async function startChatBot(options: ChatBotOptions): Promise<ChatBot> {
  const { config, log } = options;
  if (!config.discord && !config.slack) throw new InputError('no chat adapter configured: set DISCORD_TOKEN + DISCORD_APP_ID, or SLACK_BOT_TOKEN + SLACK_APP_TOKEN');
  const policy = approvalPolicyFromEnv(options.env);
  if (policy.approvers.size === 0 && policy.approverGroups.size === 0) log('warn', 'JARVIS_APPROVERS is empty: nobody can approve a plan');
  mkdirSync(config.dataDir, { recursive: true });
  const approvals = new Approvals({ dbPath: join(config.dataDir, 'approvals.db'), policy, audit: options.audit });
  const alertSinks: Array<(reply: Reply) => Promise<void>> = [];
  const alert = async (reply: Reply): Promise<void> => {
    await Promise.all(alertSinks.map((sink) => sink(reply)));
  };
  const work = createWorkQueue((label, error) => log('error', `${label} failed`, { error: error instanceof Error ? error.message : String(error) }));
  const deps = { services: options.services, approvals, alerts: alert, work, log };
  const dispatcher = createDispatcher(deps);
  const stops: Array<() => Promise<void>> = [];
  const adapters: string[] = [];
  try {
    if (config.discord) {
      const discord = await startDiscord({
        token: config.discord.token,
        dispatcher,
        ...(config.discord.alertChannelId && { alertChannelId: config.discord.alertChannelId }),
        ...(config.discord.apiBase && { apiBase: loopbackOnly('DISCORD_API_BASE', config.discord.apiBase) }),
        log,
      });
      stops.push(() => discord.stop());
      alertSinks.push((reply) => discord.alert(reply));
      adapters.push('discord');
    }
    if (config.slack) {
      const slackGroups = [...policy.approverGroups].filter((g) => g.startsWith('slack:')).map((g) => g.slice('slack:'.length));
      const slack = await startSlack({
        botToken: config.slack.botToken,
        mode: slackMode(config.slack),
        dispatcher,
        approverGroups: slackGroups,
        ...(config.slack.alertChannel && { alertChannel: config.slack.alertChannel }),
        ...(config.slack.apiUrl && { apiUrl: loopbackOnly('SLACK_API_URL', config.slack.apiUrl), retries: 0 }),
        log,
      });
      stops.push(() => slack.stop());
      alertSinks.push((reply) => slack.alert(reply));
      adapters.push('slack');
    }
  } catch (error) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    approvals.close();
    throw error;
  }
  // Only once the alert channels are there: the resumed applies report in them.
  const resumed = resumeInterruptedApplies(deps);
  return {
    dispatcher,
    approvals,
    adapters,
    resumed,
    alert,
    async stop() {
      // Running applies finish first, so their progress and outcome still reach the channel.
      await dispatcher.idle();
      for (const stop of stops.reverse()) await stop();
      approvals.close();
    },
  };
}
