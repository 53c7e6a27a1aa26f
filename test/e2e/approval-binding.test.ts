// What an approval means, end to end with the real services over the simulated lab: it binds to the plan exactly as
// it was shown (a plan file rewritten and re-hashed after approval is refused, nothing is written), and the lab lock
// belongs to one exact id on both platforms (an approver whose id is a prefix of the holder's is refused; unlocking
// someone else's lock needs `unlock force`, which the audit trail records).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { computePlanHash } from '../../planner/artifact.ts';
import type { Plan } from '../../planner/plan.ts';
import { embedText, subcommand, type DiscordUser } from '../fakes/discord.ts';
import { slackText } from '../fakes/slack.ts';
import {
  DISCORD_OWNER,
  SLACK_OWNER,
  discordAnswer,
  discordCommand,
  discordEditWith,
  discordPlan,
  discordPostWith,
  isEphemeral,
  slackPlan,
  slackUpdateWith,
  startChatLab,
  type ChatLab,
} from '../support/chat-lab.ts';

let world: ChatLab | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
}, 90_000);

const SECOND: DiscordUser = { id: '400000000000000401', username: 'bob' };
const react = (w: ChatLab, user: DiscordUser, messageId: string) => w.discord.dispatch('MESSAGE_REACTION_ADD', w.discord.reaction(user, messageId, '✅'));
const lockEvents = (w: ChatLab) => w.running.journal.auditEntries().filter((e) => e.kind === 'lock.off').map((e) => ({ actor: e.actor, ...JSON.parse(e.data) }));

describe('an approval binds to the plan that was shown', { timeout: 120_000 }, () => {
  it('refuses a plan file rewritten and re-hashed after approval (VM 300 with memory=65536): nothing is written', async () => {
    world = await startChatLab({
      scenario: 'fresh',
      env: { JARVIS_APPROVERS: `discord:${DISCORD_OWNER.id},discord:${SECOND.id}`, JARVIS_APPROVALS_REQUIRED: 'medium=2' },
    });
    const w = world;
    const plan = await discordPlan(w.discord, DISCORD_OWNER, subcommand('plan', { phase: 'phase0' }));
    react(w, DISCORD_OWNER, plan.messageRef);
    await discordPostWith(w.discord, `alice approved plan ${plan.planId} (1/2)`);

    // The attack: the saved plan is edited and sealed again with a recomputed planHash, as a file-level attacker can.
    const file = join(w.dataDir, 'plans', `${plan.planId}.json`);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Plan;
    const create300 = saved.actions.find((a) => a.id === 'vm.create:300');
    if (create300?.params.channel !== 'pve') throw new Error('the phase-0 plan creates VM 300 through the API');
    create300.params.requests[0]!.params.memory = 65536;
    create300.params.requests[0]!.params.description = 'TAMPERED';
    saved.planHash = computePlanHash(saved);
    writeFileSync(file, JSON.stringify(saved, null, 2));

    const mark = w.sim.requests.length;
    react(w, SECOND, plan.messageRef);
    const refused = await discordEditWith(w.discord, `Apply refused: plan ${plan.planId}`);
    expect(embedText(refused)).toContain('is not the plan that was approved');
    await w.bot.dispatcher.idle();
    expect(w.writesSince(mark)).toEqual([]);
    expect(w.sim.lab.vms.has(300)).toBe(false);
    const refusal = w.running.journal.auditEntries({ planId: plan.planId }).find((e) => e.kind === 'apply.refused');
    expect(JSON.parse(refusal?.data ?? '{}')).toMatchObject({ code: 'tampered' });
  });
});

describe('the lab lock belongs to one exact id', { timeout: 120_000 }, () => {
  it('Discord: an approver whose id is a prefix of the holder’s cannot apply through the lock, nor unlock it without force', async () => {
    const holder: DiscordUser = { id: `${DISCORD_OWNER.id}1`, username: 'carol' };
    world = await startChatLab({ scenario: 'drifted', env: { JARVIS_APPROVERS: `discord:${DISCORD_OWNER.id},discord:${holder.id}` } });
    const w = world;
    expect(await discordCommand(w.discord, holder, subcommand('lock', { reason: 'disk swap' }))).toContain(`locked by discord:${holder.id}`);

    const plan = await discordPlan(w.discord, DISCORD_OWNER, subcommand('plan', { phase: 'phase0' }));
    const mark = w.sim.requests.length;
    react(w, DISCORD_OWNER, plan.messageRef);
    const refused = await discordEditWith(w.discord, `Apply refused: plan ${plan.planId}`);
    expect(embedText(refused)).toContain(`the lab is locked by discord:${holder.id}`);
    expect(w.writesSince(mark)).toEqual([]);

    const unlock = await discordAnswer(w.discord, DISCORD_OWNER, subcommand('unlock'));
    expect(isEphemeral(unlock)).toBe(true);
    expect(embedText(unlock)).toContain('only they can unlock it');
    expect((await w.running.services.gates()).lock?.holder).toBe(`discord:${holder.id}`);
    expect(await discordCommand(w.discord, DISCORD_OWNER, [{ name: 'unlock', type: 1, options: [{ name: 'force', type: 5, value: true }] }])).toContain('no lock, no freeze');
    expect(lockEvents(w)).toEqual([expect.objectContaining({ actor: `discord:${DISCORD_OWNER.id}`, heldBy: `discord:${holder.id}`, forced: true })]);
  });

  it('Slack: an approver whose id is a prefix of the holder’s cannot apply through the lock, nor unlock it without force', async () => {
    const holder = `${SLACK_OWNER}X`;
    world = await startChatLab({ scenario: 'drifted', env: { JARVIS_APPROVERS: `slack:${SLACK_OWNER},slack:${holder}` } });
    const w = world;
    await w.slack.sendEnvelope('slash_commands', w.slack.slashCommand(holder, 'lock disk swap'));
    await w.slack.waitForApi((c) => c.method === 'chat.postMessage' && slackText(c).includes(`locked by slack:${holder}`), 'lock taken', 60_000);

    const plan = await slackPlan(w.slack, SLACK_OWNER, 'plan phase0');
    const mark = w.sim.requests.length;
    await w.slack.sendEnvelope('events_api', w.slack.reactionAdded(SLACK_OWNER, 'white_check_mark', plan.messageRef));
    const refused = await slackUpdateWith(w.slack, `Apply refused: plan ${plan.planId}`);
    expect(slackText(refused)).toContain(`the lab is locked by slack:${holder}`);
    expect(w.writesSince(mark)).toEqual([]);

    const responses = w.slack.responses.length;
    await w.slack.sendEnvelope('slash_commands', w.slack.slashCommand(SLACK_OWNER, 'unlock'));
    await w.slack.waitFor(() => JSON.stringify(w.slack.responses.slice(responses)).includes('only they can unlock it'), 'private refusal to unlock', 60_000);
    expect((await w.running.services.gates()).lock?.holder).toBe(`slack:${holder}`);
    await w.slack.sendEnvelope('slash_commands', w.slack.slashCommand(SLACK_OWNER, 'unlock force'));
    await w.slack.waitForApi((c) => c.method === 'chat.postMessage' && slackText(c).includes('no lock, no freeze'), 'forced unlock', 60_000);
    expect(lockEvents(w)).toEqual([expect.objectContaining({ actor: `slack:${SLACK_OWNER}`, heldBy: `slack:${holder}`, forced: true })]);
  });
});
