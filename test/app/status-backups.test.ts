// `/jarvis status` on a lab whose backups fail (backup-failures): every failed task is there with its UPID and a
// "Show log" button (still failing first), so `/jarvis log` is one click away on Discord and Slack.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSimLab, type Lab } from '../../app/lab.ts';
import { createServices, type RunningServices } from '../../app/services.ts';
import { renderDiscord } from '../../bot/discord/render.ts';
import { renderSlack } from '../../bot/slack/render.ts';
import type { CommandContext } from '../../commands/context.ts';
import { reportCommand } from '../../commands/handlers/reports.ts';
import { loadConfig } from '../../lib/config.ts';

let lab: Lab;
let running: RunningServices;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jarvis-status-backups-'));
  lab = await openSimLab({ scenario: 'backup-failures' });
  const env = { JARVIS_DATA_DIR: dir };
  running = createServices({ lab, config: loadConfig(env), cwd: process.cwd(), env });
});
afterAll(async () => {
  running.close();
  await lab.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('status of a lab whose backups fail', () => {
  it('names every failed task by UPID and offers its log, on Discord and on Slack', async () => {
    const failed = lab.sim!.lab.tasks.tasks.filter((t) => t.type === 'vzdump' && t.exitstatus !== undefined && t.exitstatus !== 'OK').map((t) => t.upid);
    expect(failed).toHaveLength(3);
    const ctx = { deps: { services: running.services }, requester: { platform: 'discord', id: '1', displayName: 'owner' } } as unknown as CommandContext;
    const reply = await reportCommand({ name: 'status' }, ctx);
    const logs = (reply.buttons ?? []).filter((b) => b.action === 'show-log');
    expect(logs.map((b) => b.arg).sort()).toEqual([...failed].sort());
    expect(logs.every((b) => /^Show log: VM [\d, ]+ failed \d+ (h|min) ago$/.test(b.label))).toBe(true);
    const backups = reply.sections.find((s) => s.title === 'Backups')!.lines.join('\n');
    for (const upid of failed) expect(backups).toContain(`task ${upid}`);

    const discordIds = renderDiscord(reply).components.flatMap((row) => row.components.map((b) => b.custom_id));
    for (const upid of failed) expect(discordIds).toContain(`jarvis:show-log:${upid}`);
    const slackValues = renderSlack(reply).blocks.flatMap((b) => (b.type === 'actions' ? b.elements.map((e) => `${e.action_id}=${e.value}`) : []));
    for (const upid of failed) expect(slackValues.some((v) => v.startsWith('jarvis_show-log') && v.endsWith(`=${upid}`))).toBe(true);
  });
});
