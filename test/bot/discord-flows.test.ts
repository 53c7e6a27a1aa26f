// End to end with the real discord.js against the local fake gateway + REST.
import { describe, expect, it } from 'vitest';
import type { DiscordAdapter } from '../../bot/discord/adapter.ts';
import { embedText, FAKE_IDS, FakeDiscord, subcommand, type RestCall } from '../fakes/discord.ts';
import { adaptersPerTest, type HarnessOptions } from './support/adapters.ts';
import type { Harness } from './support/harness.ts';
import { shortHash } from '../../commands/plan-labels.ts';

const owner = { id: '400', username: 'alice' };
const stranger = { id: '666', username: 'mallory' };

let fake: FakeDiscord;
let harness: Harness;
let adapter: DiscordAdapter;

const boots = adaptersPerTest();
async function boot(env: HarnessOptions['env'] = {}, services: HarnessOptions['services'] = {}) {
  ({ fake, harness, adapter } = await boots.discord({ env, services }));
  harness.alertTo.sink = (reply) => adapter.alert(reply);
}

/** `/jarvis plan phase0` and the plan message it produced. */
async function planPhase0(): Promise<{ planId: string; messageId: string; call: RestCall; interactionId: string }> {
  const interaction = fake.slashCommand(owner, subcommand('plan', { phase: 'phase0' }));
  fake.dispatch('INTERACTION_CREATE', interaction);
  const call = await fake.waitForRest((c) => c.method === 'PATCH' && c.path === `/webhooks/${FAKE_IDS.application}/${interaction.token as string}/messages/@original`, 'plan message');
  await fake.waitFor(() => fake.calls('PUT', /reactions\/❌\/@me$/).length > 0, 'decision reactions');
  const planId = [...harness.services.plans.keys()].at(-1) as string;
  const messageId = [...fake.messages.values()].find((m) => (m.embeds as Array<{ title: string }>)[0]?.title.includes(planId))?.id as string;
  return { planId, messageId, call, interactionId: interaction.id as string };
}

const postsTo = (channel: string) => fake.calls('POST', new RegExp(`^/channels/${channel}/messages$`));
const waitForPost = (text: string) => fake.waitForRest((c) => c.method === 'POST' && c.path.endsWith('/messages') && embedText(c).includes(text), `a message with "${text}"`);
/** An answer only the caller sees: an ephemeral follow-up (flags 64) after the public deferral was deleted. */
const waitForPrivate = (text: string) =>
  fake.waitForRest((c) => c.method === 'POST' && /^\/webhooks\/[^/]+\/[^/]+$/.test(c.path) && (c.body as { flags?: number }).flags === 64 && embedText(c).includes(text), `a private answer with "${text}"`);
const waitForEdit = (text: string) => fake.waitForRest((c) => c.method === 'PATCH' && /^\/channels\//.test(c.path) && embedText(c).includes(text), `an edit with "${text}"`);

describe('Discord end to end', () => {
  it('defers at once, posts the plan with buttons and reactions; a stranger is refused; the approver applies it', async () => {
    await boot();
    const { planId, messageId, call, interactionId } = await planPhase0();
    const identify = fake.frames.find((f) => f.direction === 'in' && f.data.op === 2)?.data.d as { intents: number };
    expect(identify.intents).toBe(1 | 1024); // Guilds + GuildMessageReactions, nothing more
    const callbacks = fake.calls('POST', new RegExp(`^/interactions/${interactionId}/`));
    expect(callbacks.map((c) => c.body)).toEqual([{ type: 5, data: { flags: 0 } }]);
    expect(fake.rest.indexOf(callbacks[0] as RestCall)).toBeLessThan(fake.rest.indexOf(call));
    const body = call.body as { components: Array<{ components: Array<{ custom_id: string; label: string }> }> };
    expect(body.components[0]?.components.map((b) => b.label)).toEqual(['Approve', 'Reject', 'Dry-run', 'Details']);
    expect(body.components[0]?.components[0]?.custom_id).toBe(`jarvis:approve:${planId}`);
    expect(embedText(call)).toContain('max risk medium');
    expect(fake.calls('PUT', new RegExp(`/messages/${messageId}/reactions/✅/@me$`))).toHaveLength(1);

    fake.dispatch('MESSAGE_REACTION_ADD', fake.reaction(stranger, messageId, '✅'));
    await waitForPost('mallory is not an approver for this plan');
    expect(harness.services.applied).toEqual([]);
    expect(harness.audit).toContainEqual(expect.objectContaining({ actor: 'discord:666', outcome: 'approve:refused', reason: 'not-approver' }));

    fake.dispatch('MESSAGE_REACTION_ADD', fake.reaction(owner, messageId, '✅'));
    await waitForPost('alice approved plan');
    await waitForEdit('Applied and validated');
    expect(harness.services.applied).toEqual([{ planId, approvers: ['discord:400'] }]);
    const progressEdits = fake.calls('PATCH', /^\/channels\/.+\/messages\/.+$/);
    expect(progressEdits.length).toBeGreaterThan(0);
    expect(embedText(progressEdits.at(-1) as RestCall)).toContain('Validated: a new scan finds nothing left to do.');
  });

  it('ignores other emoji, reactions on other messages and Jarvis’s own reactions', async () => {
    await boot();
    const { messageId } = await planPhase0();
    const postsBefore = postsTo(FAKE_IDS.channel).length;
    fake.dispatch('MESSAGE_REACTION_ADD', fake.reaction(owner, messageId, '👍'));
    fake.dispatch('MESSAGE_REACTION_ADD', fake.reaction(owner, '123456789', '✅'));
    fake.dispatch('MESSAGE_REACTION_ADD', fake.reaction({ id: FAKE_IDS.bot, username: 'jarvis' }, messageId, '✅'));
    // A later command proves the three events above were processed (the gateway is ordered) without effect.
    fake.dispatch('INTERACTION_CREATE', fake.slashCommand(owner, subcommand('status')));
    await fake.waitForRest((c) => c.method === 'PATCH' && embedText(c).includes('Lab healthy'), 'status reply');
    expect(postsTo(FAKE_IDS.channel).length).toBe(postsBefore);
    expect(harness.services.applied).toEqual([]);
  });

  it('rejects with ❌: nothing is applied and a later ✅ is refused', async () => {
    await boot();
    const { planId, messageId } = await planPhase0();
    fake.dispatch('MESSAGE_REACTION_ADD', fake.reaction(owner, messageId, '❌'));
    await waitForPost(`alice rejected plan ${planId}`);
    fake.dispatch('MESSAGE_REACTION_ADD', fake.reaction(owner, messageId, '✅'));
    await waitForPost(`Plan ${planId} is already rejected`);
    expect(harness.services.applied).toEqual([]);
  });

  it('accepts a member of an approver role, by role id', async () => {
    await boot({ JARVIS_APPROVER_GROUPS: `discord:${FAKE_IDS.opsRole}` });
    const { planId, messageId } = await planPhase0();
    const carol = { id: '402', username: 'carol', roles: [FAKE_IDS.opsRole] };
    fake.dispatch('MESSAGE_REACTION_ADD', fake.reaction(carol, messageId, '✅'));
    await waitForEdit('Applied and validated');
    expect(harness.services.applied).toEqual([{ planId, approvers: ['discord:402'] }]);
  });

  it('answers Dry-run and Details buttons without approving anything', async () => {
    await boot();
    const { planId, messageId } = await planPhase0();
    const dryRun = fake.button(stranger, `jarvis:dry-run:${planId}`, messageId);
    fake.dispatch('INTERACTION_CREATE', dryRun);
    const dryRunReply = await fake.waitForRest((c) => c.method === 'PATCH' && c.path.includes(dryRun.token as string), 'dry-run reply');
    expect(embedText(dryRunReply)).toContain(`Dry run of ${planId}: all requests valid`);
    const details = fake.button(stranger, `jarvis:details:${planId}`, messageId);
    fake.dispatch('INTERACTION_CREATE', details);
    const detailsReply = await fake.waitForRest((c) => c.method === 'PATCH' && c.path.includes(details.token as string), 'details reply');
    expect(detailsReply.files.map((f) => f.name)).toEqual([`plan-${planId}.md`]);
    expect(detailsReply.files[0]?.content).toBe(harness.services.plans.get(planId)?.markdown);
    expect(harness.approvals.get(planId)?.state).toBe('pending');
  });

  it('refuses an expired plan', async () => {
    await boot();
    const { planId, messageId } = await planPhase0();
    harness.clock.now += 31 * 60_000;
    fake.dispatch('MESSAGE_REACTION_ADD', fake.reaction(owner, messageId, '✅'));
    await waitForPost(`Plan ${planId} expired 30 min after it was made`);
    expect(harness.services.applied).toEqual([]);
  });

  it('refuses a stale plan when apply finds the lab moved', async () => {
    await boot({}, { stale: true });
    const { messageId } = await planPhase0();
    fake.dispatch('MESSAGE_REACTION_ADD', fake.reaction(owner, messageId, '✅'));
    await waitForEdit('Apply refused');
    const last = fake.calls('PATCH', /^\/channels\//).at(-1) as RestCall;
    expect(embedText(last)).toContain('is stale');
    expect(harness.services.applied).toEqual([]);
  });

  it('counts a double click on Approve once and applies once', async () => {
    await boot();
    const { planId, messageId } = await planPhase0();
    fake.dispatch('INTERACTION_CREATE', fake.button(owner, `jarvis:approve:${planId}`, messageId));
    fake.dispatch('INTERACTION_CREATE', fake.button(owner, `jarvis:approve:${planId}`, messageId));
    await waitForEdit('Applied and validated');
    await harness.dispatcher.idle();
    expect(fake.calls('POST', /\/interactions\/.+\/callback$/).filter((c) => (c.body as { type: number }).type === 6)).toHaveLength(2);
    expect(harness.services.applied).toHaveLength(1);
    expect(harness.audit.filter((e) => e.outcome === 'approve:approved')).toHaveLength(1);
  });

  it('asks for the typed short hash of a critical plan before applying it', async () => {
    await boot({}, { risks: { phase0: ['low', 'critical'] } });
    const { planId, messageId } = await planPhase0();
    const hash = shortHash(harness.services.plans.get(planId)?.plan.planHash ?? '');
    fake.dispatch('MESSAGE_REACTION_ADD', fake.reaction(owner, messageId, '✅'));
    await waitForPost(`type /jarvis confirm ${hash}`);
    expect(harness.services.applied).toEqual([]);
    fake.dispatch('INTERACTION_CREATE', fake.slashCommand(owner, subcommand('confirm', { hash: '00000000' })));
    await waitForPrivate('00000000 is not the hash');
    fake.dispatch('INTERACTION_CREATE', fake.slashCommand(owner, subcommand('confirm', { hash })));
    await waitForEdit('Applied and validated');
    expect(harness.services.applied).toEqual([{ planId, approvers: ['discord:400'] }]);
  });

  it('survives a gateway disconnect: the reaction sent while down is replayed on RESUME and counted once', async () => {
    await boot();
    const { planId, messageId } = await planPhase0();
    const identifies = fake.frames.filter((f) => f.direction === 'in' && f.data.op === 2).length;
    await fake.dropAndResume(() => fake.dispatch('MESSAGE_REACTION_ADD', fake.reaction(owner, messageId, '✅')));
    expect(fake.frames.filter((f) => f.direction === 'in' && f.data.op === 6)).toHaveLength(1);
    expect(fake.frames.filter((f) => f.direction === 'in' && f.data.op === 2)).toHaveLength(identifies);
    await waitForEdit('Applied and validated');
    // The gateway may replay it once more (op 7 reconnect): still one decision, one apply.
    await fake.requestReconnect();
    fake.replay('MESSAGE_REACTION_ADD', fake.reaction(owner, messageId, '✅'));
    fake.dispatch('INTERACTION_CREATE', fake.slashCommand(owner, subcommand('status')));
    await fake.waitForRest((c) => c.method === 'PATCH' && embedText(c).includes('Lab healthy'), 'status after resume');
    await harness.dispatcher.idle();
    expect(harness.services.applied).toEqual([{ planId, approvers: ['discord:400'] }]);
  });

  it('attaches the full plan as a file when it does not fit in one message', async () => {
    await boot({}, { risks: { phase0: Array.from({ length: 120 }, (_, i) => (i % 7 === 0 ? 'high' : 'low')) } });
    const { planId, call } = await planPhase0();
    expect(call.files.map((f) => f.name)).toEqual([`plan-${planId}.md`]);
    expect(call.files[0]?.content).toContain('vm/219');
    const body = call.body as { embeds: Array<{ title: string; description: string; fields: Array<{ name: string; value: string }>; footer: { text: string } }> };
    const size = body.embeds.reduce((n, e) => n + e.title.length + e.description.length + e.footer.text.length + e.fields.reduce((m, f) => m + f.name.length + f.value.length, 0), 0);
    expect(size).toBeLessThanOrEqual(6000);
    expect(body.embeds.length).toBeLessThanOrEqual(10);
    expect(embedText(call)).toContain(`see plan-${planId}.md`);
  });

  it('answers a stranger’s typed approve, sends a test alert to the alert channel, and shows help privately', async () => {
    await boot();
    await planPhase0();
    const help = fake.slashCommand(stranger, subcommand('help'));
    fake.dispatch('INTERACTION_CREATE', help);
    await fake.waitForRest((c) => c.method === 'PATCH' && c.path.includes(help.token as string), 'help');
    expect(fake.calls('POST', new RegExp(`^/interactions/${help.id as string}/`))[0]?.body).toEqual({ type: 5, data: { flags: 64 } });
    const approve = fake.slashCommand(stranger, subcommand('approve'));
    fake.dispatch('INTERACTION_CREATE', approve);
    // The refusal is for the caller only: the public deferral is deleted and an ephemeral follow-up answers.
    const refusal = await waitForPrivate('mallory is not an approver');
    expect(refusal.path).toBe(`/webhooks/${FAKE_IDS.application}/${approve.token as string}`);
    expect(fake.calls('DELETE', new RegExp(`/${approve.token as string}/messages/@original$`))).toHaveLength(1);
    expect(fake.rest.filter((c) => c.method === 'PATCH' && embedText(c).includes('mallory is not an approver'))).toEqual([]);
    fake.dispatch('INTERACTION_CREATE', fake.slashCommand(owner, [{ name: 'alerts', type: 2, options: [{ name: 'test', type: 1, options: [] }] }]));
    await fake.waitForRest((c) => c.method === 'POST' && c.path === `/channels/${FAKE_IDS.alertChannel}/messages` && embedText(c).includes('Test alert'), 'alert');
    expect(harness.services.applied).toEqual([]);
  });
});
