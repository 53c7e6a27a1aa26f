// A lab with a thousand guests Jarvis does not manage (`large` scenario): status lists the managed ones, counts the
// rest, and fits one Discord message and one Slack message without cutting anything.
import { describe, expect, it } from 'vitest';
import type { RunningServices } from '../../app/services.ts';
import { renderDiscord } from '../../bot/discord/render.ts';
import { renderSlack } from '../../bot/slack/render.ts';
import { reportCommand } from '../../commands/handlers/reports.ts';
import type { CommandContext } from '../../commands/context.ts';
import { servicesOnSimAroundAll } from '../support/services-on-sim.ts';

let running: RunningServices;

servicesOnSimAroundAll({ scenario: 'large' }, (opened) => ({ running } = opened), 120_000);

describe('status of a lab with 1,000 unmanaged guests', () => {
  it('names the spec’s guests, counts the others in one line, and fits one message on Discord and on Slack', async () => {
    const ctx = { deps: { services: running.services }, requester: { platform: 'discord', id: '1', displayName: 'owner' } } as unknown as CommandContext;
    const reply = await reportCommand({ name: 'status' }, ctx);
    const guests = reply.sections.find((s) => s.title === 'Guests')!.lines;
    expect(guests.filter((l) => /^\d/.test(l)).map((l) => Number(l.split(' ')[0]))).toEqual([100, 300, 400]);
    expect(guests.at(-1)).toBe('+ 1000 other guests not in the spec or a backup job (500 running, 500 stopped)');
    const lines = reply.sections.reduce((n, s) => n + s.lines.length, 0);
    expect(lines).toBeLessThan(40);

    const discord = renderDiscord(reply);
    expect(discord.files).toEqual([]);
    expect(discord.embeds[0]!.fields.map((f) => f.name)).not.toContain('Full text attached');
    const slack = renderSlack(reply);
    expect(slack.files).toEqual([]);
    expect(JSON.stringify(slack.blocks)).not.toContain('did not fit');
  });
});
