// Chat plans stand on their own: real plans of the simulated lab rendered for Discord and Slack carry every
// firewall rule as a readable line, every changed field as from → to, and for the critical ZFS pool the disks it
// erases, in the plan and in the typed-confirmation prompt, within each platform's limits and never cut silently.
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningServices } from '../../app/services.ts';
import { DISCORD_LIMITS, renderDiscord, type DiscordMessage } from '../../bot/discord/render.ts';
import { SLACK_LIMITS, renderSlack, type SlackMessage } from '../../bot/slack/render.ts';
import { answerDecision } from '../../commands/apply-flow.ts';
import type { CommandContext } from '../../commands/context.ts';
import { planReply } from '../../commands/render-plan.ts';
import type { Reply } from '../../commands/reply.ts';
import type { Requester } from '../../commands/services.ts';
import type { Plan } from '../../planner/plan.ts';
import { HDD_IDS } from '../../sim/scenarios.ts';
import { servicesOnSimClosedAfterAll } from '../support/services-on-sim.ts';

const owner: Requester = { platform: 'discord', id: '111111111111111111', displayName: 'owner' };
const ERASES = `ERASES ALL DATA ON ${HDD_IDS.map((id) => `/dev/disk/by-id/${id}`).join(', ')}`;

const openServices = servicesOnSimClosedAfterAll();
const services = async (scenario: string): Promise<RunningServices> => (await openServices({ scenario })).running;

async function planOf(running: RunningServices, phase: 'phase1' | 'phase2'): Promise<{ plan: Plan; markdown: string }> {
  const result = await running.services.plan(phase, owner);
  if (!result.ok) throw new Error(result.message);
  return result;
}

/** Everything an approver can read: the message and the files that come with it. */
const discordText = (m: DiscordMessage): string =>
  [...m.embeds.flatMap((e) => [e.title, e.description, ...e.fields.map((f) => `${f.name}\n${f.value}`), e.footer.text]), ...m.files.map((f) => f.data.toString())].join('\n');
const slackText = (m: SlackMessage): string =>
  [...m.blocks.map((b) => ('text' in b ? b.text.text : 'elements' in b ? JSON.stringify(b.elements) : '')), ...m.files.map((f) => f.content)].join('\n');

function expectWithinLimits(discord: DiscordMessage, slack: SlackMessage): void {
  const embed = discord.embeds[0]!;
  const total = embed.title.length + embed.description.length + embed.footer.text.length + embed.fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
  expect(total).toBeLessThanOrEqual(DISCORD_LIMITS.embedTotal);
  expect(embed.fields.length).toBeLessThanOrEqual(DISCORD_LIMITS.fields);
  for (const field of embed.fields) expect(field.value.length).toBeLessThanOrEqual(DISCORD_LIMITS.fieldValue);
  expect(embed.description.length).toBeLessThanOrEqual(DISCORD_LIMITS.description);
  expect(slack.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
  for (const block of slack.blocks) if (block.type === 'section') expect(block.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
  // Cut means said: a note names the attached file, and the file is there.
  const discordCut = embed.fields.some((f) => f.name === 'Full text attached');
  expect(discordCut).toBe(discord.files.length > 0);
  const slackCut = JSON.stringify(slack.blocks).includes('attached below');
  expect(slackCut).toBe(slack.files.length > 0);
}

describe('a phase-2 plan in chat', () => {
  let reply: Reply;
  let plan: Plan;
  beforeAll(async () => {
    const made = await planOf(await services('phase1'), 'phase2');
    plan = made.plan;
    reply = planReply(made.plan, made.markdown);
  }, 120_000);

  it('shows every firewall rule as one readable line on Discord and Slack, within their limits, attaching what does not fit', () => {
    const rules = [
      'IN DROP +seg-services → any tcp/22,8006 "SERVICES must not reach Proxmox management"',
      'IN DROP +seg-iot → any tcp/22,8006 "IOT must not reach Proxmox management"',
      'IN ACCEPT 192.168.1.0/24 → any tcp/22 "admin LAN to SSH"',
      'IN ACCEPT 192.168.1.0/24 → any tcp/8006 "admin LAN to the web UI"',
      'IN ACCEPT 100.64.0.0/10 → any tcp/22,8006 "Tailscale management"',
      'IN ACCEPT +seg-lan → any any protocol "LAN: within its own segment"',
      'IN ACCEPT +seg-lan → any tcp/32400 "LAN to Plex"',
      'IN ACCEPT +seg-lan → any tcp/3000 "LAN to Grafana"',
      'IN ACCEPT +seg-services → any any protocol "SERVICES: within its own segment"',
      'IN ACCEPT +seg-iot → any tcp/8123 "IOT to Home Assistant"',
      'IN ACCEPT +seg-iot → any tcp/1883 "IOT to MQTT"',
      'IN ACCEPT +seg-lan → any tcp/8123 "LAN to Home Assistant"',
    ];
    const discord = renderDiscord(reply);
    const slack = renderSlack(reply);
    expectWithinLimits(discord, slack);
    // A plan too long for one message attaches its whole text and says so (checked above): a rule is shown when the
    // approver can read it in the message or in that attachment.
    const inDiscord = discordText(discord);
    const inSlack = slackText(slack);
    for (const rule of rules) {
      expect(inDiscord).toContain(rule);
      expect(inSlack).toContain(rule.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
    }
    expect(plan.actions.filter((a) => a.type === 'firewall.rule.create')).toHaveLength(rules.length);
  });

  it('shows from → to for every changed field of an update', () => {
    const text = `${discordText(renderDiscord(reply))}\n${slackText(renderSlack(reply))}`;
    for (const action of plan.actions.filter((a) => a.kind === 'update')) {
      for (const change of action.changes) {
        const show = (v: unknown) => (v === null || v === undefined || v === '' ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v));
        expect(text).toContain(`${change.path}: ${show(change.from)} → ${show(change.to)}`);
      }
    }
    expect(text).toContain('net0.bridge: vmbr0 → vmbr2');
    expect(text).toContain('vmid: 100,300,400 → 100,150,300,400');
  });

  it('attaches the whole Markdown plan on Details, with the rules in it', async () => {
    expect(reply.buttons?.map((b) => b.label)).toContain('Details');
    const file = reply.approvalRequest!.markdown;
    expect(file).toContain('IN ACCEPT +seg-iot → any tcp/8123 "IOT to Home Assistant"');
    expect(file).toContain(`## Actions (in execution order)`);
  });
});

describe('the critical ZFS plan (phase 1 from phase 0)', () => {
  let running: RunningServices;
  let made: { plan: Plan; markdown: string };
  beforeAll(async () => {
    running = await services('phase0');
    made = await planOf(running, 'phase1');
  }, 120_000);

  it('names the disks it erases in the plan message on both platforms', () => {
    const reply = planReply(made.plan, made.markdown);
    const discord = renderDiscord(reply);
    const slack = renderSlack(reply);
    expectWithinLimits(discord, slack);
    expect(discord.embeds[0]!.fields.map((f) => f.value).join('\n')).toContain(ERASES);
    expect(slack.blocks.map((b) => ('text' in b ? b.text.text : '')).join('\n')).toContain(ERASES);
    expect(made.markdown).toContain(ERASES);
  });

  it('restates "ERASES ALL DATA ON <disks>" in the typed-confirmation prompt', async () => {
    const ctx = { deps: { services: running.services }, requester: owner } as unknown as CommandContext;
    const prompt = await answerDecision({ outcome: 'needs-confirmation', planId: made.plan.id, shortHash: 'abcd1234', message: `Plan ${made.plan.id} is critical: type /jarvis confirm abcd1234 within 2 min to apply it` }, ctx);
    if (!prompt) throw new Error('no prompt');
    expect(prompt.next).toBe(`/jarvis confirm abcd1234 ${made.plan.id}`);
    for (const text of [discordText(renderDiscord(prompt)), slackText(renderSlack(prompt))]) {
      expect(text).toContain(`zfs/tank (mirror on 2 disks): ${ERASES}`);
      expect(text).toContain('type /jarvis confirm abcd1234');
    }
  });
});
