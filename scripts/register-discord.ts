// `npm run register:discord`: registers the /jarvis command in the configured guild (guild commands update at once).
// Reads DISCORD_TOKEN (or DISCORD_TOKEN_FILE), DISCORD_APP_ID, DISCORD_GUILD_ID; DISCORD_API_BASE only in tests.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REST, Routes } from 'discord.js';
import { JARVIS_COMMAND } from '../bot/discord/command-definition.ts';

export async function registerDiscordCommands(env: Record<string, string | undefined>): Promise<string> {
  const token = env.DISCORD_TOKEN ?? (env.DISCORD_TOKEN_FILE ? readFileSync(env.DISCORD_TOKEN_FILE, 'utf8').trim() : undefined);
  const missing = [!token && 'DISCORD_TOKEN (or DISCORD_TOKEN_FILE)', !env.DISCORD_APP_ID && 'DISCORD_APP_ID', !env.DISCORD_GUILD_ID && 'DISCORD_GUILD_ID'].filter(Boolean);
  if (missing.length || !token || !env.DISCORD_APP_ID || !env.DISCORD_GUILD_ID) throw new Error(`register:discord needs ${missing.join(', ')}`);
  const rest = new REST({ ...(env.DISCORD_API_BASE && { api: env.DISCORD_API_BASE }), retries: 0 }).setToken(token);
  await rest.put(Routes.applicationGuildCommands(env.DISCORD_APP_ID, env.DISCORD_GUILD_ID), { body: [JARVIS_COMMAND] });
  return `registered /jarvis in guild ${env.DISCORD_GUILD_ID}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  registerDiscordCommands(process.env).then(
    (message) => console.log(message),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 2;
    },
  );
}
