// What a newcomer gets wrong on the chat side: approvers still the example ids, or ids that name nobody on the
// platform (Discord GET /users/{id} and the guild member; Slack users.info), alert channels that do not exist or where
// the bot cannot post (Discord: the channel's permission overwrites over the bot's roles; Slack conversations.info),
// and no chat adapter at all, which `jarvis bot` refuses.
import { z } from 'zod';
import type { JarvisConfig } from '../../lib/config.ts';
import { EXAMPLE_APPROVERS } from '../../lib/placeholders.ts';
import type { HttpExchange } from './http.ts';
import { fail, pass, warn, type CheckResult } from './result.ts';

const DISCORD_API = 'https://discord.com/api';
const SLACK_API = 'https://slack.com/api/';
/** View Channel, Send Messages, Embed Links (what an alert needs), and Administrator, which implies them all. */
const VIEW = 1n << 10n;
const SEND = 1n << 11n;
const EMBED = 1n << 14n;
const ADMINISTRATOR = 1n << 3n;

export function checkChatConfigured(config: JarvisConfig): CheckResult {
  if (config.discord || config.slack) return pass('chat', `chat: ${[config.discord && 'Discord', config.slack && 'Slack'].filter(Boolean).join(' and ')} configured`);
  return fail('chat', 'chat: no chat adapter configured: `jarvis bot` refuses to start', 'set DISCORD_TOKEN + DISCORD_APP_ID (and DISCORD_GUILD_ID), and/or SLACK_BOT_TOKEN + SLACK_APP_TOKEN; see README: Install');
}

type Get = (path: string) => Promise<{ status: number; body: unknown }>;

function discordGet(discord: NonNullable<JarvisConfig['discord']>, http: HttpExchange): Get {
  const base = `${discord.apiBase ?? DISCORD_API}/v10`;
  return (path) => http({ method: 'GET', url: `${base}${path}`, headers: { authorization: `Bot ${discord.token.reveal()}`, accept: 'application/json' } });
}

function slackCall(slack: NonNullable<JarvisConfig['slack']>, http: HttpExchange): (method: string, params: Record<string, string>) => Promise<Record<string, unknown>> {
  const base = slack.apiUrl ?? SLACK_API;
  return async (method, params) => {
    const answer = await http({ method: 'POST', url: `${base}${method}`, headers: { authorization: `Bearer ${slack.botToken.reveal()}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() });
    return (answer.body ?? {}) as Record<string, unknown>;
  };
}

/** One line per approver id: an example, nobody on the platform, not in the guild, or fine. */
export async function checkApprovers(config: JarvisConfig, groups: string | undefined, http: HttpExchange): Promise<CheckResult[]> {
  const id = 'approvers';
  if (config.approvers.length === 0) {
    return [groups ? warn(id, 'approvers: JARVIS_APPROVERS is empty; only members of JARVIS_APPROVER_GROUPS may approve') : fail(id, 'approvers: JARVIS_APPROVERS is empty: nobody can approve a plan', 'set JARVIS_APPROVERS=discord:<your user id>,slack:<your member id> (README: Approvers)')];
  }
  const results: CheckResult[] = [];
  for (const approver of config.approvers) {
    const [platform, user] = approver.split(':') as [string, string];
    if (EXAMPLE_APPROVERS.includes(approver)) {
      results.push(fail(`${id}.${approver}`, `approvers: ${approver} is the example id of .env.example, nobody's`, 'put your own id in JARVIS_APPROVERS (Discord: Developer Mode, then right-click yourself, Copy User ID; Slack: your profile, ⋮, Copy member ID)'));
    } else if (platform === 'discord') {
      results.push(config.discord ? await discordApprover(approver, user, config.discord, http) : warn(`${id}.${approver}`, `approvers: ${approver} is on Discord, which is not configured here`));
    } else if (platform === 'slack') {
      results.push(config.slack ? await slackApprover(approver, user, config.slack, http) : warn(`${id}.${approver}`, `approvers: ${approver} is on Slack, which is not configured here`));
    }
  }
  return results;
}

async function discordApprover(approver: string, user: string, discord: NonNullable<JarvisConfig['discord']>, http: HttpExchange): Promise<CheckResult> {
  const id = `approvers.${approver}`;
  const get = discordGet(discord, http);
  const found = await get(`/users/${user}`);
  const parsed = z.looseObject({ username: z.string() }).safeParse(found.body);
  if (found.status === 404 || !parsed.success) {
    return fail(id, `approvers: ${approver} names no Discord user (GET /users/${user} answered HTTP ${found.status})`, 'copy the id again (Developer Mode, then right-click the user, Copy User ID): a user id, not a role, channel or message id');
  }
  if (!discord.guildId) return pass(id, `approvers: ${approver} is the Discord user ${parsed.data.username}`);
  const member = await get(`/guilds/${discord.guildId}/members/${user}`);
  if (member.status !== 200) {
    return fail(id, `approvers: ${approver} (${parsed.data.username}) is not a member of guild ${discord.guildId}, where /jarvis is`, 'invite them to the server, or correct JARVIS_APPROVERS');
  }
  return pass(id, `approvers: ${approver} is ${parsed.data.username}, a member of guild ${discord.guildId}`);
}

async function slackApprover(approver: string, user: string, slack: NonNullable<JarvisConfig['slack']>, http: HttpExchange): Promise<CheckResult> {
  const id = `approvers.${approver}`;
  const answer = await slackCall(slack, http)('users.info', { user });
  if (answer.ok !== true) {
    if (answer.error === 'missing_scope') return warn(id, `approvers: ${approver} not checked: the bot lacks the users:read scope`, 'add users:read (slack-app-manifest.yaml lists it) and reinstall the app');
    return fail(id, `approvers: ${approver} names no Slack user (users.info: ${String(answer.error ?? 'no answer')})`, 'copy the member id again (profile, ⋮, Copy member ID): U… or W…, not a channel or a user group');
  }
  const info = z.looseObject({ name: z.string().optional(), deleted: z.boolean().optional(), is_bot: z.boolean().optional() }).safeParse(answer.user);
  if (info.success && info.data.deleted) return fail(id, `approvers: ${approver} (${info.data.name ?? user}) is a deactivated Slack account`, 'remove it from JARVIS_APPROVERS');
  if (info.success && info.data.is_bot) return fail(id, `approvers: ${approver} (${info.data.name ?? user}) is a bot, not a person`, 'put a person\'s member id in JARVIS_APPROVERS');
  return pass(id, `approvers: ${approver} is the Slack user ${info.success ? (info.data.name ?? user) : user}`);
}

const overwrite = z.looseObject({ id: z.string(), type: z.union([z.number(), z.string()]), allow: z.string(), deny: z.string() });
const channelSchema = z.looseObject({ id: z.string(), name: z.string().optional(), guild_id: z.string().optional(), permission_overwrites: z.array(overwrite).optional() });
const roleSchema = z.array(z.looseObject({ id: z.string(), permissions: z.string() }));
const memberSchema = z.looseObject({ roles: z.array(z.string()) });

/** Discord's permission computation for a member in a channel (the documented algorithm: base, then overwrites). */
export function channelPermissions(input: { guildId: string; botId: string; memberRoles: string[]; roles: Array<{ id: string; permissions: string }>; overwrites: Array<z.infer<typeof overwrite>> }): bigint {
  const bits = (id: string): bigint => BigInt(input.roles.find((r) => r.id === id)?.permissions ?? '0');
  let base = bits(input.guildId);
  for (const role of input.memberRoles) base |= bits(role);
  if ((base & ADMINISTRATOR) !== 0n) return ~0n;
  let perms = base;
  const everyone = input.overwrites.find((o) => o.id === input.guildId);
  if (everyone) perms = (perms & ~BigInt(everyone.deny)) | BigInt(everyone.allow);
  let allow = 0n;
  let deny = 0n;
  for (const o of input.overwrites.filter((o) => input.memberRoles.includes(o.id))) {
    allow |= BigInt(o.allow);
    deny |= BigInt(o.deny);
  }
  perms = (perms & ~deny) | allow;
  const member = input.overwrites.find((o) => o.id === input.botId);
  if (member) perms = (perms & ~BigInt(member.deny)) | BigInt(member.allow);
  return perms;
}

export async function checkAlertChannels(config: JarvisConfig, http: HttpExchange): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  if (config.discord) results.push(await discordAlertChannel(config.discord, http));
  if (config.slack) results.push(await slackAlertChannel(config.slack, http));
  return results;
}

async function discordAlertChannel(discord: NonNullable<JarvisConfig['discord']>, http: HttpExchange): Promise<CheckResult> {
  const id = 'alerts.discord';
  const channelId = discord.alertChannelId;
  if (!channelId) return warn(id, 'Discord: DISCORD_ALERT_CHANNEL_ID is not set: alerts (failed backups, Proxmox unreadable) go nowhere on Discord', 'set it to the id of your alerts channel (Developer Mode, then right-click the channel, Copy Channel ID)');
  const get = discordGet(discord, http);
  const answer = await get(`/channels/${channelId}`);
  const channel = channelSchema.safeParse(answer.body);
  if (answer.status === 404 || answer.status === 403 || !channel.success) {
    return fail(id, `Discord: alert channel ${channelId} does not exist or the bot cannot see it (HTTP ${answer.status})`, 'check DISCORD_ALERT_CHANNEL_ID (a channel id of your server), and that the bot\'s role may View Channel there');
  }
  const guildId = channel.data.guild_id;
  const me = z.looseObject({ id: z.string() }).safeParse((await get('/users/@me')).body);
  const botId = me.success ? me.data.id : undefined;
  if (!guildId || !botId) return pass(id, `Discord: alert channel #${channel.data.name ?? channelId} exists`);
  if (discord.guildId && guildId !== discord.guildId) return fail(id, `Discord: alert channel ${channelId} is in guild ${guildId}, not DISCORD_GUILD_ID ${discord.guildId}`, 'use a channel of the server where /jarvis is');
  const [roles, member] = await Promise.all([get(`/guilds/${guildId}/roles`), get(`/guilds/${guildId}/members/${botId}`)]);
  const parsedRoles = roleSchema.safeParse(roles.body);
  const parsedMember = memberSchema.safeParse(member.body);
  if (!parsedRoles.success || !parsedMember.success) return warn(id, `Discord: alert channel #${channel.data.name ?? channelId} exists; the bot's permissions there could not be read`);
  const perms = channelPermissions({ guildId, botId, memberRoles: parsedMember.data.roles, roles: parsedRoles.data, overwrites: channel.data.permission_overwrites ?? [] });
  const lacking = [[VIEW, 'View Channel'], [SEND, 'Send Messages'], [EMBED, 'Embed Links']].filter(([bit]) => (perms & (bit as bigint)) === 0n).map(([, name]) => name as string);
  if (lacking.length > 0) {
    return fail(id, `Discord: the bot cannot post alerts in #${channel.data.name ?? channelId}: it lacks ${lacking.join(', ')} there`, 'channel settings, Permissions: allow these for the bot\'s role (or remove the overwrite that denies them)');
  }
  return pass(id, `Discord: the bot may post alerts in #${channel.data.name ?? channelId}`);
}

async function slackAlertChannel(slack: NonNullable<JarvisConfig['slack']>, http: HttpExchange): Promise<CheckResult> {
  const id = 'alerts.slack';
  if (!slack.alertChannel) return warn(id, 'Slack: SLACK_ALERT_CHANNEL is not set: alerts go nowhere on Slack', 'set it to the channel id (C…) of your alerts channel');
  const answer = await slackCall(slack, http)('conversations.info', { channel: slack.alertChannel });
  if (answer.ok !== true) {
    if (answer.error === 'missing_scope') return warn(id, `Slack: alert channel ${slack.alertChannel} not checked: the bot lacks channels:read / groups:read`, 'add them (slack-app-manifest.yaml lists them) and reinstall the app');
    return fail(id, `Slack: alert channel ${slack.alertChannel} does not exist or the bot cannot see it (conversations.info: ${String(answer.error ?? 'no answer')})`, 'set SLACK_ALERT_CHANNEL to the channel id (channel details, at the bottom: C…); for a private channel, invite the bot first');
  }
  const info = z.looseObject({ name: z.string().optional(), is_member: z.boolean().optional(), is_archived: z.boolean().optional() }).safeParse(answer.channel);
  const name = info.success ? (info.data.name ?? slack.alertChannel) : slack.alertChannel;
  if (info.success && info.data.is_archived) return fail(id, `Slack: alert channel #${name} is archived`, 'unarchive it, or name another channel in SLACK_ALERT_CHANNEL');
  if (info.success && info.data.is_member === false) return fail(id, `Slack: the bot is not in #${name}, so it cannot post alerts there`, `in #${name}: /invite @jarvis`);
  return pass(id, `Slack: the bot is in #${name}, where alerts go`);
}
