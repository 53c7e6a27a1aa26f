// Approvals without races or griefing, on both platforms (real discord.js and @slack/bolt against the local fakes,
// FakeServices behind the real dispatcher and approval store): a ✅ that comes while Jarvis is still adding its own
// reactions (the plan message is posted but not linked to its plan yet) is counted once the link exists; a ✅ taken
// back and added again counts; a viewer's /jarvis plan leaves an approver's plan open and approvable.
import { describe, expect, it } from 'vitest';
import { shortHash } from '../../commands/plan-labels.ts';
import { embedText, FakeDiscord, subcommand, type RestCall } from '../fakes/discord.ts';
import { FakeSlack, slackText, type ApiCall } from '../fakes/slack.ts';
import { adaptersPerTest, type HarnessOptions } from './support/adapters.ts';
import type { Harness } from './support/harness.ts';

let harness: Harness;
const boots = adaptersPerTest();

const hashOf = (planId: string): string => shortHash(harness.services.plans.get(planId)?.plan.planHash ?? '');

describe('Discord: approval races and griefing', () => {
  let fake: FakeDiscord;
  const owner = { id: '400', username: 'alice' };
  const viewer = { id: '666', username: 'mallory' };

  async function boot(services: HarnessOptions['services'] = {}): Promise<void> {
    ({ fake, harness } = await boots.discord({ services }));
  }

  const posts = (text: string) => fake.rest.filter((c) => c.method === 'POST' && /^\/channels\/.+\/messages$/.test(c.path) && embedText(c).includes(text));
  const waitForPost = (text: string, count = 1) => fake.waitFor(() => posts(text).length >= count, `${count} message(s) with "${text}"`);
  const waitForEdit = (text: string) => fake.waitForRest((c) => c.method === 'PATCH' && /^\/channels\//.test(c.path) && embedText(c).includes(text), `an edit with "${text}"`);
  const messageOf = (planId: string): string => [...fake.messages.values()].find((m) => (m.embeds as Array<{ title: string }>)[0]?.title.includes(planId))?.id as string;

  /** `/jarvis plan phase0` by `user`: the reply (the plan message) and its plan id. */
  async function plan(user: typeof owner): Promise<{ planId: string; messageId: string; reply: RestCall }> {
    const interaction = fake.slashCommand(user, subcommand('plan', { phase: 'phase0' }));
    fake.dispatch('INTERACTION_CREATE', interaction);
    const reply = await fake.waitForRest((c) => c.method === 'PATCH' && c.path.endsWith(`/${interaction.token as string}/messages/@original`), 'plan message');
    const planId = [...harness.services.plans.keys()].at(-1) as string;
    const messageId = messageOf(planId);
    await fake.waitFor(() => fake.calls('PUT', new RegExp(`/messages/${messageId}/reactions/❌/@me$`)).length > 0, 'decision reactions');
    return { planId, messageId, reply };
  }

  /** The gateway is ordered: once a later command is answered, the events before it have reached the bot. */
  async function settle(): Promise<void> {
    const status = fake.slashCommand(owner, subcommand('status'));
    fake.dispatch('INTERACTION_CREATE', status);
    await fake.waitForRest((c) => c.method === 'PATCH' && c.path.includes(status.token as string), 'status reply');
  }

  it('counts a ✅ that arrives while Jarvis is still adding its own reactions to the plan message', async () => {
    await boot();
    // Discord rate-limits the bot's own reaction PUTs: the plan message exists, its link to the plan does not yet.
    const held = fake.hold('PUT', /\/reactions\/.+\/@me$/);
    fake.dispatch('INTERACTION_CREATE', fake.slashCommand(owner, subcommand('plan', { phase: 'phase0' })));
    await fake.waitFor(() => fake.calls('PUT', /\/reactions\/.+\/@me$/).length > 0, 'the bot adding its ✅');
    const planId = [...harness.services.plans.keys()].at(-1) as string;
    fake.dispatch('MESSAGE_REACTION_ADD', fake.reaction(owner, messageOf(planId), '✅'));
    await settle();
    expect(harness.approvals.get(planId)?.state).toBe('pending');
    held.release();
    await waitForPost(`alice approved plan ${planId}`);
    await waitForEdit('Applied and validated');
    expect(harness.services.applied).toEqual([{ planId, approvers: ['discord:400'] }]);
  });

  it('counts a ✅ taken back and added again (reopening a lapsed critical confirmation)', async () => {
    await boot({ risks: { phase0: ['critical'] } });
    const { planId, messageId } = await plan(owner);
    const hash = hashOf(planId);
    fake.dispatch('MESSAGE_REACTION_ADD', fake.reaction(owner, messageId, '✅'));
    await waitForPost(`type /jarvis confirm ${hash}`);
    harness.clock.now += 2 * 60_000 + 1;
    fake.dispatch('INTERACTION_CREATE', fake.slashCommand(owner, subcommand('confirm', { hash })));
    await fake.waitForRest((c) => c.method === 'POST' && embedText(c).includes('has passed; approve it again'), 'lapsed confirmation');
    fake.dispatch('MESSAGE_REACTION_REMOVE', fake.reactionRemoval(owner, messageId, '✅'));
    fake.dispatch('MESSAGE_REACTION_ADD', fake.reaction(owner, messageId, '✅'));
    await waitForPost(`type /jarvis confirm ${hash}`, 2);
    fake.dispatch('INTERACTION_CREATE', fake.slashCommand(owner, subcommand('confirm', { hash })));
    await waitForEdit('Applied and validated');
    expect(harness.services.applied).toEqual([{ planId, approvers: ['discord:400'] }]);
  });

  it('lets a viewer’s /jarvis plan stand beside the approver’s plan, which stays approvable', async () => {
    await boot();
    const mine = await plan(owner);
    const theirs = await plan(viewer);
    expect(theirs.planId).not.toBe(mine.planId);
    expect(embedText(theirs.reply)).toContain(`Plan ${mine.planId} by discord:400 (pending) still stands`);
    expect(harness.approvals.get(mine.planId)?.state).toBe('pending');
    fake.dispatch('MESSAGE_REACTION_ADD', fake.reaction(owner, mine.messageId, '✅'));
    await waitForEdit('Applied and validated');
    expect(harness.services.applied).toEqual([{ planId: mine.planId, approvers: ['discord:400'] }]);
    expect(harness.approvals.get(theirs.planId)?.state).toBe('pending');
  });
});

describe('Slack: approval races and griefing', () => {
  let fake: FakeSlack;
  const OWNER = 'U0OWNER';
  const VIEWER = 'U0MALLORY';

  async function boot(services: HarnessOptions['services'] = {}): Promise<void> {
    ({ fake, harness } = await boots.slack({ services }));
  }

  const posts = (text: string) => fake.api('chat.postMessage').filter((c) => slackText(c).includes(text));
  const waitForPost = (text: string, count = 1) => fake.waitFor(() => posts(text).length >= count, `${count} message(s) with "${text}"`);
  const waitForUpdate = (text: string) => fake.waitForApi((c) => c.method === 'chat.update' && slackText(c).includes(text), `an update with "${text}"`);

  /** `/jarvis plan phase0` by `user`: the plan message, its ts and plan id. */
  async function plan(user: string): Promise<{ planId: string; ts: string; post: ApiCall }> {
    const from = fake.calls.length;
    await fake.sendEnvelope('slash_commands', fake.slashCommand(user, 'plan phase0'));
    await fake.waitFor(() => fake.calls.slice(from).some((c) => c.method === 'reactions.add' && c.body.name === 'x'), 'plan message with reactions');
    const planId = [...harness.services.plans.keys()].at(-1) as string;
    const post = fake.calls.slice(from).find((c) => c.method === 'chat.postMessage') as ApiCall;
    const ts = String(fake.calls.slice(from).find((c) => c.method === 'reactions.add')?.body.timestamp);
    return { planId, ts, post };
  }

  /** A later command answered: Bolt has handled the events sent before it. */
  async function settle(): Promise<void> {
    await fake.sendEnvelope('slash_commands', fake.slashCommand(OWNER, 'status'));
    await waitForPost('Lab healthy');
  }

  it('counts a ✅ that arrives while Jarvis is still adding its own reactions to the plan message', async () => {
    await boot();
    const held = fake.hold('reactions.add');
    await fake.sendEnvelope('slash_commands', fake.slashCommand(OWNER, 'plan phase0'));
    await fake.waitFor(() => fake.api('reactions.add').length > 0, 'the bot adding its ✅');
    const planId = [...harness.services.plans.keys()].at(-1) as string;
    const ts = String(fake.api('reactions.add')[0]?.body.timestamp);
    await fake.sendEnvelope('events_api', fake.reactionAdded(OWNER, 'white_check_mark', ts));
    await settle();
    expect(harness.approvals.get(planId)?.state).toBe('pending');
    held.release();
    await waitForPost(`approved plan ${planId}`);
    await waitForUpdate('Applied and validated');
    expect(harness.services.applied).toEqual([{ planId, approvers: [`slack:${OWNER}`] }]);
  });

  it('counts a ✅ taken back and added again (reopening a lapsed critical confirmation)', async () => {
    await boot({ risks: { phase0: ['critical'] } });
    const { planId, ts } = await plan(OWNER);
    const hash = hashOf(planId);
    await fake.sendEnvelope('events_api', fake.reactionAdded(OWNER, 'white_check_mark', ts));
    await waitForPost(`/jarvis confirm ${hash}`);
    harness.clock.now += 2 * 60_000 + 1;
    await fake.sendEnvelope('slash_commands', fake.slashCommand(OWNER, `confirm ${hash}`));
    await fake.waitFor(() => JSON.stringify(fake.responses).includes('has passed; approve it again'), 'lapsed confirmation');
    await fake.sendEnvelope('events_api', fake.reactionRemoved(OWNER, 'white_check_mark', ts));
    await fake.sendEnvelope('events_api', fake.reactionAdded(OWNER, 'white_check_mark', ts));
    await waitForPost(`/jarvis confirm ${hash}`, 2);
    await fake.sendEnvelope('slash_commands', fake.slashCommand(OWNER, `confirm ${hash}`));
    await waitForUpdate('Applied and validated');
    expect(harness.services.applied).toEqual([{ planId, approvers: [`slack:${OWNER}`] }]);
  });

  it('lets a viewer’s /jarvis plan stand beside the approver’s plan, which stays approvable', async () => {
    await boot();
    const mine = await plan(OWNER);
    const theirs = await plan(VIEWER);
    expect(theirs.planId).not.toBe(mine.planId);
    expect(slackText(theirs.post)).toContain(`Plan ${mine.planId} by slack:${OWNER} (pending) still stands`);
    await fake.sendEnvelope('events_api', fake.reactionAdded(OWNER, 'white_check_mark', mine.ts));
    await waitForUpdate('Applied and validated');
    expect(harness.services.applied).toEqual([{ planId: mine.planId, approvers: [`slack:${OWNER}`] }]);
    expect(harness.approvals.get(theirs.planId)?.state).toBe('pending');
  });
});
