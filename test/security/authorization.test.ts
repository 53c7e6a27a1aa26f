// The authorization attack matrix against the whole bot (real services over the simulator): every attempt to get a
// plan applied without an authorized, fresh, single decision on Jarvis's own plan message writes nothing to the
// lab (the simulator's request log) — stranger, wrong emoji, another message, Jarvis's own reaction, superseded,
// expired, stale, replayed event, double click; and in Slack HTTP mode a forged, stale or missing signature.
import { createServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { embedText, FAKE_IDS, subcommand } from '../fakes/discord.ts';
import { signSlackRequest, slackText } from '../fakes/slack.ts';
import {
  DISCORD_OWNER,
  DISCORD_STRANGER,
  SLACK_OWNER,
  SLACK_STRANGER,
  discordAnswer,
  discordButton,
  discordCommand,
  discordEditWith,
  discordPlan,
  discordPostWith,
  isEphemeral,
  slackButton,
  slackPrivateWith,
  startChatLab,
  type ChatLab,
} from '../support/chat-lab.ts';

let world: ChatLab | undefined;

afterEach(async () => {
  vi.useRealTimers();
  await world?.close();
  world = undefined;
}, 90_000);

const count = (w: ChatLab, kind: string): number => w.running.journal.auditEntries().filter((e) => e.kind === kind).length;

describe('authorization attack matrix (Discord, real services)', { timeout: 120_000 }, () => {
  it('applies nothing for any unauthorized, stale, expired or repeated decision, and exactly once for the real one', async () => {
    world = await startChatLab({ scenario: 'drifted', env: { JARVIS_APPROVAL_TTL_MINUTES: '1' } });
    const w = world;
    const d = w.discord;
    const plan = () => discordPlan(d, DISCORD_OWNER, subcommand('plan', { phase: 'phase0' }));
    const react = (user: typeof DISCORD_OWNER, messageId: string, emoji: string) => d.dispatch('MESSAGE_REACTION_ADD', d.reaction(user, messageId, emoji));
    /** The gateway is ordered: once a later command is answered, the events before it were handled. */
    const settle = async () => {
      await discordCommand(d, DISCORD_OWNER, subcommand('help'));
      await w.bot.dispatcher.idle();
    };
    /** Per attempt: lab writes, applies started, actions run (journal). */
    const outcomes: Record<string, { writes: number; applies: number; actions: number }> = {};
    const attempt = async (name: string, act: () => Promise<unknown> | void) => {
      const mark = w.sim.requests.length;
      const [applies, actions] = [count(w, 'apply.started'), count(w, 'action.result')];
      await act();
      await settle();
      outcomes[name] = { writes: w.writesSince(mark).length, applies: count(w, 'apply.started') - applies, actions: count(w, 'action.result') - actions };
    };

    const p1 = await plan();
    const approveP1 = discordButton(d, p1.messageRef, 'Approve');
    const statusMessage = await discordCommand(d, DISCORD_OWNER, subcommand('status')).then(() => [...d.messages.values()].at(-1)?.id as string);
    await attempt('stranger ✅', async () => {
      react(DISCORD_STRANGER, p1.messageRef, '✅');
      await discordPostWith(d, 'mallory is not an approver for this plan');
    });
    await attempt('stranger Approve button', async () => {
      const click = d.button(DISCORD_STRANGER, approveP1, p1.messageRef);
      d.dispatch('INTERACTION_CREATE', click);
      await d.waitFor(() => d.rest.filter((c) => c.method === 'POST' && embedText(c).includes('mallory is not an approver')).length >= 2, 'second refusal', 30_000);
    });
    await attempt('stranger typed approve and confirm', async () => {
      for (const options of [subcommand('approve', { plan: p1.planId }), subcommand('confirm', { hash: p1.shortHash })]) {
        const answer = await discordAnswer(d, DISCORD_STRANGER, options);
        expect(embedText(answer)).toContain('mallory is not an approver');
        // Typed refusals are for the caller only.
        expect(isEphemeral(answer)).toBe(true);
      }
    });
    await attempt('owner 👍 (wrong emoji)', () => react(DISCORD_OWNER, p1.messageRef, '👍'));
    await attempt('owner ✅ on another message of Jarvis’s', () => react(DISCORD_OWNER, statusMessage, '✅'));
    await attempt('owner ✅ on a message Jarvis never posted', () => react(DISCORD_OWNER, '123456789012345678', '✅'));
    await attempt('Jarvis’s own ✅', () => react({ id: FAKE_IDS.bot, username: 'jarvis' }, p1.messageRef, '✅'));
    expect(w.bot.approvals.get(p1.planId)?.state).toBe('pending');

    const p2 = await plan();
    await attempt('owner ✅ on a superseded plan', async () => {
      react(DISCORD_OWNER, p1.messageRef, '✅');
      await discordPostWith(d, `Plan ${p1.planId} was replaced by a newer plan`);
    });

    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true, now: Date.now() - 2 * 60_000 });
    const p3 = await plan();
    vi.useRealTimers();
    await attempt('owner ✅ on an expired plan', async () => {
      react(DISCORD_OWNER, p3.messageRef, '✅');
      await discordPostWith(d, `Plan ${p3.planId} expired`);
    });

    const p4 = await plan();
    w.sim.lab.setVmConfig(300, { memory: 4096 });
    await attempt('owner ✅ on a stale plan', async () => {
      react(DISCORD_OWNER, p4.messageRef, '✅');
      await discordEditWith(d, `Apply refused: plan ${p4.planId}`);
    });

    const p5 = await plan();
    const approveId = discordButton(d, p5.messageRef, 'Approve');
    const approveP5 = d.button(DISCORD_OWNER, approveId, p5.messageRef);
    const reactionP5 = d.reaction(DISCORD_OWNER, p5.messageRef, '✅');
    await attempt('the real approval, double-clicked and reacted', async () => {
      d.dispatch('INTERACTION_CREATE', approveP5);
      d.dispatch('INTERACTION_CREATE', d.button(DISCORD_OWNER, approveId, p5.messageRef));
      d.dispatch('MESSAGE_REACTION_ADD', reactionP5);
      await discordEditWith(d, `Applied and validated: plan ${p5.planId}`);
    });
    const answersBefore = d.rest.length;
    await attempt('replayed interaction and reaction events after the apply', async () => {
      d.replay('INTERACTION_CREATE', approveP5);
      d.replay('MESSAGE_REACTION_ADD', reactionP5);
    });

    const nothing = { writes: 0, applies: 0, actions: 0 };
    const { 'owner ✅ on a stale plan': stale, 'the real approval, double-clicked and reacted': real, ...refused } = outcomes;
    expect(refused).toEqual({
      'stranger ✅': nothing,
      'stranger Approve button': nothing,
      'stranger typed approve and confirm': nothing,
      'owner 👍 (wrong emoji)': nothing,
      'owner ✅ on another message of Jarvis’s': nothing,
      'owner ✅ on a message Jarvis never posted': nothing,
      'Jarvis’s own ✅': nothing,
      'owner ✅ on a superseded plan': nothing,
      'owner ✅ on an expired plan': nothing,
      'replayed interaction and reaction events after the apply': nothing,
    });
    // A stale plan gets as far as the apply's freshness check, which refuses before any action.
    expect(stale).toMatchObject({ writes: 0, actions: 0 });
    expect(count(w, 'apply.refused')).toBe(1);
    expect(real?.applies).toBe(1);
    expect(real?.writes).toBeGreaterThan(0);
    // The replays were not even answered (only the deferral of the replayed interaction and the help probe).
    const replayAnswers = d.rest.slice(answersBefore).filter((c) => c.method === 'POST' && /\/channels\/.+\/messages$/.test(c.path));
    expect(replayAnswers).toEqual([]);
    // Every refusal is in the audit trail with who and why.
    const refusals = w.running.journal.auditEntries().filter((e) => e.kind === 'approval' && e.data.includes(':refused'));
    expect(refusals.map((e) => JSON.parse(e.data).reason)).toEqual(expect.arrayContaining(['not-approver', 'superseded', 'expired']));
    expect(p2.planId).not.toBe(p1.planId);
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('forged Slack requests (HTTP mode, real services)', { timeout: 120_000 }, () => {
  it('answers 401 to a forged, stale or missing signature on commands, clicks and reactions, and writes nothing', async () => {
    const secret = 'e2e-signing-secret-0123456789';
    const port = await freePort();
    world = await startChatLab({ scenario: 'drifted', env: { SLACK_APP_TOKEN: '', SLACK_SIGNING_SECRET: secret, SLACK_HTTP_LISTEN: `127.0.0.1:${port}` } });
    const w = world;
    const s = w.slack;
    const url = `http://127.0.0.1:${port}/slack/events`;
    const post = async (body: string, contentType: string, headers: Record<string, string>) =>
      (await fetch(url, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body })).status;
    const form = (payload: Record<string, unknown>) => new URLSearchParams(Object.entries(payload).map(([k, v]): [string, string] => [k, String(v)])).toString();
    const FORM = 'application/x-www-form-urlencoded';

    const planBody = form(s.slashCommand(SLACK_OWNER, 'plan phase0'));
    expect(await post(planBody, FORM, signSlackRequest(secret, planBody))).toBe(200);
    const planPost = await s.waitForApi((c) => c.method === 'chat.postMessage' && /plan-\d{8}-[0-9a-f]{8}/.test(slackText(c)), 'plan message', 60_000);
    const planId = /plan-\d{8}-[0-9a-f]{8}/.exec(slackText(planPost))?.[0] as string;
    await s.waitFor(() => s.api('reactions.add').some((c) => c.body.name === 'x'), 'reactions', 10_000);
    const ts = String(s.api('reactions.add').find((c) => c.body.name === 'x')?.body.timestamp);
    const mark = w.sim.requests.length;
    const callsBefore = s.calls.length;

    const approve = slackButton(s, planId, 'Approve');
    const forged = {
      'slash approve': [form(s.slashCommand(SLACK_OWNER, `approve ${planId}`)), FORM],
      'Approve click': [new URLSearchParams({ payload: JSON.stringify(s.blockAction(SLACK_OWNER, approve.actionId, approve.value, ts)) }).toString(), FORM],
      '✅ reaction event': [JSON.stringify({ ...s.reactionAdded(SLACK_OWNER, 'white_check_mark', ts), api_app_id: 'A0FAKE', token: 'legacy' }), 'application/json'],
    } as const;
    const statuses: Record<string, number[]> = {};
    for (const [name, [body, type]] of Object.entries(forged)) {
      const now = Math.floor(Date.now() / 1000);
      statuses[name] = [
        await post(body, type, signSlackRequest('not-the-signing-secret', body, now)),
        await post(body, type, signSlackRequest(secret, body, now - 6 * 60)),
        await post(body, type, {}),
        await post(body, type, signSlackRequest(secret, `${body} `, now)),
      ];
    }
    expect(statuses).toEqual({ 'slash approve': [401, 401, 401, 401], 'Approve click': [401, 401, 401, 401], '✅ reaction event': [401, 401, 401, 401] });

    // The endpoint is live: the same reaction, correctly signed but from a stranger, is handled and refused.
    const strangerBody = JSON.stringify({ ...s.reactionAdded(SLACK_STRANGER, 'white_check_mark', ts), api_app_id: 'A0FAKE', token: 'legacy' });
    expect(await post(strangerBody, 'application/json', signSlackRequest(secret, strangerBody))).toBe(200);
    await slackPrivateWith(s, SLACK_STRANGER, `${SLACK_STRANGER} is not an approver for this plan`);
    await w.bot.dispatcher.idle();
    expect(s.calls.slice(callsBefore).filter((c) => c.method === 'chat.postMessage')).toHaveLength(0);
    expect(w.writesSince(mark)).toEqual([]);
    expect(w.bot.approvals.get(planId)?.state).toBe('pending');
  });
});
