// Discord end to end with everything real but the platform: discord.js against the local fake gateway + REST,
// the real services (planner, apply engine, journal) over the simulated lab, and the approval store on disk.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { embedText, subcommand } from '../fakes/discord.ts';
import {
  DISCORD_OWNER,
  DISCORD_STRANGER,
  discordButton,
  discordCommand,
  discordEditWith,
  discordPlan,
  discordPostWith,
  startChatLab,
  type ChatLab,
} from '../support/chat-lab.ts';

let world: ChatLab | undefined;

afterEach(async () => {
  vi.useRealTimers();
  await world?.close();
  world = undefined;
}, 90_000);

const auditKinds = (w: ChatLab, planId: string): string[] => w.running.journal.auditEntries({ planId }).map((e) => e.kind);
const planPhase = (w: ChatLab, phase: string) => discordPlan(w.discord, DISCORD_OWNER, subcommand('plan', { phase }));
const react = (w: ChatLab, user: typeof DISCORD_OWNER, messageId: string, emoji: string) =>
  w.discord.dispatch('MESSAGE_REACTION_ADD', w.discord.reaction(user, messageId, emoji));

describe('Discord over the simulated lab (real services)', { timeout: 120_000 }, () => {
  it('plans phase0, refuses a stranger’s ✅ without touching the lab, applies on the approver’s ✅ and validates', async () => {
    world = await startChatLab({ scenario: 'fresh' });
    const w = world;
    const plan = await planPhase(w, 'phase0');
    expect(plan.text).toContain('max risk medium');
    expect(plan.text).toContain('vm/100 (edge-gateway)');
    const planMessage = w.discord.messages.get(plan.messageRef) as { components: Array<{ components: Array<{ label: string }> }> };
    expect(planMessage.components[0]?.components.map((b) => b.label)).toEqual(['Approve', 'Reject', 'Dry-run', 'Details']);
    expect(discordButton(w.discord, plan.messageRef, 'Approve')).toContain(plan.planId);

    const mark = w.sim.requests.length;
    react(w, DISCORD_STRANGER, plan.messageRef, '✅');
    await discordPostWith(w.discord, 'mallory is not an approver for this plan');
    await w.bot.dispatcher.idle();
    expect(w.writesSince(mark)).toEqual([]);
    expect(auditKinds(w, plan.planId)).not.toContain('apply.started');
    expect(w.running.journal.auditEntries({ planId: plan.planId }).some((e) => e.kind === 'approval' && e.actor === `discord:${DISCORD_STRANGER.id}` && e.data.includes('not-approver'))).toBe(true);

    react(w, DISCORD_OWNER, plan.messageRef, '✅');
    await discordPostWith(w.discord, `alice approved plan ${plan.planId}`);
    const final = await discordEditWith(w.discord, `Applied and validated — waiting for the owner: plan ${plan.planId}`);
    expect(embedText(final)).toContain('Validated: a new scan finds nothing left to do.');
    // Progress was edited into the same message before the final state.
    const progress = w.discord.rest.filter((c) => c.method === 'PATCH' && c.path === final.path && embedText(c).includes(`Applying: plan ${plan.planId}`));
    expect(progress.length).toBeGreaterThan(0);
    expect(w.writesSince(mark).some((r) => r.method === 'POST' && r.path === '/nodes/proxmox/qemu')).toBe(true);
    expect(w.sim.schemaViolations).toEqual([]);
    expect(auditKinds(w, plan.planId).filter((k) => k === 'apply.finished')).toHaveLength(1);

    const replan = await discordCommand(w.discord, DISCORD_OWNER, subcommand('plan', { phase: 'phase0' }));
    // Only VM 400's Tailscale is left: the owner's add-on, a manual step.
    expect(replan).toContain('manual.step');
    expect(replan).toContain('install the official Tailscale add-on');
  });

  it('attaches the full Markdown plan as a file on Details (multipart REST next to the Proxmox client)', async () => {
    world = await startChatLab({ scenario: 'drifted' });
    const w = world;
    const plan = await planPhase(w, 'phase0');
    const click = w.discord.button(DISCORD_OWNER, discordButton(w.discord, plan.messageRef, 'Details'), plan.messageRef);
    w.discord.dispatch('INTERACTION_CREATE', click);
    const details = await w.discord.waitForRest((c) => c.method === 'PATCH' && c.path.includes(click.token as string), 'Details reply', 30_000);
    expect(details.files.map((f) => f.name)).toEqual([`plan-${plan.planId}.md`]);
    expect(details.files[0]?.content).toContain('vm/300');
    expect(w.logs.filter((line) => /"level":50/.test(line))).toEqual([]);
  });

  it('posts a plan too long for one message with the full Markdown attached (phase2 from a fresh lab)', async () => {
    world = await startChatLab({ scenario: 'fresh' });
    const w = world;
    const plan = await planPhase(w, 'phase2');
    const call = w.discord.rest.find((c) => c.method === 'PATCH' && c.path.endsWith('/messages/@original') && embedText(c).includes(plan.planId));
    expect(call?.files.map((f) => f.name)).toEqual([`plan-${plan.planId}.md`]);
    expect(call?.files[0]?.content).toContain('rollback');
    expect(embedText(call!)).toContain(`plan-${plan.planId}.md`);
    const embeds = (call?.body as { embeds: unknown[] }).embeds;
    expect(embeds.length).toBeLessThanOrEqual(10);
    expect(JSON.stringify(embeds).length).toBeLessThan(6000 + 2000); // 6,000 characters of text plus the JSON around it
  });

  it('rejects with ❌: nothing is written, and a later ✅ is refused', async () => {
    world = await startChatLab({ scenario: 'drifted' });
    const w = world;
    const plan = await planPhase(w, 'phase0');
    const mark = w.sim.requests.length;
    react(w, DISCORD_OWNER, plan.messageRef, '❌');
    await discordPostWith(w.discord, `alice rejected plan ${plan.planId}`);
    react(w, DISCORD_OWNER, plan.messageRef, '✅');
    await discordPostWith(w.discord, `Plan ${plan.planId} is already rejected`);
    await w.bot.dispatcher.idle();
    expect(w.writesSince(mark)).toEqual([]);
    expect(w.bot.approvals.get(plan.planId)?.state).toBe('rejected');
  });

  it('refuses a stale plan: the VM changed between plan and approval, nothing is written', async () => {
    world = await startChatLab({ scenario: 'drifted' });
    const w = world;
    const plan = await planPhase(w, 'phase0');
    expect(plan.text).toContain('vm/300 (app-host)');
    w.sim.lab.setVmConfig(300, { memory: 4096 });
    const mark = w.sim.requests.length;
    react(w, DISCORD_OWNER, plan.messageRef, '✅');
    const refused = await discordEditWith(w.discord, `Apply refused: plan ${plan.planId}`);
    expect(embedText(refused)).toMatch(/stale/i);
    expect(embedText(refused)).toContain('vm/300');
    expect(w.writesSince(mark)).toEqual([]);
    expect(auditKinds(w, plan.planId)).toContain('apply.refused');
  });

  it('refuses an expired plan (TTL from JARVIS_APPROVAL_TTL_MINUTES)', async () => {
    world = await startChatLab({ scenario: 'drifted', env: { JARVIS_APPROVAL_TTL_MINUTES: '1' } });
    const w = world;
    // The plan is made on a clock two minutes behind: by the approval store's (real) clock it is past its TTL.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true, now: Date.now() - 2 * 60_000 });
    const plan = await planPhase(w, 'phase0');
    vi.useRealTimers();
    const mark = w.sim.requests.length;
    react(w, DISCORD_OWNER, plan.messageRef, '✅');
    await discordPostWith(w.discord, `Plan ${plan.planId} expired 1 min after it was made`);
    await w.bot.dispatcher.idle();
    expect(w.writesSince(mark)).toEqual([]);
    expect(w.bot.approvals.get(plan.planId)?.state).toBe('expired');
  });

  it('counts a double click on Approve once and applies once', async () => {
    world = await startChatLab({ scenario: 'drifted' });
    const w = world;
    const plan = await planPhase(w, 'phase0');
    const approve = discordButton(w.discord, plan.messageRef, 'Approve');
    w.discord.dispatch('INTERACTION_CREATE', w.discord.button(DISCORD_OWNER, approve, plan.messageRef));
    w.discord.dispatch('INTERACTION_CREATE', w.discord.button(DISCORD_OWNER, approve, plan.messageRef));
    await discordEditWith(w.discord, `Applied and validated: plan ${plan.planId}`);
    await w.bot.dispatcher.idle();
    const kinds = auditKinds(w, plan.planId);
    expect(kinds.filter((k) => k === 'apply.started')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'apply.finished')).toHaveLength(1);
    const approvals = w.running.journal.auditEntries({ planId: plan.planId }).filter((e) => e.kind === 'approval' && e.data.includes('approve:approved'));
    expect(approvals).toHaveLength(1);
    expect(w.discord.rest.filter((c) => c.method === 'POST' && embedText(c).includes(`alice approved plan ${plan.planId}`))).toHaveLength(1);
  });

  it('asks for the typed short hash of a critical plan (phase1 creates the ZFS pool) before writing anything', async () => {
    world = await startChatLab({ scenario: 'phase0' });
    const w = world;
    const plan = await planPhase(w, 'phase1');
    expect(plan.text).toContain('max risk critical');
    const mark = w.sim.requests.length;
    expect(plan.text).toContain('ERASES ALL DATA ON /dev/disk/by-id/ata-WDC_WD40EFPX-68C6CN0_WD-WX12D3456789, /dev/disk/by-id/ata-WDC_WD40EFPX-68C6CN0_WD-WX12D3456790');
    react(w, DISCORD_OWNER, plan.messageRef, '✅');
    const prompt = await discordPostWith(w.discord, `type /jarvis confirm ${plan.shortHash}`);
    // The prompt restates what cannot be undone, so the hash is not typed blind.
    expect(embedText(prompt)).toContain('zfs/tank (mirror on 2 disks): ERASES ALL DATA ON /dev/disk/by-id/ata-WDC_WD40EFPX-68C6CN0_WD-WX12D3456789');
    const wrong = plan.shortHash === '00000000' ? '11111111' : '00000000';
    expect(await discordCommand(w.discord, DISCORD_OWNER, subcommand('confirm', { hash: wrong }))).toContain(`${wrong} is not the hash of plan ${plan.planId}`);
    expect(await discordCommand(w.discord, DISCORD_STRANGER, subcommand('confirm', { hash: plan.shortHash }))).toContain('mallory is not an approver');
    await w.bot.dispatcher.idle();
    expect(w.writesSince(mark)).toEqual([]);

    await discordCommand(w.discord, DISCORD_OWNER, subcommand('confirm', { hash: plan.shortHash }));
    const outcome = new RegExp(`(Applied and validated|Applied, not validated|Apply failed|Apply refused): plan ${plan.planId}`);
    const final = await w.discord.waitForRest((c) => c.method === 'PATCH' && outcome.test(embedText(c)), 'apply outcome', 120_000);
    expect(embedText(final)).toContain(`Applied and validated: plan ${plan.planId}`);
    expect(w.writesSince(mark).some((r) => r.method === 'POST' && r.path === '/nodes/proxmox/disks/zfs')).toBe(true);
  });

  it('survives a gateway disconnect in the middle of an apply: RESUME, replayed events count once, the apply ends once', async () => {
    world = await startChatLab({ scenario: 'fresh', taskSeconds: 0.1 });
    const w = world;
    const plan = await planPhase(w, 'phase0');
    react(w, DISCORD_OWNER, plan.messageRef, '✅');
    await discordEditWith(w.discord, '⏳ 1/');
    const identifies = w.discord.frames.filter((f) => f.direction === 'in' && f.data.op === 2).length;
    // While the socket is down: a replay of the approver's ✅ and a stranger's; both reach the bot after RESUME.
    await w.discord.dropAndResume(() => {
      react(w, DISCORD_OWNER, plan.messageRef, '✅');
      react(w, DISCORD_STRANGER, plan.messageRef, '✅');
    });
    const resumedAt = w.discord.rest.length;
    expect(w.discord.frames.filter((f) => f.direction === 'in' && f.data.op === 6)).toHaveLength(1);
    expect(w.discord.frames.filter((f) => f.direction === 'in' && f.data.op === 2)).toHaveLength(identifies);
    await discordPostWith(w.discord, 'mallory is not an approver for this plan');
    const final = await discordEditWith(w.discord, `Applied and validated — waiting for the owner: plan ${plan.planId}`);
    expect(w.discord.rest.indexOf(final)).toBeGreaterThan(resumedAt);
    expect(w.discord.rest.filter((c) => c.method === 'POST' && embedText(c).includes(`alice approved plan ${plan.planId}`))).toHaveLength(1);
    expect(auditKinds(w, plan.planId).filter((k) => k === 'apply.started')).toHaveLength(1);
    expect(await discordCommand(w.discord, DISCORD_OWNER, subcommand('status'))).toContain('edge-gateway');
  });
});
