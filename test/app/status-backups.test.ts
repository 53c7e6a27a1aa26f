// `/jarvis status` on a lab whose backups fail (backup-failures): every failed task is there with its UPID and a
// "Show log" button (still failing first), so `/jarvis log` is one click away on Discord and Slack.
import { describe, expect, it } from 'vitest';
import type { Lab } from '../../app/lab.ts';
import type { RunningServices } from '../../app/services.ts';
import { renderDiscord } from '../../bot/discord/render.ts';
import { renderSlack } from '../../bot/slack/render.ts';
import type { CommandContext } from '../../commands/context.ts';
import { reportCommand } from '../../commands/handlers/reports.ts';
import { servicesOnSimAroundAll } from '../support/services-on-sim.ts';

let lab: Lab;
let running: RunningServices;

servicesOnSimAroundAll({ scenario: 'backup-failures' }, (opened) => ({ lab, running } = opened));

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
