// Doctor's Discord and Slack checks against the local fakes; a non-loopback test base is refused before any call.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultDoctorPorts, runDoctor } from '../../app/doctor/run.ts';
import { manifestBotScopes } from '../../app/doctor/slack-check.ts';
import { registerDiscordCommands } from '../../cli/commands/register-discord.ts';
import { FAKE_IDS, FakeDiscord } from '../fakes/discord.ts';
import { FakeSlack } from '../fakes/slack.ts';
import { byId, tempDataDir } from './support.ts';

/** The chat checks only: no Proxmox is configured, so nothing else is contacted. */
async function chatChecks(env: Record<string, string>, prefix: string, ports = defaultDoctorPorts()) {
  const checks = await runDoctor({ JARVIS_DATA_DIR: tempDataDir(), ...env }, tempDataDir(), ports);
  return checks.filter((c) => c.id.startsWith(prefix));
}

describe('doctor: Discord', () => {
  let fake: FakeDiscord;
  const token = 'discord-bot-token-canary';
  let env: Record<string, string>;
  beforeEach(async () => {
    fake = await new FakeDiscord().start();
    fake.botToken = token;
    env = { DISCORD_TOKEN: token, DISCORD_APP_ID: FAKE_IDS.application, DISCORD_GUILD_ID: FAKE_IDS.guild, DISCORD_API_BASE: fake.apiBase };
  });
  afterEach(() => fake.stop());

  it('passes a valid bot token, its application, no privileged intent and the registered /jarvis', async () => {
    await registerDiscordCommands(env);
    const checks = await chatChecks(env, 'discord');
    expect(checks.map((c) => [c.id, c.status])).toEqual([
      ['discord.token', 'pass'],
      ['discord.app', 'pass'],
      ['discord.intents', 'pass'],
      ['discord.command', 'pass'],
    ]);
    expect(byId(checks, 'discord.command').summary).toBe(`Discord: /jarvis is registered in guild ${FAKE_IDS.guild}`);
    expect(fake.rest.every((call) => call.authorization === `Bot ${token}`)).toBe(true);
    expect(JSON.stringify(checks)).not.toContain(token);
  });

  it('fails a rejected token and asks nothing more', async () => {
    const checks = await chatChecks({ ...env, DISCORD_TOKEN: 'wrong-token' }, 'discord');
    expect(checks).toEqual([expect.objectContaining({ id: 'discord.token', status: 'fail', summary: 'Discord: the bot token is rejected (401: Unauthorized)' })]);
    expect(fake.rest.map((call) => call.path)).toEqual(['/users/@me']);
  });

  it('fails when the token belongs to another application than DISCORD_APP_ID', async () => {
    const checks = await chatChecks({ ...env, DISCORD_APP_ID: '100000000000000999' }, 'discord');
    expect(byId(checks, 'discord.app')).toMatchObject({ status: 'fail', fix: `set DISCORD_APP_ID=${FAKE_IDS.application}, or use the token of application 100000000000000999` });
  });

  it('fails when /jarvis is not registered, with the command that registers it', async () => {
    const checks = await chatChecks(env, 'discord');
    expect(byId(checks, 'discord.command')).toMatchObject({ status: 'fail', summary: `Discord: /jarvis is not registered in guild ${FAKE_IDS.guild}`, fix: expect.stringContaining('npm run register:discord') });
  });

  it('fails when the application is not in the guild, with the invite link', async () => {
    const checks = await chatChecks({ ...env, DISCORD_GUILD_ID: '200000000000000999' }, 'discord');
    expect(byId(checks, 'discord.command')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining(`https://discord.com/oauth2/authorize?client_id=${FAKE_IDS.application}&scope=bot%20applications.commands&permissions=`),
    });
  });

  it('warns about privileged intents Jarvis does not use', async () => {
    fake.applicationFlags = 1 << 18;
    const checks = await chatChecks(env, 'discord');
    expect(byId(checks, 'discord.intents')).toMatchObject({ status: 'warn', summary: 'Discord: privileged intents on that Jarvis never uses: Message Content Intent' });
  });

  it('refuses a DISCORD_API_BASE off this machine without sending anything', async () => {
    const sent: string[] = [];
    const ports = { ...defaultDoctorPorts(), http: async (req: { url: string }) => (sent.push(req.url), Promise.reject(new Error('must not be called'))) };
    const checks = await chatChecks({ ...env, DISCORD_API_BASE: 'https://discord.example/api' }, 'discord', ports);
    expect(checks).toEqual([expect.objectContaining({ id: 'discord_api_base', status: 'fail', summary: expect.stringContaining('only for tests') })]);
    expect(sent).toEqual([]);
  });
});

describe('doctor: Slack', () => {
  let fake: FakeSlack;
  const bot = 'xoxb-canary-bot';
  const app = 'xapp-canary-app';
  let env: Record<string, string>;
  beforeEach(async () => {
    fake = await new FakeSlack().start();
    fake.validTokens = new Set([bot, app]);
    fake.botScopes = manifestBotScopes();
    env = { SLACK_BOT_TOKEN: bot, SLACK_APP_TOKEN: app, SLACK_API_URL: fake.apiUrl };
  });
  afterEach(() => fake.stop());

  it('passes valid tokens holding the manifest scopes and Socket Mode', async () => {
    const checks = await chatChecks(env, 'slack');
    expect(checks.map((c) => [c.id, c.status])).toEqual([
      ['slack.token', 'pass'],
      ['slack.scopes', 'pass'],
      ['slack.socket', 'pass'],
    ]);
    expect(byId(checks, 'slack.token').summary).toBe('Slack: bot token valid (@jarvis in homelab)');
    expect(fake.api('apps.connections.open').map((c) => c.authorization)).toEqual([`Bearer ${app}`]);
    expect(JSON.stringify(checks)).not.toContain(bot);
  });

  it('reads the manifest scopes the app must hold', () => {
    expect(manifestBotScopes()).toEqual(expect.arrayContaining(['commands', 'chat:write', 'reactions:read', 'reactions:write', 'files:write']));
  });

  it('fails an invalid bot token and an invalid app token separately', async () => {
    const checks = await chatChecks({ ...env, SLACK_BOT_TOKEN: 'xoxb-revoked', SLACK_APP_TOKEN: 'xapp-revoked' }, 'slack');
    expect(byId(checks, 'slack.token')).toMatchObject({ status: 'fail', summary: 'Slack: auth.test with SLACK_BOT_TOKEN failed: invalid_auth' });
    expect(byId(checks, 'slack.socket')).toMatchObject({ status: 'fail', summary: 'Slack: apps.connections.open with SLACK_APP_TOKEN failed: invalid_auth' });
  });

  it('fails when the bot lacks a scope of the manifest, naming it', async () => {
    fake.botScopes = manifestBotScopes().filter((s) => s !== 'files:write');
    const checks = await chatChecks(env, 'slack');
    expect(byId(checks, 'slack.scopes')).toMatchObject({ status: 'fail', summary: 'Slack: the bot lacks the scopes files:write' });
  });

  it('refuses a SLACK_API_URL off this machine without sending anything', async () => {
    const sent: string[] = [];
    const ports = { ...defaultDoctorPorts(), http: async (req: { url: string }) => (sent.push(req.url), Promise.reject(new Error('must not be called'))) };
    const checks = await chatChecks({ ...env, SLACK_API_URL: 'https://slack.example/api/' }, 'slack', ports);
    expect(checks).toEqual([expect.objectContaining({ id: 'slack_api_url', status: 'fail' })]);
    expect(sent).toEqual([]);
  });
});
