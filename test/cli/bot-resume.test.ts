// `jarvis bot` restarted in the middle of an apply (its own VM rebooted under it): the plan it was applying is still
// `applying` in the approval store; the new bot resumes it from the journal with the approvals it had, says so in the
// alert channel, and closes it. Chat never rolls back Jarvis's own VM.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBot, type RunningBot } from '../../cli/commands/bot.ts';
import { approvalPolicyFromEnv } from '../../commands/approvals/policy.ts';
import { Approvals } from '../../commands/approvals/state-machine.ts';
import { loadConfig } from '../../lib/config.ts';
import { createLogger } from '../../lib/log.ts';
import { startSim, type RunningSim } from '../../sim/server.ts';
import { embedText, FAKE_IDS, FakeDiscord, subcommand } from '../fakes/discord.ts';
import { DISCORD_OWNER, REPO_ROOT, discordCommand, discordFakeEnv, within } from '../support/chat-lab.ts';
import { simNodeEnv } from '../support/sim-env.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}, 60_000);

describe('jarvis bot after a restart in the middle of an apply', () => {
  it('resumes the interrupted apply from the journal, reports in the alert channel, and closes the plan', { timeout: 90_000 }, async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'jarvis-bot-resume-'));
    cleanups.push(async () => rmSync(scratch, { recursive: true, force: true }));
    // drifted: VM 300's memory was changed by hand; Jarvis runs in 300 here, so the fix reboots Jarvis's own VM.
    const sim: RunningSim = await startSim({ scenario: 'drifted', taskSeconds: 0.05 });
    cleanups.push(() => sim.close());
    const discord = await new FakeDiscord().start();
    cleanups.push(() => discord.stop());
    const env: NodeJS.ProcessEnv = {
      JARVIS_DATA_DIR: join(scratch, 'data'),
      JARVIS_APPROVERS: `discord:${DISCORD_OWNER.id}`,
      JARVIS_SELF_VMID: '300',
      JARVIS_DRIFT_PHASE: 'off',
      JARVIS_SITE_FILE: sim.siteFile,
      ...simNodeEnv(sim),
      ...discordFakeEnv(discord),
    };
    const start = (): Promise<RunningBot> => startBot({ config: loadConfig(env), env, cwd: REPO_ROOT, logger: createLogger('silent') });

    const first = await start();
    let firstStopped = false;
    cleanups.push(async () => void (firstStopped || (await first.stop())));
    const planned = await discordCommand(discord, DISCORD_OWNER, subcommand('plan', { phase: 'phase0' }));
    expect(planned).toContain('Jarvis itself goes offline for ~30 s');
    const planId = /plan-\d{8}-[0-9a-f]{8}/.exec(planned)![0];
    // A rollback of Jarvis's own VM is refused from chat, with the reason.
    const rollback = await discordCommand(discord, DISCORD_OWNER, subcommand('rollback', { vmid: 300, snapshot: 'anything' }));
    expect(rollback).toContain("rolling it back would rewind Jarvis's own journal, approvals and audit trail");
    await first.stop();
    firstStopped = true;

    // What the first bot left when its VM went down: the plan approved and its apply begun, nothing reported back.
    const approvals = new Approvals({ dbPath: join(env.JARVIS_DATA_DIR!, 'approvals.db'), policy: approvalPolicyFromEnv(env), audit: () => undefined });
    expect(approvals.approve({ actor: { platform: 'discord', id: DISCORD_OWNER.id, displayName: 'alice' }, via: 'text', target: { planId } }).outcome).toBe('approved');
    expect(approvals.beginApply(planId).ok).toBe(true);
    approvals.close();

    const second = await start();
    cleanups.push(() => within(second.stop(), 30_000, 'bot stop'));
    expect(second.chat.resumed).toEqual([planId]);
    const alerts = () => discord.rest.filter((c) => c.method === 'POST' && c.path === `/channels/${FAKE_IDS.alertChannel}/messages`).map(embedText);
    await discord.waitFor(() => alerts().some((text) => text.includes(`Resumed plan ${planId}: applied and validated`)), 'the resumed apply’s outcome', 60_000);
    expect(alerts().find((text) => text.includes(`Resuming plan ${planId}`))).toContain('the apply goes on from its journal');
    expect(Number((await sim.lab.vm(300)).config.memory)).toBe(8192);
    await second.chat.dispatcher.idle();
    const check = new Approvals({ dbPath: join(env.JARVIS_DATA_DIR!, 'approvals.db'), policy: approvalPolicyFromEnv(env), audit: () => undefined });
    expect(check.get(planId)?.state).toBe('applied');
    check.close();
  });
});
