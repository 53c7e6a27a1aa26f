// End to end on both platforms (real discord.js and @slack/bolt against the local fakes, FakeServices behind the
// dispatcher): an alert is posted with its buttons; Show log answers anyone with the log tail; Plan a retry is for
// approvers and posts a plan message with approval buttons and reactions, which ✅ then applies.
import { describe, expect, it } from 'vitest';
import { alertToReply } from '../../app/alert-reply.ts';
import type { DiscordAdapter } from '../../bot/discord/adapter.ts';
import type { SlackAdapter } from '../../bot/slack/adapter.ts';
import { embedText, FAKE_IDS, FakeDiscord, subcommand, type RestCall } from '../fakes/discord.ts';
import { FakeSlack, SLACK_IDS, slackText, type ApiCall } from '../fakes/slack.ts';
import { adaptersPerTest } from './support/adapters.ts';
import { failedBackup, LONG_UPID, UPID } from './support/alerts.ts';
import type { Harness } from './support/harness.ts';

let harness: Harness;
const boots = adaptersPerTest();

describe('Discord: alert buttons', () => {
  let fake: FakeDiscord;
  let adapter: DiscordAdapter;
  const owner = { id: '400', username: 'alice' };
  const stranger = { id: '666', username: 'mallory' };

  async function boot(): Promise<void> {
    ({ fake, harness, adapter } = await boots.discord());
  }

  const customIds = (call: RestCall): string[] => ((call.body as { components?: Array<{ components: Array<{ custom_id: string }> }> }).components ?? []).flatMap((row) => row.components.map((b) => b.custom_id));

  async function postAlert(upid: string): Promise<{ messageId: string; ids: string[] }> {
    await adapter.alert(alertToReply(failedBackup(upid)));
    const call = fake.calls('POST', new RegExp(`^/channels/${FAKE_IDS.alertChannel}/messages$`)).at(-1) as RestCall;
    const messageId = [...fake.messages.values()].filter((m) => m.channel_id === FAKE_IDS.alertChannel).at(-1)?.id as string;
    return { messageId, ids: customIds(call) };
  }

  const click = async (user: typeof owner, customId: string, messageId: string): Promise<RestCall> => {
    const interaction = fake.button(user, customId, messageId, FAKE_IDS.alertChannel);
    fake.dispatch('INTERACTION_CREATE', interaction);
    // A public answer edits the deferred reply; a private one (a refusal) is an ephemeral follow-up.
    const token = interaction.token as string;
    return fake.waitForRest((c) => c.path.includes(token) && (c.method === 'PATCH' || (c.method === 'POST' && c.path.endsWith(`/${token}`))), `the answer to ${customId}`);
  };
  const isPrivate = (call: RestCall): boolean => call.method === 'POST' && (call.body as { flags?: number }).flags === 64;

  it('Show log posts the log tail for anyone; Plan a retry is refused to a stranger, posts a plan for the owner, ✅ applies it', async () => {
    await boot();
    const { messageId, ids } = await postAlert(UPID);
    expect(ids).toEqual([`jarvis:show-log:${UPID}`, 'jarvis:plan-retry:300']);

    const log = await click(stranger, ids[0]!, messageId);
    expect(embedText(log)).toContain('Task log: failed');
    expect(embedText(log)).toContain('ERROR: Backup of VM 300 failed - No space left on device');

    const refused = await click(stranger, ids[1]!, messageId);
    expect(embedText(refused)).toContain('mallory is not an approver');
    expect(isPrivate(refused)).toBe(true);
    expect(harness.services.plans.size).toBe(0);

    const planned = await click(owner, ids[1]!, messageId);
    const planId = [...harness.services.plans.keys()].at(-1) as string;
    expect(planId).toMatch(/^br\d+-300$/);
    expect(customIds(planned)).toEqual([`jarvis:approve:${planId}`, `jarvis:reject:${planId}`, `jarvis:dry-run:${planId}`, `jarvis:details:${planId}`]);
    const planMessage = [...fake.messages.values()].find((m) => (m.embeds as Array<{ title: string }>)[0]?.title.includes(planId))?.id as string;
    await fake.waitFor(() => fake.calls('PUT', new RegExp(`/messages/${planMessage}/reactions/❌/@me$`)).length > 0, 'decision reactions on the plan');

    fake.dispatch('MESSAGE_REACTION_ADD', fake.reaction(owner, planMessage, '✅', FAKE_IDS.alertChannel));
    await fake.waitForRest((c) => c.method === 'PATCH' && /^\/channels\//.test(c.path) && embedText(c).includes('Applied and validated'), 'apply of the retry');
    expect(harness.services.applied).toEqual([{ planId, approvers: ['discord:400'] }]);
  });

  it('a UPID too long for a custom id travels as a stored token and still shows its log', async () => {
    await boot();
    const { messageId, ids } = await postAlert(LONG_UPID);
    expect(ids[0]).toMatch(/^jarvis:show-log:~[A-Za-z0-9_-]{16}$/);
    const log = await click(stranger, ids[0]!, messageId);
    expect(embedText(log)).toContain(`task ${LONG_UPID}`);
    const forged = await click(stranger, 'jarvis:show-log:~AAAAAAAAAAAAAAAA', messageId);
    expect(embedText(forged)).toContain('This button no longer works');
    expect(isPrivate(forged)).toBe(true);
  });

  it('a status reply carries its buttons, and the Backups button answers with the backups report', async () => {
    await boot();
    const status = fake.slashCommand(owner, subcommand('status'));
    fake.dispatch('INTERACTION_CREATE', status);
    const reply = await fake.waitForRest((c) => c.method === 'PATCH' && c.path.includes(status.token as string), 'status');
    expect(customIds(reply)).toEqual(['jarvis:report:backups', 'jarvis:report:drift']);
    const messageId = [...fake.messages.values()].find((m) => (m.embeds as Array<{ title: string }>)[0]?.title.includes('Lab healthy'))?.id as string;
    const backups = await click(stranger, 'jarvis:report:backups', messageId);
    expect(embedText(backups)).toContain('Backups: all jobs ran');
  });
});

describe('Slack: alert buttons', () => {
  let fake: FakeSlack;
  let adapter: SlackAdapter;
  const OWNER = 'U0OWNER';
  const STRANGER = 'U0MALLORY';

  async function boot(): Promise<void> {
    ({ fake, harness, adapter } = await boots.slack());
  }

  const waitForPost = (text: string) => fake.waitForApi((c) => c.method === 'chat.postMessage' && slackText(c).includes(text), `a message with "${text}"`);
  const waitForPrivate = (user: string, text: string) =>
    fake.waitForApi((c) => c.method === 'chat.postEphemeral' && c.body.user === user && slackText(c).includes(text), `a private answer with "${text}"`);
  const actionsOf = (call: ApiCall) => (call.body.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>).find((b) => b.type === 'actions')?.elements ?? [];

  it('Show log posts the log tail; Plan a retry is refused to a stranger, posts a plan with buttons and reactions for the owner, ✅ applies it', async () => {
    await boot();
    await adapter.alert(alertToReply(failedBackup(UPID)));
    const alert = fake.api('chat.postMessage').at(-1) as ApiCall;
    expect(alert.body.channel).toBe(SLACK_IDS.alertChannel);
    expect(actionsOf(alert).map((e) => [e.action_id, e.value])).toEqual([['jarvis_show-log', UPID], ['jarvis_plan-retry', '300']]);
    const ts = '1.000100';

    await fake.sendEnvelope('interactive', fake.blockAction(STRANGER, 'jarvis_show-log', UPID, ts, SLACK_IDS.alertChannel));
    // The alert itself names the error too: the log is the message posted after the click, with its heading.
    const log = await waitForPost('Task log: failed');
    expect(slackText(log)).toContain('ERROR: Backup of VM 300 failed - No space left on device');
    expect(log).not.toBe(alert);
    await fake.sendEnvelope('interactive', fake.blockAction(STRANGER, 'jarvis_plan-retry', '300', ts, SLACK_IDS.alertChannel));
    await waitForPrivate(STRANGER, `${STRANGER.toLowerCase()} is not an approver`);
    expect(harness.services.plans.size).toBe(0);

    await fake.sendEnvelope('interactive', fake.blockAction(OWNER, 'jarvis_plan-retry', '300', ts, SLACK_IDS.alertChannel));
    await fake.waitFor(() => fake.api('reactions.add').filter((c) => c.body.name === 'x').length > 0, 'plan message with reactions');
    const planId = [...harness.services.plans.keys()].at(-1) as string;
    const plan = await waitForPost(`Plan phase0 · ${planId}`);
    expect(actionsOf(plan).map((e) => e.action_id)).toEqual(['jarvis_approve', 'jarvis_reject', 'jarvis_dry-run', 'jarvis_details']);
    const planTs = String(fake.api('reactions.add').at(-1)?.body.timestamp);

    await fake.sendEnvelope('events_api', fake.reactionAdded(OWNER, 'white_check_mark', planTs, SLACK_IDS.alertChannel));
    await fake.waitForApi((c) => c.method === 'chat.update' && slackText(c).includes('Applied and validated'), 'apply of the retry');
    expect(harness.services.applied).toEqual([{ planId, approvers: [`slack:${OWNER}`] }]);
  });

  it('Snooze is for approvers and answers with the time it ends', async () => {
    await boot();
    await fake.sendEnvelope('interactive', fake.blockAction(STRANGER, 'jarvis_snooze', 'drift', '1.000100', SLACK_IDS.alertChannel));
    await waitForPrivate(STRANGER, `${STRANGER.toLowerCase()} is not an approver`);
    await fake.sendEnvelope('interactive', fake.blockAction(OWNER, 'jarvis_snooze', 'drift', '1.000100', SLACK_IDS.alertChannel));
    await waitForPost('Snoozed: drift');
    expect(harness.services.snoozed).toEqual([{ key: 'drift', hours: 24, by: `slack:${OWNER}` }]);
  });

  it('a forged button value cannot smuggle in another command', async () => {
    await boot();
    await fake.sendEnvelope('interactive', fake.blockAction(OWNER, 'jarvis_report', 'freeze now', '1.000100', SLACK_IDS.alertChannel));
    await waitForPrivate(OWNER, 'Not a button of Jarvis');
    await fake.sendEnvelope('interactive', fake.blockAction(OWNER, 'jarvis_report', 'unfreeze', '1.000100', SLACK_IDS.alertChannel));
    await waitForPrivate(OWNER, 'is not a report argument');
    expect(harness.services.gateState).toEqual({});
  });
});
