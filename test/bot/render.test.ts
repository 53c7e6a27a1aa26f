// Snapshots of what Discord and Slack receive for typical replies, and the limits each renderer keeps.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DISCORD_LIMITS, parseButtonId, renderDiscord } from '../../bot/discord/render.ts';
import { SLACK_LIMITS, renderSlack } from '../../bot/slack/render.ts';
import { renderText } from '../../bot/console/render.ts';
import { JARVIS_COMMAND, optionsToText } from '../../bot/discord/command-definition.ts';
import { planReply } from '../../commands/render-plan.ts';
import { errorReply, scrubReply } from '../../commands/reply.ts';
import { registerSecret, scrubSecrets, Secret } from '../../lib/secret.ts';
import { makePlan, planMarkdown } from './support/plans.ts';

const CREATED = '2026-11-26T01:00:00.000Z';
const shortPlan = makePlan({ id: 'p1-phase0', risks: ['low', 'medium', 'high'], createdAt: CREATED });
const longPlan = makePlan({ id: 'p2-phase1', phase: 'phase1', risks: Array.from({ length: 150 }, (_, i) => (i % 10 === 0 ? 'critical' : 'low')), createdAt: CREATED });

const embedChars = (message: ReturnType<typeof renderDiscord>): number =>
  message.embeds.reduce((n, e) => n + e.title.length + e.description.length + e.footer.text.length + e.fields.reduce((m, f) => m + f.name.length + f.value.length, 0), 0);

describe('Discord rendering', () => {
  it('renders a plan: summary first, colour by max risk, actions, buttons', () => {
    const message = renderDiscord(planReply(shortPlan, planMarkdown(shortPlan)));
    expect(message).toMatchSnapshot();
    expect(message.embeds[0]?.color).toBe(0xe67e22);
    expect(message.files).toEqual([]);
  });

  it('cuts a plan too long for one message and attaches the full Markdown plan', () => {
    const message = renderDiscord(planReply(longPlan, planMarkdown(longPlan)));
    expect(embedChars(message)).toBeLessThanOrEqual(DISCORD_LIMITS.embedTotal);
    expect(message.embeds.length).toBeLessThanOrEqual(DISCORD_LIMITS.embeds);
    for (const field of message.embeds[0]?.fields ?? []) expect(field.value.length).toBeLessThanOrEqual(DISCORD_LIMITS.fieldValue);
    expect(message.files.map((f) => f.name)).toEqual(['plan-p2-phase1.md']);
    expect(message.files[0]?.data.toString()).toBe(planMarkdown(longPlan));
    expect({ ...message, files: message.files.map((f) => ({ name: f.name, bytes: f.data.length })) }).toMatchSnapshot();
  });

  it('round-trips button ids and rejects foreign ones', () => {
    expect(parseButtonId('jarvis:approve:p1-phase0')).toEqual({ action: 'approve', arg: 'p1-phase0' });
    expect(parseButtonId('other:approve:p1')).toBeUndefined();
    expect(parseButtonId('jarvis:approve:../x')).toBeUndefined();
  });
});

describe('Slack rendering', () => {
  it('renders a plan as Block Kit with buttons', () => {
    expect(renderSlack(planReply(shortPlan, planMarkdown(shortPlan)))).toMatchSnapshot();
  });

  it('keeps a long plan within 50 blocks and 3,000 characters a section, with the full plan as a file', () => {
    const message = renderSlack(planReply(longPlan, planMarkdown(longPlan)));
    expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    for (const block of message.blocks) if (block.type === 'section') expect(block.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(message.files).toEqual([{ filename: 'plan-p2-phase1.md', content: planMarkdown(longPlan) }]);
    expect({ ...message, files: message.files.map((f) => ({ filename: f.filename, bytes: f.content.length })) }).toMatchSnapshot();
  });

  it('escapes Slack control characters', () => {
    const message = renderSlack(errorReply('Bad <input>', ['a & b <@U123>'], '/jarvis help'));
    expect(JSON.stringify(message.blocks)).toContain('a &amp; b &lt;@U123&gt;');
  });
});

describe('console rendering', () => {
  it('renders a plan as text ending with the next command', () => {
    const text = renderText(planReply(shortPlan, planMarkdown(shortPlan)));
    expect(text).toMatchSnapshot();
    expect(text.trimEnd().split('\n').at(-1)).toBe('→ next: react ✅ or /jarvis approve p1-phase0');
  });
});

describe('secrets never reach a chat payload', () => {
  it('scrubs registered secret values from every text of a reply', () => {
    registerSecret(new Secret('s3cr3t-token-value'));
    const leaky = errorReply('failed with s3cr3t-token-value', ['auth s3cr3t-token-value rejected'], '/jarvis status');
    const safe = scrubReply(leaky, scrubSecrets);
    for (const payload of [JSON.stringify(renderDiscord(safe)), JSON.stringify(renderSlack(safe)), renderText(safe)]) {
      expect(payload).not.toContain('s3cr3t-token-value');
      expect(payload).toContain('[redacted]');
    }
  });
});

describe('Discord command definition', () => {
  it('has one subcommand per grammar command and turns options back into grammar text', () => {
    const names = JARVIS_COMMAND.options.map((o) => o.name);
    expect(names).toEqual(['plan', 'apply', 'approve', 'reject', 'confirm', 'dry-run', 'details', 'status', 'backups', 'check', 'drift', 'snapshots', 'rollback', 'retry', 'log', 'snooze', 'lock', 'unlock', 'freeze', 'unfreeze', 'history', 'alerts', 'help']);
    expect(optionsToText([{ name: 'rollback', type: 1, options: [{ name: 'snapshot', type: 3, value: 'jarvis-pre-1' }, { name: 'vmid', type: 4, value: 100 }] }])).toBe('rollback 100 jarvis-pre-1');
    expect(optionsToText([{ name: 'alerts', type: 2, options: [{ name: 'test', type: 1, options: [] }] }])).toBe('alerts test');
    expect(optionsToText([{ name: 'approve', type: 1, options: [] }])).toBe('approve');
  });
});

describe('Slack app manifest', () => {
  it('grants exactly the scopes the adapter and jarvis doctor use, and subscribes to reactions', () => {
    const manifest = parse(readFileSync(new URL('../../slack-app-manifest.yaml', import.meta.url), 'utf8')) as {
      oauth_config: { scopes: { bot: string[] } };
      settings: { socket_mode_enabled: boolean; event_subscriptions: { bot_events: string[] } };
      features: { slash_commands: Array<{ command: string }> };
    };
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(['channels:read', 'chat:write', 'commands', 'files:write', 'groups:read', 'reactions:read', 'reactions:write', 'usergroups:read', 'users:read']);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(['reaction_added', 'reaction_removed']);
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual(['/jarvis']);
  });
});
