// `jarvis register-discord` (also `npm run register:discord`): registers the /jarvis command in the configured guild
// (guild commands update at once). It reads the environment file bin/jarvis.js loads, as every command does, so on
// edge-gateway `sudo jarvis register-discord` uses exactly the service's settings.
import { REST, Routes } from 'discord.js';
import { JARVIS_COMMAND } from '../../bot/discord/command-definition.ts';
import { readSecret } from '../../lib/config.ts';
import { EXIT, InputError } from '../../lib/errors.ts';
import { defineCommand } from '../args.ts';

export async function registerDiscordCommands(env: Record<string, string | undefined>): Promise<string> {
  const token = readSecret(env, 'DISCORD_TOKEN');
  const missing = [!token && 'DISCORD_TOKEN (or DISCORD_TOKEN_FILE)', !env.DISCORD_APP_ID && 'DISCORD_APP_ID', !env.DISCORD_GUILD_ID && 'DISCORD_GUILD_ID'].filter(Boolean);
  if (missing.length || !token || !env.DISCORD_APP_ID || !env.DISCORD_GUILD_ID) throw new InputError(`register-discord needs ${missing.join(', ')}`);
  const rest = new REST({ ...(env.DISCORD_API_BASE && { api: env.DISCORD_API_BASE }), retries: 0 }).setToken(token.reveal());
  await rest.put(Routes.applicationGuildCommands(env.DISCORD_APP_ID, env.DISCORD_GUILD_ID), { body: [JARVIS_COMMAND] });
  return `registered /jarvis in guild ${env.DISCORD_GUILD_ID}`;
}

export const command = defineCommand(
  {
    name: 'register-discord',
    positionals: { min: 0, max: 0 },
    options: {},
    description: 'Registers the /jarvis slash command in DISCORD_GUILD_ID with the bot token (once, and after an upgrade that\nadds subcommands).',
    environment: 'DISCORD_TOKEN (or DISCORD_TOKEN_FILE), DISCORD_APP_ID, DISCORD_GUILD_ID',
    exitCodes: [
      [EXIT.ok, 'registered'],
      [EXIT.invalidInput, 'a variable is missing'],
      [EXIT.failed, 'Discord refused or could not be reached'],
    ],
  },
  async (_args, io) => {
    io.stdout(`${await registerDiscordCommands(io.env)}\n`);
    return EXIT.ok;
  },
);
