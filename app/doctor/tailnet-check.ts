// Tailscale: the API credentials work and reach what Jarvis reads (devices with their routes, the policy file),
// and the auth key file guests join with is readable by Jarvis alone.
import { readFileSync, statSync } from 'node:fs';
import type { TailnetApi } from '../../infra/tailscale/api.ts';
import { TailnetError } from '../../infra/tailscale/client.ts';
import type { JarvisConfig } from '../../lib/config.ts';
import { fail, pass, warn, type CheckResult } from './result.ts';

/** What each call needs from an OAuth client (scopes as the Tailscale admin console names them). */
const SCOPES = { devices: 'devices:core:read + devices:routes', policy: 'policy_file:read' } as const;

function failure(id: string, what: string, scope: string, error: unknown, credential: string): CheckResult {
  if (error instanceof TailnetError && error.status === 401) {
    const renew = credential === 'API key' ? 'the key expired or was revoked: create an OAuth client instead' : 'the client was deleted or its secret rotated: create a new one';
    return fail(id, `Tailscale: ${credential} rejected (${error.apiMessage || 'HTTP 401'})`, `${renew} (admin console → Settings → OAuth clients) and set TAILSCALE_OAUTH_CLIENT_ID / TAILSCALE_OAUTH_CLIENT_SECRET`);
  }
  if (error instanceof TailnetError && error.status === 403) {
    return fail(id, `Tailscale: ${credential} may not ${what} (${error.apiMessage || 'HTTP 403'})`, `give the OAuth client the scope ${scope}`);
  }
  return fail(id, `Tailscale: cannot ${what}: ${error instanceof Error ? error.message : String(error)}`, 'check TAILSCALE_API_URL and TAILSCALE_TAILNET ("-" for the credential\'s own tailnet)');
}

export async function checkTailnet(tailscale: JarvisConfig['tailscale'], tailnet: TailnetApi | undefined): Promise<CheckResult[]> {
  if (!tailnet) {
    return [warn('tailscale', 'Tailscale: no API credentials; tailnet status, route approval and Funnel checks are off', 'set TAILSCALE_OAUTH_CLIENT_ID and TAILSCALE_OAUTH_CLIENT_SECRET (scopes devices:core:read, devices:routes, policy_file:read)')];
  }
  const credential = tailscale.oauth ? `OAuth client ${tailscale.oauth.clientId}` : 'API key';
  const results: CheckResult[] = [];
  try {
    const devices = await tailnet.listDevices();
    const online = devices.filter((d) => d.connectedToControl).length;
    results.push(pass('tailscale.devices', `Tailscale: ${credential} lists ${devices.length} devices (${online} online) in tailnet ${tailscale.tailnet}`));
  } catch (error) {
    results.push(failure('tailscale.devices', 'list devices', SCOPES.devices, error, credential));
  }
  try {
    await tailnet.getPolicy();
    results.push(pass('tailscale.policy', `Tailscale: ${credential} reads the policy file (Funnel check)`));
  } catch (error) {
    results.push(failure('tailscale.policy', 'read the policy file', SCOPES.policy, error, credential));
  }
  if (tailscale.apiKey && !tailscale.oauth) {
    results.push(warn('tailscale.credential', 'Tailscale: an API key carries all its owner\'s rights and expires within 90 days', 'prefer an OAuth client limited to the scopes above'));
  }
  results.push(checkAuthKeyFile(tailscale.authKeyFile));
  return results;
}

/** The key guests join with: read here, shown nowhere. */
export function checkAuthKeyFile(path: string | undefined): CheckResult {
  const id = 'tailscale.authkey';
  if (!path) return warn(id, 'Tailscale: TAILSCALE_AUTHKEY_FILE is not set; guests cannot join the tailnet (tailscale.join steps)', 'generate an auth key (reusable, pre-approved, tagged) and name its file in TAILSCALE_AUTHKEY_FILE');
  let mode: number;
  let text: string;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, 'utf8').trim();
  } catch (error) {
    return fail(id, `Tailscale: TAILSCALE_AUTHKEY_FILE=${path}: cannot read (${error instanceof Error ? error.message : String(error)})`, 'create the file, readable by the jarvis user');
  }
  if (!/^tskey-auth-\S+$/.test(text)) {
    return fail(id, `Tailscale: TAILSCALE_AUTHKEY_FILE=${path} does not hold an auth key (tskey-auth-…)`, 'put the auth key alone in the file');
  }
  if ((mode & 0o007) !== 0) {
    return fail(id, `Tailscale: TAILSCALE_AUTHKEY_FILE=${path} is open to every user (mode ${(mode & 0o777).toString(8)})`, `chmod o-rwx ${path} (0600, or 0640 with group jarvis)`);
  }
  return pass(id, `Tailscale: auth key file ${path} holds an auth key and is closed to other users`);
}
