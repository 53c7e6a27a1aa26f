// jarvis doctor catches what a newcomer gets wrong: the example values of .env.example, approvers that are examples or
// nobody on the platform, alert channels that do not exist or where the bot cannot post, no chat adapter, the
// storages phase 0 needs, the webhook receiver's address. Against the local Discord and Slack fakes.
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultDoctorPorts, runDoctor } from '../../app/doctor/run.ts';
import { channelPermissions } from '../../app/doctor/people-check.ts';
import { checkStorages, checkTimeZone, checkWebhook } from '../../app/doctor/setup-checks.ts';
import { createProxmoxClient } from '../../infra/proxmox/client.ts';
import { Secret } from '../../lib/secret.ts';
import { startSim } from '../../sim/server.ts';
import { loadConfig } from '../../lib/config.ts';
import { FAKE_IDS, FakeDiscord } from '../fakes/discord.ts';
import { FakeSlack, SLACK_IDS } from '../fakes/slack.ts';
import { byId, doctor, tempDataDir } from './support.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const OWNER = '400000000000000400';

describe('doctor on the values of .env.example', () => {
  it('names each placeholder with what to put there', async () => {
    const env = parseEnv(readFileSync(`${ROOT}.env.example`, 'utf8')) as Record<string, string>;
    const { code, checks } = await doctor({ ...env, JARVIS_DATA_DIR: tempDataDir() });
    expect(code).toBe(1);
    expect(byId(checks, 'placeholders.JARVIS_APPROVERS')).toMatchObject({ status: 'fail', fix: expect.stringContaining('discord:123456789012345678, slack:U0123ABCD are the examples of .env.example') });
    expect(byId(checks, 'placeholders.SSH_HOST_PINS')).toMatchObject({ status: 'fail', summary: 'settings: SSH_HOST_PINS is still the example of .env.example' });
  });
});

describe('doctor: approvers and alert channels on Discord', () => {
  let fake: FakeDiscord;
  const env = (extra: Record<string, string> = {}) => ({
    JARVIS_DATA_DIR: tempDataDir(),
    DISCORD_TOKEN: 'doctor-discord-token',
    DISCORD_APP_ID: FAKE_IDS.application,
    DISCORD_GUILD_ID: FAKE_IDS.guild,
    DISCORD_ALERT_CHANNEL_ID: FAKE_IDS.alertChannel,
    DISCORD_API_BASE: fake.apiBase,
    ...extra,
  });
  beforeEach(async () => {
    fake = await new FakeDiscord().start();
    fake.users.set(OWNER, 'alice');
    fake.members.set(OWNER, []);
    fake.users.set('500000000000000500', 'bob');
  });
  afterEach(() => fake.stop());

  it('passes a real member, fails an example id, an id of nobody and a user outside the guild, each with the fix', async () => {
    const checks = await runDoctor(env({ JARVIS_APPROVERS: `discord:${OWNER},discord:123456789012345678,discord:999999999999999999,discord:500000000000000500` }), ROOT, defaultDoctorPorts());
    expect(byId(checks, `approvers.discord:${OWNER}`)).toMatchObject({ status: 'pass', summary: `approvers: discord:${OWNER} is alice, a member of guild ${FAKE_IDS.guild}` });
    expect(byId(checks, 'approvers.discord:123456789012345678')).toMatchObject({ status: 'fail', fix: expect.stringContaining('Copy User ID') });
    expect(byId(checks, 'approvers.discord:999999999999999999')).toMatchObject({ status: 'fail', summary: 'approvers: discord:999999999999999999 names no Discord user (GET /users/999999999999999999 answered HTTP 404)' });
    expect(byId(checks, 'approvers.discord:500000000000000500')).toMatchObject({ status: 'fail', fix: 'invite them to the server, or correct JARVIS_APPROVERS' });
  });

  it('passes an alert channel the bot may post in; fails one that does not exist and one whose overwrite denies Send Messages', async () => {
    expect(byId(await runDoctor(env({ JARVIS_APPROVERS: `discord:${OWNER}` }), ROOT), 'alerts.discord')).toMatchObject({ status: 'pass', summary: 'Discord: the bot may post alerts in #alerts' });
    expect(byId(await runDoctor(env({ DISCORD_ALERT_CHANNEL_ID: '300000000000000999' }), ROOT), 'alerts.discord')).toMatchObject({ status: 'fail', summary: 'Discord: alert channel 300000000000000999 does not exist or the bot cannot see it (HTTP 404)' });
    fake.channels.get(FAKE_IDS.alertChannel)!.overwrites.push({ id: FAKE_IDS.guild, type: 0, allow: '0', deny: String(2048) });
    expect(byId(await runDoctor(env(), ROOT), 'alerts.discord')).toMatchObject({ status: 'fail', summary: 'Discord: the bot cannot post alerts in #alerts: it lacks Send Messages there' });
  });

  it('computes channel permissions as Discord does: roles, then @everyone, role and member overwrites; Administrator wins', () => {
    const base = { guildId: 'g', botId: 'b', memberRoles: ['r'], roles: [{ id: 'g', permissions: String(1024) }, { id: 'r', permissions: String(2048) }] };
    expect(channelPermissions({ ...base, overwrites: [] })).toBe(1024n | 2048n);
    expect(channelPermissions({ ...base, overwrites: [{ id: 'r', type: 0, allow: '0', deny: '2048' }] })).toBe(1024n);
    expect(channelPermissions({ ...base, overwrites: [{ id: 'r', type: 0, allow: '0', deny: '2048' }, { id: 'b', type: 1, allow: '2048', deny: '0' }] })).toBe(1024n | 2048n);
    expect(channelPermissions({ ...base, roles: [{ id: 'g', permissions: '8' }], overwrites: [{ id: 'g', type: 0, allow: '0', deny: '3072' }] }) & 2048n).toBe(2048n);
  });
});

describe('doctor: approvers and alert channel on Slack', () => {
  let fake: FakeSlack;
  beforeEach(async () => {
    fake = await new FakeSlack().start();
    fake.users.set('U0OWNER', { name: 'alice' });
    fake.users.set('U0GONE', { name: 'carol', deleted: true });
  });
  afterEach(() => fake.stop());
  const env = (extra: Record<string, string> = {}) => ({ JARVIS_DATA_DIR: tempDataDir(), SLACK_BOT_TOKEN: 'xoxb-doctor', SLACK_APP_TOKEN: 'xapp-doctor', SLACK_API_URL: fake.apiUrl, SLACK_ALERT_CHANNEL: SLACK_IDS.alertChannel, ...extra });

  it('passes a person, fails nobody and a deactivated account; fails an alert channel the bot is not in or that does not exist', async () => {
    const checks = await runDoctor(env({ JARVIS_APPROVERS: 'slack:U0OWNER,slack:U0NOBODY,slack:U0GONE' }), ROOT);
    expect(byId(checks, 'approvers.slack:U0OWNER')).toMatchObject({ status: 'pass', summary: 'approvers: slack:U0OWNER is the Slack user alice' });
    expect(byId(checks, 'approvers.slack:U0NOBODY')).toMatchObject({ status: 'fail', summary: 'approvers: slack:U0NOBODY names no Slack user (users.info: user_not_found)' });
    expect(byId(checks, 'approvers.slack:U0GONE')).toMatchObject({ status: 'fail', summary: 'approvers: slack:U0GONE (carol) is a deactivated Slack account' });
    expect(byId(checks, 'alerts.slack')).toMatchObject({ status: 'pass' });
    fake.channels.get(SLACK_IDS.alertChannel)!.is_member = false;
    expect(byId(await runDoctor(env(), ROOT), 'alerts.slack')).toMatchObject({ status: 'fail', fix: 'in #alerts: /invite @jarvis' });
    expect(byId(await runDoctor(env({ SLACK_ALERT_CHANNEL: 'C0NOPE' }), ROOT), 'alerts.slack')).toMatchObject({ status: 'fail', summary: expect.stringContaining('channel_not_found') });
  });
});

describe('doctor: the rest of the setup', () => {
  it('no chat adapter is a failure: jarvis bot refuses to start', async () => {
    const checks = await runDoctor({ JARVIS_DATA_DIR: tempDataDir() }, ROOT);
    expect(byId(checks, 'chat')).toMatchObject({ status: 'fail', summary: 'chat: no chat adapter configured: `jarvis bot` refuses to start' });
  });

  it('the webhook receiver: its secret, an address of this machine, or off', () => {
    const config = (extra: Record<string, string>) => loadConfig({ JARVIS_DATA_DIR: '/tmp', ...extra });
    expect(checkWebhook(config({}))).toMatchObject({ status: 'pass', summary: expect.stringContaining('off') });
    expect(checkWebhook(config({ JARVIS_WEBHOOK_LISTEN: '127.0.0.1:8787' }))).toMatchObject({ status: 'fail', summary: expect.stringContaining('without JARVIS_WEBHOOK_SECRET') });
    expect(checkWebhook(config({ JARVIS_WEBHOOK_LISTEN: '192.0.2.77:8787', JARVIS_WEBHOOK_SECRET: 's' }), () => new Set(['127.0.0.1']))).toMatchObject({ status: 'fail', summary: 'webhook receiver: 192.0.2.77 is not an address of this machine: jarvis bot could not listen there' });
    expect(checkWebhook(config({ JARVIS_WEBHOOK_LISTEN: '0.0.0.0:8787', JARVIS_WEBHOOK_SECRET: 's' }))).toMatchObject({ status: 'fail', summary: expect.stringContaining('refusing to listen on every address') });
    expect(checkWebhook(config({ JARVIS_WEBHOOK_LISTEN: '127.0.0.1:8787', JARVIS_WEBHOOK_SECRET: 's' }), () => new Set(['127.0.0.1']))).toMatchObject({ status: 'pass', summary: expect.stringContaining('POST to http://127.0.0.1:8787 with header X-Jarvis-Secret') });
  });

  it('the storages phase 0 builds on: VM disks and a file storage for images and vendor data', async () => {
    const pve = (storages: Array<{ storage: string; type: string; content: string }>) => ({ nodeStorageStatus: async () => storages.map((s) => ({ ...s, active: 1 })) });
    const fresh = [{ storage: 'local', type: 'dir', content: 'iso,vztmpl,backup,import' }, { storage: 'local-lvm', type: 'lvmthin', content: 'rootdir,images' }];
    expect(await checkStorages(pve(fresh), 'proxmox', { disks: 'local-lvm', images: 'local' })).toMatchObject({ status: 'pass', summary: expect.stringContaining('a phase-0 plan adds its content types snippets') });
    expect(await checkStorages(pve([fresh[0]!]), 'proxmox', { disks: 'local-lvm', images: 'local' })).toMatchObject({ status: 'fail', summary: expect.stringContaining('local-lvm (VM disks) does not exist') });
    expect(await checkStorages(pve([{ storage: 'local', type: 'lvmthin', content: 'images' }, fresh[1]!]), 'proxmox', { disks: 'local-lvm', images: 'local' })).toMatchObject({ status: 'fail', summary: expect.stringContaining('local is a lvmthin storage') });
  });

  it('the node’s time zone against the site’s: the backup window is read in the node’s (GET /nodes/{node}/time)', async () => {
    const sim = await startSim({ scenario: 'fresh' });
    const pve = createProxmoxClient({ url: sim.url, node: 'proxmox', tokenId: sim.tokenId, tokenSecret: new Secret(sim.tokenSecret), fingerprint: sim.fingerprint });
    try {
      expect(await checkTimeZone(pve, 'proxmox', 'UTC', '02:30')).toMatchObject({ status: 'pass', summary: 'node proxmox: time zone UTC, as the site file says (the backup window 02:30 is read in it)' });
      sim.lab.timezone = 'Europe/Paris';
      expect(await checkTimeZone(pve, 'proxmox', 'UTC', '02:30')).toMatchObject({ status: 'warn', summary: 'node proxmox: its time zone is Europe/Paris, the site file says UTC: the nightly backup runs at 02:30 Europe/Paris time', fix: expect.stringContaining('backups.timeZone: Europe/Paris') });
    } finally {
      await pve.close();
      await sim.close();
    }
  });
});
