// Slack: the bot token is valid and holds the manifest's scopes; in Socket Mode the app token can open a
// connection (the URL is not dialled, so no event goes to the doctor instead of the running bot).
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import type { JarvisConfig } from '../../lib/config.ts';
import { fail, pass, warn, type CheckResult } from './result.ts';
import type { HttpExchange } from './http.ts';

const SLACK_API = 'https://slack.com/api/';
const MANIFEST_URL = new URL('../../slack-app-manifest.yaml', import.meta.url);

const manifest = z.object({ oauth_config: z.object({ scopes: z.object({ bot: z.array(z.string()) }) }) });
const authTest = z.looseObject({ ok: z.literal(true), user: z.string(), team: z.string() });
const slackError = z.looseObject({ ok: z.literal(false), error: z.string() });

/** The bot scopes the shipped manifest asks for. */
export function manifestBotScopes(file: URL | string = MANIFEST_URL): string[] {
  return manifest.parse(parse(readFileSync(file, 'utf8'))).oauth_config.scopes.bot;
}

function errorOf(body: unknown): string {
  const parsed = slackError.safeParse(body);
  return parsed.success ? parsed.data.error : 'not a Slack API answer';
}

export async function checkSlack(slack: JarvisConfig['slack'], http: HttpExchange, requiredScopes: string[]): Promise<CheckResult[]> {
  if (!slack) return [warn('slack', 'Slack: not configured', 'set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode) to chat from Slack; create the app from slack-app-manifest.yaml')];
  const base = slack.apiUrl ?? SLACK_API;
  const call = (method: string, token: string) =>
    http({ method: 'POST', url: `${base}${method}`, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
  const results: CheckResult[] = [];

  const auth = await call('auth.test', slack.botToken.reveal());
  const who = authTest.safeParse(auth.body);
  if (!who.success) {
    results.push(fail('slack.token', `Slack: auth.test with SLACK_BOT_TOKEN failed: ${errorOf(auth.body)}`, 'OAuth & Permissions → Bot User OAuth Token (xoxb-…) → SLACK_BOT_TOKEN; reinstall the app if it was revoked'));
  } else {
    results.push(pass('slack.token', `Slack: bot token valid (@${who.data.user} in ${who.data.team})`));
    const granted = auth.headers['x-oauth-scopes'];
    if (granted !== undefined) {
      const have = new Set(granted.split(',').map((s) => s.trim()));
      const missing = requiredScopes.filter((s) => !have.has(s));
      results.push(
        missing.length === 0
          ? pass('slack.scopes', `Slack: the bot holds the ${requiredScopes.length} scopes of slack-app-manifest.yaml`)
          : fail('slack.scopes', `Slack: the bot lacks the scopes ${missing.join(', ')}`, 'add them under OAuth & Permissions (or update the app from slack-app-manifest.yaml) and reinstall the app'),
      );
    }
  }

  if (slack.appToken) {
    const open = await call('apps.connections.open', slack.appToken.reveal());
    const url = (open.body as { ok?: unknown; url?: unknown } | undefined)?.url;
    results.push(
      typeof url === 'string'
        ? pass('slack.socket', 'Slack: Socket Mode available (apps.connections.open issued a connection URL)')
        : fail('slack.socket', `Slack: apps.connections.open with SLACK_APP_TOKEN failed: ${errorOf(open.body)}`, 'Basic Information → App-Level Tokens: one with connections:write (xapp-…) → SLACK_APP_TOKEN; Socket Mode must be on'),
    );
  } else {
    results.push(warn('slack.socket', `Slack: HTTP mode on ${slack.httpListen ?? '(unset)'}; Slack must reach that address, which the doctor cannot check from here`, 'prefer Socket Mode (SLACK_APP_TOKEN): no inbound port'));
  }
  return results;
}
