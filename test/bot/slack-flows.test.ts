// End to end with the real @slack/bolt (Socket Mode) against the local fake Web API + socket-mode server.
import { describe, expect, it } from 'vitest';
import type { SlackAdapter } from '../../bot/slack/adapter.ts';
import { shortHash } from '../../commands/plan-labels.ts';
import { FakeSlack, SLACK_IDS, slackText, type ApiCall } from '../fakes/slack.ts';
import { adaptersPerTest, type HarnessOptions } from './support/adapters.ts';
import type { Harness } from './support/harness.ts';

const OWNER = 'U0OWNER';
const STRANGER = 'U0MALLORY';

let fake: FakeSlack;
let harness: Harness;
let adapter: SlackAdapter;

const boots = adaptersPerTest();
async function boot(env: HarnessOptions['env'] = {}, services: HarnessOptions['services'] = {}, approverGroups: string[] = [], pingTimeoutMs?: number) {
  ({ fake, harness, adapter } = await boots.slack({ env, services, approverGroups, pingTimeoutMs }));
  harness.alertTo.sink = (reply) => adapter.alert(reply);
}

const waitForPost = (text: string) => fake.waitForApi((c) => c.method === 'chat.postMessage' && slackText(c).includes(text), `a message with "${text}"`);
/** An answer only `user` sees (chat.postEphemeral), never posted to the channel. */
const waitForPrivate = (user: string, text: string) =>
  fake.waitForApi((c) => c.method === 'chat.postEphemeral' && c.body.user === user && slackText(c).includes(text), `a private answer to ${user} with "${text}"`);
const waitForUpdate = (text: string) => fake.waitForApi((c) => c.method === 'chat.update' && slackText(c).includes(text), `an update with "${text}"`);

async function planPhase0(): Promise<{ planId: string; ts: string; post: ApiCall; ack: unknown }> {
  const before = fake.api('chat.postMessage').length;
  const ack = await fake.sendEnvelope('slash_commands', fake.slashCommand(OWNER, 'plan phase0'));
  await fake.waitFor(() => fake.api('reactions.add').filter((c) => c.body.name === 'x').length > 0 && fake.api('chat.postMessage').length > before, 'plan message with reactions');
  const post = fake.api('chat.postMessage')[before] as ApiCall;
  const planId = [...harness.services.plans.keys()].at(-1) as string;
  const ts = String(fake.api('reactions.add').at(-1)?.body.timestamp);
  return { planId, ts, post, ack };
}

describe('Slack end to end (Socket Mode)', () => {
  it('acks at once, posts the plan with buttons; a stranger is refused; the approver’s ✅ applies it with progress', async () => {
    await boot();
    const { planId, ts, post, ack } = await planPhase0();
    expect(ack).toEqual({ response_type: 'ephemeral', text: 'Working on `/jarvis plan phase0`…' });
    const actions = (post.body.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>).find((b) => b.type === 'actions');
    expect(actions?.elements?.map((e) => e.action_id)).toEqual(['jarvis_approve', 'jarvis_reject', 'jarvis_dry-run', 'jarvis_details']);
    expect(actions?.elements?.[0]?.value).toBe(planId);

    await fake.sendEnvelope('events_api', fake.reactionAdded(STRANGER, 'white_check_mark', ts));
    await waitForPrivate(STRANGER, `${STRANGER} is not an approver for this plan`);
    expect(fake.api('chat.postMessage').filter((c) => slackText(c).includes('is not an approver'))).toEqual([]);
    expect(harness.services.applied).toEqual([]);

    await fake.sendEnvelope('events_api', fake.reactionAdded(OWNER, 'white_check_mark', ts));
    await waitForUpdate('Applied and validated');
    expect(harness.services.applied).toEqual([{ planId, approvers: [`slack:${OWNER}`] }]);
    expect(slackText(fake.api('chat.update').at(-1) as ApiCall)).toContain('Validated: a new scan finds nothing left to do.');
  });

  it('rejects with the Reject button; nothing is applied', async () => {
    await boot();
    const { planId, ts } = await planPhase0();
    expect(await fake.sendEnvelope('interactive', fake.blockAction(OWNER, 'jarvis_reject', planId, ts))).toEqual({});
    await waitForPost(`rejected plan ${planId}`);
    await fake.sendEnvelope('events_api', fake.reactionAdded(OWNER, 'white_check_mark', ts));
    await waitForPrivate(OWNER, `Plan ${planId} is already rejected`);
    expect(harness.services.applied).toEqual([]);
  });

  it('answers the Dry-run and Details buttons without approving anything', async () => {
    await boot();
    const { planId, ts } = await planPhase0();
    await fake.sendEnvelope('interactive', fake.blockAction(STRANGER, 'jarvis_dry-run', planId, ts));
    await waitForPost(`Dry run of ${planId}: all requests valid`);
    await fake.sendEnvelope('interactive', fake.blockAction(STRANGER, 'jarvis_details', planId, ts));
    await fake.waitFor(() => fake.uploads.length > 0, 'plan file');
    expect(fake.uploads[0]?.content).toContain(harness.services.plans.get(planId)?.markdown ?? '-');
    expect(harness.approvals.get(planId)?.state).toBe('pending');
  });

  it('refuses an expired plan', async () => {
    await boot();
    const { planId, ts } = await planPhase0();
    harness.clock.now += 31 * 60_000;
    await fake.sendEnvelope('events_api', fake.reactionAdded(OWNER, 'white_check_mark', ts));
    await waitForPrivate(OWNER, `Plan ${planId} expired`);
    expect(harness.services.applied).toEqual([]);
  });

  it('refuses a stale plan when apply finds the lab moved', async () => {
    await boot({}, { stale: true });
    const { ts } = await planPhase0();
    await fake.sendEnvelope('events_api', fake.reactionAdded(OWNER, 'white_check_mark', ts));
    await waitForUpdate('Apply refused');
    expect(slackText(fake.api('chat.update').at(-1) as ApiCall)).toContain('is stale');
    expect(harness.services.applied).toEqual([]);
  });

  it('counts a double click and a redelivered reaction once', async () => {
    await boot();
    const { planId, ts } = await planPhase0();
    await fake.sendEnvelope('interactive', fake.blockAction(OWNER, 'jarvis_approve', planId, ts));
    await fake.sendEnvelope('interactive', fake.blockAction(OWNER, 'jarvis_approve', planId, ts));
    const reaction = fake.reactionAdded(OWNER, 'white_check_mark', ts);
    await fake.sendEnvelope('events_api', reaction);
    await fake.sendEnvelope('events_api', reaction);
    await waitForUpdate('Applied and validated');
    await harness.dispatcher.idle();
    expect(harness.services.applied).toHaveLength(1);
    expect(fake.api('chat.postMessage').filter((c) => slackText(c).includes('approved plan'))).toHaveLength(1);
  });

  it('needs the typed hash for a critical plan', async () => {
    await boot({}, { risks: { phase0: ['critical'] } });
    const { planId, ts } = await planPhase0();
    await fake.sendEnvelope('events_api', fake.reactionAdded(OWNER, 'white_check_mark', ts));
    const hash = shortHash(harness.services.plans.get(planId)?.plan.planHash ?? '');
    await waitForPost(`/jarvis confirm ${hash}`);
    expect(harness.services.applied).toEqual([]);
    await fake.sendEnvelope('slash_commands', fake.slashCommand(OWNER, `confirm ${hash}`));
    await waitForUpdate('Applied and validated');
    expect(harness.services.applied).toEqual([{ planId, approvers: [`slack:${OWNER}`] }]);
  });

  it('accepts a member of an approver user group', async () => {
    await boot({ JARVIS_APPROVER_GROUPS: 'slack:S0OPS' }, {}, ['S0OPS']);
    fake.userGroups.set('S0OPS', ['U0CAROL']);
    const { planId, ts } = await planPhase0();
    await fake.sendEnvelope('events_api', fake.reactionAdded('U0CAROL', 'white_check_mark', ts));
    await waitForUpdate('Applied and validated');
    expect(harness.services.applied).toEqual([{ planId, approvers: ['slack:U0CAROL'] }]);
  });

  it('uploads the full plan as a file when it does not fit, and answers help privately', async () => {
    await boot({}, { risks: { phase0: Array.from({ length: 200 }, () => 'low' as const) } });
    const { planId, post } = await planPhase0();
    expect((post.body.blocks as unknown[]).length).toBeLessThanOrEqual(50);
    expect(slackText(post)).toContain(`see plan-${planId}.md`);
    await fake.waitFor(() => fake.api('files.completeUploadExternal').length > 0, 'file upload');
    expect(fake.api('files.getUploadURLExternal')[0]?.body.filename).toBe(`plan-${planId}.md`);
    expect(fake.uploads[0]?.content).toContain('vm/299');

    await fake.sendEnvelope('slash_commands', fake.slashCommand(STRANGER, 'help'));
    await fake.waitFor(() => fake.responses.length > 0, 'private help');
    expect(JSON.stringify(fake.responses[0])).toContain('You may look and plan; approvers apply.');
    expect(JSON.stringify(fake.responses[0])).not.toContain('/jarvis apply');
  });

  it('reconnects after a socket-mode disconnect in the middle of a flow and still applies once', async () => {
    // The reconnect waits one ping timeout; 1 s keeps the test short and still tolerates a loaded machine.
    await boot({}, {}, [], 1000);
    const { planId, ts } = await planPhase0();
    await fake.requestReconnect();
    expect(fake.api('apps.connections.open')).toHaveLength(2);
    await fake.sendEnvelope('events_api', fake.reactionAdded(OWNER, 'white_check_mark', ts));
    await waitForUpdate('Applied and validated');
    expect(harness.services.applied).toEqual([{ planId, approvers: [`slack:${OWNER}`] }]);
  });

  it('sends the test alert to the alert channel', async () => {
    await boot();
    await fake.sendEnvelope('slash_commands', fake.slashCommand(OWNER, 'alerts test'));
    await fake.waitForApi((c) => c.method === 'chat.postMessage' && c.body.channel === SLACK_IDS.alertChannel && slackText(c).includes('Test alert'), 'alert');
  });
});
