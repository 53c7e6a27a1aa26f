// Slack HTTP mode: every request must carry a valid signing-secret signature; anything else gets 401 and runs nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSlack, type SlackAdapter } from '../../bot/slack/adapter.ts';
import { Secret } from '../../lib/secret.ts';
import { FakeSlack, signSlackRequest } from '../fakes/slack.ts';
import { createHarness, withTimeout, type Harness } from './support/harness.ts';

const SIGNING_SECRET = 'fake-signing-secret-0123456789';
let fake: FakeSlack;
let harness: Harness;
let adapter: SlackAdapter | undefined;

beforeEach(async () => {
  fake = await new FakeSlack().start();
  harness = createHarness();
});

afterEach(async () => {
  if (adapter) await withTimeout(adapter.stop(), 2000, 'slack app stop');
  adapter = undefined;
  await fake.stop();
  harness.close();
});

const start = async () => {
  adapter = await startSlack({
    botToken: new Secret('xoxb-fake-bot-token'),
    mode: { kind: 'http', signingSecret: new Secret(SIGNING_SECRET), host: '127.0.0.1', port: 0 },
    dispatcher: harness.dispatcher,
    apiUrl: fake.apiUrl,
    retries: 0,
    log: () => undefined,
  });
  return adapter.httpUrl as string;
};

const slashBody = (text: string) =>
  new URLSearchParams({ ...(fake.slashCommand('U0OWNER', text) as Record<string, string>) }).toString();

async function post(url: string, body: string, headers: Record<string, string>) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
  return { status: response.status, text: await response.text() };
}

describe('Slack HTTP mode', () => {
  it('listens only on the address it was given', async () => {
    const url = await start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/slack\/events$/);
    // Every spelling of "every address", not only 0.0.0.0 and ::.
    for (const host of ['0.0.0.0', '0', '::', '::0', '0:0:0:0:0:0:0:0', '::ffff:0.0.0.0', '']) {
      await expect(
        startSlack({
          botToken: new Secret('xoxb-x'),
          mode: { kind: 'http', signingSecret: new Secret(SIGNING_SECRET), host, port: 0 },
          dispatcher: harness.dispatcher,
          apiUrl: fake.apiUrl,
          retries: 0,
          log: () => undefined,
        }),
      ).rejects.toThrow(/SLACK_HTTP_LISTEN on a LAN or tailnet address, not every address/);
    }
  });

  it('runs a correctly signed /jarvis command and acks in the HTTP response', async () => {
    const url = await start();
    const body = slashBody('plan phase0');
    const response = await post(url, body, signSlackRequest(SIGNING_SECRET, body));
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text)).toEqual({ response_type: 'ephemeral', text: 'Working on `/jarvis plan phase0`…' });
    await fake.waitForApi((c) => c.method === 'reactions.add' && c.body.name === 'x', 'plan message with reactions');
    expect(fake.api('chat.postMessage')).toHaveLength(1);
    expect(harness.services.plans.size).toBe(1);
  });

  it('answers 401 to a bad, stale or missing signature and runs nothing', async () => {
    const url = await start();
    const body = slashBody('plan phase0');
    const wrongSecret = await post(url, body, signSlackRequest('not-the-secret', body));
    const stale = await post(url, body, signSlackRequest(SIGNING_SECRET, body, Math.floor(Date.now() / 1000) - 6 * 60));
    const missing = await post(url, body, {});
    const tampered = await post(url, slashBody('plan phase1'), signSlackRequest(SIGNING_SECRET, body));
    expect([wrongSecret.status, stale.status, missing.status, tampered.status]).toEqual([401, 401, 401, 401]);
    // A signed command afterwards proves the server was listening and idle: only it reaches the services.
    const statusBody = slashBody('status');
    const ok = await post(url, statusBody, signSlackRequest(SIGNING_SECRET, statusBody));
    expect(ok.status).toBe(200);
    await fake.waitForApi((c) => c.method === 'chat.postMessage', 'status reply');
    expect(harness.services.plans.size).toBe(0);
    expect(fake.api('chat.postMessage')).toHaveLength(1);
  });
});
