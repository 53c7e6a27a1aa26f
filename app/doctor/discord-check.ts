// Discord: the bot token is valid, it belongs to DISCORD_APP_ID, the /jarvis command is registered where Jarvis
// expects it, and no privileged intent is switched on that Jarvis does not use.
import { z } from 'zod';
import type { JarvisConfig } from '../../lib/config.ts';
import { fail, pass, warn, type CheckResult } from './result.ts';
import type { HttpExchange } from './http.ts';

const DISCORD_API = 'https://discord.com/api';
/** View Channel, Send Messages, Embed Links, Attach Files, Add Reactions, Read Message History (README §4). */
const INVITE_PERMISSIONS = 1024 + 2048 + 16384 + 32768 + 64 + 65536;
/** Application flags of the privileged gateway intents (presence, guild members, message content), full and limited. */
const PRIVILEGED_INTENT_FLAGS: Record<string, number> = {
  'Presence Intent': (1 << 12) | (1 << 13),
  'Server Members Intent': (1 << 14) | (1 << 15),
  'Message Content Intent': (1 << 18) | (1 << 19),
};

const user = z.looseObject({ id: z.string(), username: z.string(), bot: z.boolean().optional() });
const application = z.looseObject({ id: z.string(), name: z.string(), flags: z.number().optional() });
const commands = z.array(z.looseObject({ name: z.string() }));

const inviteUrl = (appId: string): string =>
  `https://discord.com/oauth2/authorize?client_id=${appId}&scope=bot%20applications.commands&permissions=${INVITE_PERMISSIONS}`;

function apiMessage(body: unknown): string {
  const message = (body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : 'no message';
}

export async function checkDiscord(discord: JarvisConfig['discord'], http: HttpExchange): Promise<CheckResult[]> {
  if (!discord) return [warn('discord', 'Discord: not configured', 'set DISCORD_TOKEN (or DISCORD_TOKEN_FILE), DISCORD_APP_ID and DISCORD_GUILD_ID to chat from Discord')];
  const base = `${discord.apiBase ?? DISCORD_API}/v10`;
  const get = (path: string) => http({ method: 'GET', url: `${base}${path}`, headers: { authorization: `Bot ${discord.token.reveal()}`, accept: 'application/json' } });

  const me = await get('/users/@me');
  if (me.status === 401) {
    return [fail('discord.token', `Discord: the bot token is rejected (${apiMessage(me.body)})`, 'Developer Portal → your application → Bot → Reset Token; put the new one in DISCORD_TOKEN (or its file)')];
  }
  const bot = user.safeParse(me.body);
  if (me.status !== 200 || !bot.success) return [fail('discord.token', `Discord: GET /users/@me answered HTTP ${me.status}: ${apiMessage(me.body)}`, 'check DISCORD_TOKEN')];
  if (bot.data.bot !== true) return [fail('discord.token', `Discord: DISCORD_TOKEN belongs to the user ${bot.data.username}, not a bot`, 'use the token from the Bot page of your application')];
  const results: CheckResult[] = [pass('discord.token', `Discord: bot token valid (bot ${bot.data.username}, id ${bot.data.id})`)];

  const appAnswer = await get('/applications/@me');
  const app = application.safeParse(appAnswer.body);
  if (appAnswer.status !== 200 || !app.success) {
    results.push(fail('discord.app', `Discord: GET /applications/@me answered HTTP ${appAnswer.status}: ${apiMessage(appAnswer.body)}`, 'check DISCORD_TOKEN'));
    return results;
  }
  if (app.data.id !== discord.appId) {
    results.push(fail('discord.app', `Discord: DISCORD_APP_ID=${discord.appId}, but the token belongs to application ${app.data.name} (${app.data.id})`, `set DISCORD_APP_ID=${app.data.id}, or use the token of application ${discord.appId}`));
    return results;
  }
  results.push(pass('discord.app', `Discord: application ${app.data.name} (${app.data.id}) matches DISCORD_APP_ID`));

  const flags = app.data.flags ?? 0;
  const unused = Object.entries(PRIVILEGED_INTENT_FLAGS).filter(([, mask]) => (flags & mask) !== 0).map(([name]) => name);
  results.push(
    unused.length === 0
      ? pass('discord.intents', 'Discord: intents Guilds and Guild Message Reactions need no privileged intent, and none is on')
      : warn('discord.intents', `Discord: privileged intents on that Jarvis never uses: ${unused.join(', ')}`, 'Developer Portal → Bot → Privileged Gateway Intents: switch them off'),
  );

  const where = discord.guildId ? `guild ${discord.guildId}` : 'global commands';
  const listed = await get(discord.guildId ? `/applications/${app.data.id}/guilds/${discord.guildId}/commands` : `/applications/${app.data.id}/commands`);
  const list = commands.safeParse(listed.body);
  if (listed.status === 403 || listed.status === 404) {
    results.push(fail('discord.command', `Discord: cannot list the commands of ${where} (${apiMessage(listed.body)}): the application is not in that server`, `invite it: ${inviteUrl(app.data.id)}, then run \`npm run register:discord\``));
  } else if (listed.status !== 200 || !list.success) {
    results.push(fail('discord.command', `Discord: listing the commands of ${where} answered HTTP ${listed.status}: ${apiMessage(listed.body)}`, 'check DISCORD_GUILD_ID'));
  } else if (!list.data.some((c) => c.name === 'jarvis')) {
    results.push(fail('discord.command', `Discord: /jarvis is not registered in ${where}`, discord.guildId ? 'run `npm run register:discord` (guild commands appear at once)' : 'set DISCORD_GUILD_ID and run `npm run register:discord`'));
  } else {
    results.push(pass('discord.command', `Discord: /jarvis is registered in ${where}`));
  }
  return results;
}
