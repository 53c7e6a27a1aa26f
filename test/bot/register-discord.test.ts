import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JARVIS_COMMAND } from '../../bot/discord/command-definition.ts';
import { registerDiscordCommands } from '../../cli/commands/register-discord.ts';
import { FAKE_IDS, FakeDiscord } from '../fakes/discord.ts';

let fake: FakeDiscord;
beforeEach(async () => {
  fake = await new FakeDiscord().start();
});
afterEach(() => fake.stop());

describe('npm run register:discord', () => {
  it('PUTs the /jarvis command to the guild with the bot token', async () => {
    const env = { DISCORD_TOKEN: 'reg-token', DISCORD_APP_ID: FAKE_IDS.application, DISCORD_GUILD_ID: FAKE_IDS.guild, DISCORD_API_BASE: fake.apiBase };
    expect(await registerDiscordCommands(env)).toBe(`registered /jarvis in guild ${FAKE_IDS.guild}`);
    const [call] = fake.calls('PUT', /^\/applications\//);
    expect(call?.path).toBe(`/applications/${FAKE_IDS.application}/guilds/${FAKE_IDS.guild}/commands`);
    expect(call?.authorization).toBe('Bot reg-token');
    expect(call?.body).toEqual([JSON.parse(JSON.stringify(JARVIS_COMMAND))]);
  });

  it('names every missing variable and calls nothing', async () => {
    await expect(registerDiscordCommands({ DISCORD_API_BASE: fake.apiBase })).rejects.toThrow('register-discord needs DISCORD_TOKEN (or DISCORD_TOKEN_FILE), DISCORD_APP_ID, DISCORD_GUILD_ID');
    expect(fake.rest).toEqual([]);
  });
});
