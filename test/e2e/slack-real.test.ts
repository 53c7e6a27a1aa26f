// Slack end to end with everything real but the platform: @slack/bolt (Socket Mode) against the local fake Web API
// + socket-mode server, the real services over the simulated lab, and the approval store on disk.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { slackText, type ApiCall } from '../fakes/slack.ts';
import { SLACK_OWNER, SLACK_STRANGER, slackButton, slackPlan, slackPostWith, slackPrivateWith, slackUpdateWith, startChatLab, type ChatLab } from '../support/chat-lab.ts';

let world: ChatLab | undefined;

afterEach(async () => {
  vi.useRealTimers();
  await world?.close();
  world = undefined;
}, 90_000);

const CHECK = 'white_check_mark';
const auditKinds = (w: ChatLab, planId: string): string[] => w.running.journal.auditEntries({ planId }).map((e) => e.kind);
const planPhase = (w: ChatLab, phase: string) => slackPlan(w.slack, SLACK_OWNER, `plan ${phase}`);
const react = (w: ChatLab, user: string, ts: string, reaction: string) => w.slack.sendEnvelope('events_api', w.slack.reactionAdded(user, reaction, ts));

/** The answer to a slash command: the bot posts it to the channel (chat.postMessage) or privately (response_url). */
async function command(w: ChatLab, user: string, text: string): Promise<string> {
  const calls = w.slack.calls.length;
  const responses = w.slack.responses.length;
  await w.slack.sendEnvelope('slash_commands', w.slack.slashCommand(user, text));
  await w.slack.waitFor(() => w.slack.calls.slice(calls).some((c) => c.method === 'chat.postMessage') || w.slack.responses.length > responses, `answer to ${text}`, 60_000);
  const posted = w.slack.calls.slice(calls).find((c) => c.method === 'chat.postMessage');
  return posted ? slackText(posted) : JSON.stringify(w.slack.responses.slice(responses));
}

describe('Slack over the simulated lab (real services)', { timeout: 120_000 }, () => {
  it('plans phase0, refuses a stranger’s ✅ without touching the lab, applies on the approver’s ✅ and validates', async () => {
    world = await startChatLab({ scenario: 'fresh' });
    const w = world;
    const plan = await planPhase(w, 'phase0');
    expect(plan.text).toContain('max risk medium');
    for (const label of ['Approve', 'Reject', 'Dry-run', 'Details']) expect(slackButton(w.slack, plan.planId, label).value).toContain(plan.planId);

    const mark = w.sim.requests.length;
    await react(w, SLACK_STRANGER, plan.messageRef, CHECK);
    await slackPrivateWith(w.slack, SLACK_STRANGER, `${SLACK_STRANGER} is not an approver for this plan`);
    await w.bot.dispatcher.idle();
    expect(w.writesSince(mark)).toEqual([]);
    expect(auditKinds(w, plan.planId)).not.toContain('apply.started');

    await react(w, SLACK_OWNER, plan.messageRef, CHECK);
    const final = await slackUpdateWith(w.slack, `Applied and validated — waiting for the owner: plan ${plan.planId}`);
    expect(slackText(final)).toContain('Validated: a new scan finds nothing left to do.');
    const progress = w.slack.api('chat.update').filter((c) => c.body.ts === final.body.ts && slackText(c).includes(`Applying: plan ${plan.planId}`));
    expect(progress.length).toBeGreaterThan(0);
    expect(w.writesSince(mark).some((r) => r.method === 'POST' && r.path === '/nodes/proxmox/qemu')).toBe(true);
    expect(w.sim.schemaViolations).toEqual([]);

    // Only VM 400's Tailscale is left: the owner's add-on, a manual step.
    expect(await command(w, SLACK_OWNER, 'plan phase0')).toContain('install the official Tailscale add-on');
  });

  it('posts a long plan (phase2 from a fresh lab) within Block Kit limits, every action shown or uploaded', async () => {
    world = await startChatLab({ scenario: 'fresh' });
    const w = world;
    const plan = await planPhase(w, 'phase2');
    const post = w.slack.api('chat.postMessage').find((c) => slackText(c).includes(plan.planId)) as ApiCall;
    const blocks = post.body.blocks as Array<{ type: string; text?: { text: string } }>;
    expect(blocks.length).toBeLessThanOrEqual(50);
    for (const block of blocks) expect(block.text?.text.length ?? 0).toBeLessThanOrEqual(3000);
    const saved = JSON.parse(readFileSync(join(w.dataDir, 'plans', `${plan.planId}.json`), 'utf8')) as { actions: Array<{ rollbackHint: string }> };
    expect(saved.actions.length).toBeGreaterThan(40);
    await w.bot.dispatcher.idle();
    const shown = slackText(post) + w.slack.uploads.map((u) => u.content).join('\n');
    const missing = saved.actions.filter((a) => !shown.includes(JSON.stringify(a.rollbackHint).slice(1, -1)) && !shown.includes(a.rollbackHint));
    expect(missing).toEqual([]);
  });

  it('rejects with the Reject button: nothing is written, and a later ✅ is refused', async () => {
    world = await startChatLab({ scenario: 'drifted' });
    const w = world;
    const plan = await planPhase(w, 'phase0');
    const mark = w.sim.requests.length;
    const reject = slackButton(w.slack, plan.planId, 'Reject');
    await w.slack.sendEnvelope('interactive', w.slack.blockAction(SLACK_OWNER, reject.actionId, reject.value, plan.messageRef));
    await slackPostWith(w.slack, `rejected plan ${plan.planId}`);
    await react(w, SLACK_OWNER, plan.messageRef, CHECK);
    await slackPrivateWith(w.slack, SLACK_OWNER, `Plan ${plan.planId} is already rejected`);
    await w.bot.dispatcher.idle();
    expect(w.writesSince(mark)).toEqual([]);
  });

  it('refuses a stale plan: the VM changed between plan and approval, nothing is written', async () => {
    world = await startChatLab({ scenario: 'drifted' });
    const w = world;
    const plan = await planPhase(w, 'phase0');
    w.sim.lab.setVmConfig(300, { memory: 4096 });
    const mark = w.sim.requests.length;
    await react(w, SLACK_OWNER, plan.messageRef, CHECK);
    const refused = await slackUpdateWith(w.slack, `Apply refused: plan ${plan.planId}`);
    expect(slackText(refused)).toMatch(/stale/i);
    expect(w.writesSince(mark)).toEqual([]);
    expect(auditKinds(w, plan.planId)).toContain('apply.refused');
  });

  it('refuses an expired plan (TTL from JARVIS_APPROVAL_TTL_MINUTES)', async () => {
    world = await startChatLab({ scenario: 'drifted', env: { JARVIS_APPROVAL_TTL_MINUTES: '1' } });
    const w = world;
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true, now: Date.now() - 2 * 60_000 });
    const plan = await planPhase(w, 'phase0');
    vi.useRealTimers();
    const mark = w.sim.requests.length;
    await react(w, SLACK_OWNER, plan.messageRef, CHECK);
    await slackPrivateWith(w.slack, SLACK_OWNER, `Plan ${plan.planId} expired 1 min after it was made`);
    await w.bot.dispatcher.idle();
    expect(w.writesSince(mark)).toEqual([]);
  });

  it('counts a double click and a redelivered reaction once, and applies once', async () => {
    world = await startChatLab({ scenario: 'drifted' });
    const w = world;
    const plan = await planPhase(w, 'phase0');
    const approve = slackButton(w.slack, plan.planId, 'Approve');
    await w.slack.sendEnvelope('interactive', w.slack.blockAction(SLACK_OWNER, approve.actionId, approve.value, plan.messageRef));
    await w.slack.sendEnvelope('interactive', w.slack.blockAction(SLACK_OWNER, approve.actionId, approve.value, plan.messageRef));
    const reaction = w.slack.reactionAdded(SLACK_OWNER, CHECK, plan.messageRef);
    await w.slack.sendEnvelope('events_api', reaction);
    await w.slack.sendEnvelope('events_api', reaction);
    await slackUpdateWith(w.slack, `Applied and validated: plan ${plan.planId}`);
    await w.bot.dispatcher.idle();
    expect(auditKinds(w, plan.planId).filter((k) => k === 'apply.started')).toHaveLength(1);
    expect(w.slack.api('chat.postMessage').filter((c) => slackText(c).includes(`approved plan ${plan.planId}`))).toHaveLength(1);
  });

  it('asks for the typed short hash of a critical plan (phase1 creates the ZFS pool) before writing anything', async () => {
    world = await startChatLab({ scenario: 'phase0' });
    const w = world;
    const plan = await planPhase(w, 'phase1');
    expect(plan.text).toContain('max risk critical');
    const mark = w.sim.requests.length;
    await react(w, SLACK_OWNER, plan.messageRef, CHECK);
    await slackPostWith(w.slack, `/jarvis confirm ${plan.shortHash}`);
    const wrong = plan.shortHash === '00000000' ? '11111111' : '00000000';
    expect(await command(w, SLACK_OWNER, `confirm ${wrong}`)).toContain(`${wrong} is not the hash of plan ${plan.planId}`);
    await w.bot.dispatcher.idle();
    expect(w.writesSince(mark)).toEqual([]);

    await w.slack.sendEnvelope('slash_commands', w.slack.slashCommand(SLACK_OWNER, `confirm ${plan.shortHash}`));
    const outcome = new RegExp(`(Applied and validated|Applied, not validated|Apply failed|Apply refused): plan ${plan.planId}`);
    const final = await w.slack.waitForApi((c) => c.method === 'chat.update' && outcome.test(slackText(c)), 'apply outcome', 120_000);
    expect(slackText(final)).toContain(`Applied and validated: plan ${plan.planId}`);
    expect(w.writesSince(mark).some((r) => r.method === 'POST' && r.path === '/nodes/proxmox/disks/zfs')).toBe(true);
  });

  it('reconnects after a socket-mode disconnect during an apply; a redelivered ✅ counts once', async () => {
    world = await startChatLab({ scenario: 'fresh', taskSeconds: 0.1 });
    const w = world;
    const plan = await planPhase(w, 'phase0');
    const reaction = w.slack.reactionAdded(SLACK_OWNER, CHECK, plan.messageRef);
    await w.slack.sendEnvelope('events_api', reaction);
    await slackUpdateWith(w.slack, '⏳ 1/');
    // Bolt reconnects one ping timeout (5 s by default, not configurable through startChatBot) after `disconnect`;
    // the fake's own wait gives up sooner, so wait here with a longer bound.
    const reconnecting = w.slack.requestReconnect().catch(() => undefined);
    await w.slack.waitFor(() => w.slack.api('apps.connections.open').length === 2 && w.slack.connected, 'socket-mode reconnect', 30_000);
    await reconnecting;
    expect(w.slack.api('apps.connections.open')).toHaveLength(2);
    // Slack redelivers an event it saw no ack for on the new connection: the same event must not approve twice.
    // (Sent again if it went to the closing socket: one more redelivery, which must count for nothing either.)
    const redeliver = () => w.slack.sendEnvelope('events_api', reaction);
    await redeliver().catch(redeliver);
    await slackUpdateWith(w.slack, `Applied and validated — waiting for the owner: plan ${plan.planId}`);
    await w.bot.dispatcher.idle();
    expect(auditKinds(w, plan.planId).filter((k) => k === 'apply.started')).toHaveLength(1);
    expect(w.slack.api('chat.postMessage').filter((c) => slackText(c).includes(`approved plan ${plan.planId}`))).toHaveLength(1);
    expect(await command(w, SLACK_OWNER, 'status')).toContain('edge-gateway');
  });
});
