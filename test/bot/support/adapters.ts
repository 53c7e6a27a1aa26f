// The real chat adapters (discord.js, and @slack/bolt in Socket Mode) started against the local fakes on a harness
// (FakeServices behind the real dispatcher and approval store), one per test, as the bot's flow tests boot them.
import { afterEach, expect } from 'vitest';
import { startDiscord, type DiscordAdapter } from '../../../bot/discord/adapter.ts';
import { startSlack, type SlackAdapter } from '../../../bot/slack/adapter.ts';
import { Secret } from '../../../lib/secret.ts';
import { FAKE_IDS, FakeDiscord } from '../../fakes/discord.ts';
import { FakeSlack, SLACK_IDS } from '../../fakes/slack.ts';
import type { FakeServicesOptions } from './fake-services.ts';
import { createHarness, withTimeout, type Harness } from './harness.ts';

export interface HarnessOptions {
  /** Approval policy variables over the harness's (JARVIS_APPROVERS discord:400, slack:U0OWNER). */
  env?: Record<string, string>;
  services?: FakeServicesOptions;
}

export interface SlackOptions extends HarnessOptions {
  approverGroups?: string[];
  /** Socket Mode's ping timeout; Bolt's default when absent. */
  pingTimeoutMs?: number;
}

export interface AdapterOnFake<Fake, Adapter> {
  fake: Fake;
  harness: Harness;
  adapter: Adapter;
  /** Stops the adapter (a stop that hangs fails after 2 s), then the fake, then the harness's approval store. */
  close(): Promise<void>;
}

export async function discordOnFake(options: HarnessOptions = {}): Promise<AdapterOnFake<FakeDiscord, DiscordAdapter>> {
  const fake = await new FakeDiscord().start();
  return onFake(fake, options, 'client.destroy', (harness) =>
    startDiscord({ token: new Secret('fake-discord-token'), dispatcher: harness.dispatcher, alertChannelId: FAKE_IDS.alertChannel, apiBase: fake.apiBase, log: () => undefined }),
  );
}

export async function slackOnFake(options: SlackOptions = {}): Promise<AdapterOnFake<FakeSlack, SlackAdapter>> {
  const fake = await new FakeSlack().start();
  return onFake(fake, options, 'slack app stop', (harness) =>
    startSlack({
      botToken: new Secret('xoxb-fake-bot-token'),
      mode: { kind: 'socket', appToken: new Secret('xapp-fake-app-token'), ...(options.pingTimeoutMs && { pingTimeoutMs: options.pingTimeoutMs }) },
      dispatcher: harness.dispatcher,
      alertChannel: SLACK_IDS.alertChannel,
      approverGroups: options.approverGroups,
      apiUrl: fake.apiUrl,
      retries: 0,
      log: () => undefined,
    }),
  );
}

/** The harness and the adapter on a started fake; a start that fails stops the fake and closes the harness. */
async function onFake<Fake extends { stop(): Promise<void> }, Adapter extends { stop(): Promise<void> }>(
  fake: Fake,
  options: HarnessOptions,
  stopping: string,
  start: (harness: Harness) => Promise<Adapter>,
): Promise<AdapterOnFake<Fake, Adapter>> {
  const harness = createHarness(options.env, options.services);
  let adapter: Adapter;
  try {
    adapter = await start(harness);
  } catch (error) {
    await fake.stop();
    harness.close();
    throw error;
  }
  return {
    fake,
    harness,
    adapter,
    close: async () => {
      await withTimeout(adapter.stop(), 2000, stopping);
      await fake.stop();
      harness.close();
    },
  };
}

/**
 * Boots for the tests of a file: what a test booted is closed after it, and the dispatcher must have logged no
 * error meanwhile. Call it while the file is collected, not inside a test.
 */
export function adaptersPerTest(): { discord: typeof discordOnFake; slack: typeof slackOnFake } {
  let booted: AdapterOnFake<unknown, unknown> | undefined;
  afterEach(async () => {
    if (!booted) return;
    const { harness } = booted;
    await booted.close();
    booted = undefined;
    expect(harness.errors).toEqual([]);
  });
  return {
    discord: async (options) => {
      const opened = await discordOnFake(options);
      booted = opened;
      return opened;
    },
    slack: async (options) => {
      const opened = await slackOnFake(options);
      booted = opened;
      return opened;
    },
  };
}
