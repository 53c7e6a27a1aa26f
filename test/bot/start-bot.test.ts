// `jarvis bot` wiring: both adapters from configuration, one approval store on disk, alerts to every channel.
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startChatBot, type ChatBot } from '../../bot/start-bot.ts';
import { reply } from '../../commands/reply.ts';
import { Secret } from '../../lib/secret.ts';
import { FAKE_IDS, FakeDiscord, subcommand } from '../fakes/discord.ts';
import { FakeSlack, SLACK_IDS } from '../fakes/slack.ts';
import { FakeServices } from './support/fake-services.ts';
import { withTimeout } from './support/harness.ts';

let discord: FakeDiscord;
let slack: FakeSlack;
let dataDir: string;
let bot: ChatBot | undefined;

beforeEach(async () => {
  discord = await new FakeDiscord().start();
  slack = await new FakeSlack().start();
  dataDir = mkdtempSync(join(tmpdir(), 'jarvis-bot-'));
});

afterEach(async () => {
  if (bot) await withTimeout(bot.stop(), 3000, 'bot stop');
  bot = undefined;
  await discord.stop();
  await slack.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const config = () => ({
  dataDir,
  discord: { token: new Secret('discord-token'), appId: FAKE_IDS.application, alertChannelId: FAKE_IDS.alertChannel, apiBase: discord.apiBase },
  slack: { botToken: new Secret('xoxb-token'), appToken: new Secret('xapp-token'), alertChannel: SLACK_IDS.alertChannel, apiUrl: slack.apiUrl },
});

describe('startChatBot', () => {
  it('starts both adapters, shares one approval store, and sends alerts to both alert channels', async () => {
    const audit: string[] = [];
    bot = await startChatBot({ config: config(), env: { JARVIS_APPROVERS: 'discord:400,slack:U0OWNER' }, services: new FakeServices(), audit: (e) => audit.push(e.type), log: () => undefined });
    expect(bot.adapters).toEqual(['discord', 'slack']);
    expect(existsSync(join(dataDir, 'approvals.db'))).toBe(true);

    discord.dispatch('INTERACTION_CREATE', discord.slashCommand({ id: '400', username: 'alice' }, subcommand('plan', { phase: 'phase0' })));
    await discord.waitForRest((c) => c.method === 'PUT' && c.path.includes('/reactions/'), 'discord plan');
    await slack.sendEnvelope('slash_commands', slack.slashCommand('U0OWNER', 'plan phase1'));
    await slack.waitForApi((c) => c.method === 'reactions.add', 'slack plan');
    expect(audit.filter((t) => t === 'approval.registered')).toHaveLength(2);

    await bot.alert(reply('high', 'Backup failed', [{ lines: ['vzdump job nightly failed for VM 101'] }], '/jarvis backups'));
    expect(discord.calls('POST', new RegExp(`/channels/${FAKE_IDS.alertChannel}/messages$`))).toHaveLength(1);
    expect(slack.api('chat.postMessage').filter((c) => c.body.channel === SLACK_IDS.alertChannel)).toHaveLength(1);
  });

  it('refuses a Slack HTTP listener on every address, however it is spelled, naming SLACK_HTTP_LISTEN', async () => {
    const base = { env: {}, services: new FakeServices(), audit: () => undefined, log: () => undefined };
    const http = (httpListen: string) => ({ dataDir, slack: { botToken: new Secret('xoxb-token'), signingSecret: new Secret('s'), httpListen, apiUrl: slack.apiUrl } });
    for (const listen of ['0:8787', '[::0]:8787', '[0:0:0:0:0:0:0:0]:8787', '0.0.0.0:8787', ':::8787', '[::]:8787', '0x0:8787', ':8787']) {
      await expect(startChatBot({ ...base, config: http(listen) })).rejects.toThrow(new RegExp(`SLACK_HTTP_LISTEN=${listen.replace(/[[\]]/g, '\\$&')}: refusing to listen on every address`));
    }
  });

  it('refuses to start without an adapter, with a non-loopback test URL, or with bad approvers', async () => {
    const base = { env: {}, services: new FakeServices(), audit: () => undefined, log: () => undefined };
    await expect(startChatBot({ ...base, config: { dataDir } })).rejects.toThrow(/no chat adapter configured/);
    await expect(startChatBot({ ...base, config: { dataDir, discord: { ...config().discord, apiBase: 'http://example.invalid/api' } } })).rejects.toThrow(/DISCORD_API_BASE=.*127\.0\.0\.1 or localhost/);
    await expect(startChatBot({ ...base, env: { JARVIS_APPROVERS: 'alice' }, config: config() })).rejects.toThrow(/JARVIS_APPROVERS/);
    expect(discord.rest).toEqual([]);
  });
});
