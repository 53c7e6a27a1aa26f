// Alerts and status replies with their buttons, as Discord, Slack and the console receive them: snapshots of the
// payloads, Discord's 100-character custom ids (a long UPID goes through a stored token), Slack's unique action ids.
import { describe, expect, it } from 'vitest';
import { alertToReply } from '../../app/alert-reply.ts';
import { parseButtonId, renderDiscord } from '../../bot/discord/render.ts';
import { renderSlack, slackAction } from '../../bot/slack/render.ts';
import { renderText } from '../../bot/console/render.ts';
import { driftAlert } from '../../monitor/alerts.ts';
import type { Alert } from '../../monitor/types.ts';
import { failedBackup, LONG_UPID, UPID } from './support/alerts.ts';


const drift = driftAlert({ phase: 'phase0', actionCount: 2, lines: ['~ vm/300 (app-host): memory', '~ vm/100 (edge-gateway): tags'], hash: 'h1' }, Date.parse('2026-11-26T02:00:00.000Z'));

describe('alert replies', () => {
  it('a failed backup offers Show log and Plan a retry (no Snooze: it is alerted once anyway); a drift alert Plan a fix and Snooze', () => {
    expect(alertToReply(failedBackup(UPID)).buttons).toEqual([
      { action: 'show-log', arg: UPID, label: 'Show log', style: 'secondary' },
      { action: 'plan-retry', arg: '300', label: 'Plan a retry of VM 300', style: 'primary' },
    ]);
    expect(alertToReply(failedBackup(UPID)).next).toBe('/jarvis retry 300');
    expect(alertToReply(drift).buttons?.map((b) => `${b.action}:${b.arg}`)).toEqual(['plan-fix:phase0', 'snooze:drift']);
  });

  it('a condition alert without its own Snooze gets one for its key', () => {
    const missing: Alert = { key: 'backup-missing:300', kind: 'backup-missing', severity: 'warning', title: 'No backup of VM 300', lines: [], actions: [{ id: 'plan-retry:300', label: 'Plan a retry of VM 300' }], raisedAt: '2026-11-26T02:00:00.000Z' };
    expect(alertToReply(missing).buttons?.map((b) => `${b.action}:${b.arg}`)).toEqual(['plan-retry:300', 'snooze:backup-missing:300']);
  });
});

describe('Discord: alerts with buttons', () => {
  it('renders a failed-backup alert: critical colour, log tail, one row of buttons', () => {
    const message = renderDiscord(alertToReply(failedBackup(UPID)));
    expect(message).toMatchSnapshot();
    expect(message.components[0]?.components.map((b) => parseButtonId(b.custom_id))).toEqual([
      { action: 'show-log', arg: UPID },
      { action: 'plan-retry', arg: '300' },
    ]);
  });

  it('keeps custom ids within 100 characters: a long UPID becomes a stored token', () => {
    const stored = new Map<string, string>();
    const shorten = (value: string): string => {
      stored.set('t0k3n', value);
      return 't0k3n';
    };
    const message = renderDiscord(alertToReply(failedBackup(LONG_UPID)), { shortenArg: shorten });
    const ids = message.components.flatMap((row) => row.components.map((b) => b.custom_id));
    expect(`jarvis:show-log:${LONG_UPID}`.length).toBeGreaterThan(100);
    expect(ids).toEqual(['jarvis:show-log:~t0k3n', 'jarvis:plan-retry:300']);
    for (const id of ids) expect(id.length).toBeLessThanOrEqual(100);
    expect(stored.get('t0k3n')).toBe(LONG_UPID);
    // Without a token store the button is left out rather than sent with an id Discord would reject.
    expect(renderDiscord(alertToReply(failedBackup(LONG_UPID))).components[0]?.components.map((b) => b.custom_id)).toEqual(['jarvis:plan-retry:300']);
  });

  it('puts more than five buttons on several rows', () => {
    const many = { ...failedBackup(UPID), actions: [100, 300, 400, 500, 600, 700].map((vmid) => ({ id: `plan-retry:${vmid}`, label: `Retry ${vmid}` })) };
    const message = renderDiscord(alertToReply(many));
    expect(message.components.map((row) => row.components.length)).toEqual([5, 1]);
  });
});

describe('Slack: alerts with buttons', () => {
  it('renders a drift alert and a failed-backup alert as Block Kit with an actions block', () => {
    expect(renderSlack(alertToReply(drift))).toMatchSnapshot();
    expect(renderSlack(alertToReply(failedBackup(UPID)))).toMatchSnapshot();
  });

  it('gives two buttons of one action distinct action ids and carries the full UPID in the value', () => {
    const two = { ...failedBackup(LONG_UPID), actions: [{ id: `show-log:${LONG_UPID}`, label: 'Show log' }, { id: 'plan-retry:100', label: 'Retry 100' }, { id: 'plan-retry:300', label: 'Retry 300' }] };
    const actions = renderSlack(alertToReply(two)).blocks.find((b) => b.type === 'actions');
    const elements = actions?.type === 'actions' ? actions.elements : [];
    expect(elements.map((e) => [e.action_id, e.value])).toEqual([
      ['jarvis_show-log', LONG_UPID],
      ['jarvis_plan-retry', '100'],
      ['jarvis_plan-retry_1', '300'],
    ]);
    expect(elements.map((e) => slackAction(e.action_id))).toEqual(['show-log', 'plan-retry', 'plan-retry']);
    expect(slackAction('jarvis_rm-rf')).toBeUndefined();
  });
});

describe('console: buttons as the commands they stand for', () => {
  it('prints each follow-up as [label] /jarvis …', () => {
    const text = renderText(alertToReply(failedBackup(UPID)));
    expect(text).toContain(`  [Show log] /jarvis log ${UPID}`);
    expect(text).toContain('  [Plan a retry of VM 300] /jarvis retry 300');
    expect(renderText(alertToReply(drift))).toContain('  [Snooze] /jarvis snooze drift');
  });
});
