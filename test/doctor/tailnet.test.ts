// Doctor's Tailscale check with a tailnet that refuses: the missing scope is named per call.
import { describe, expect, it } from 'vitest';
import { checkTailnet } from '../../app/doctor/tailnet-check.ts';
import type { TailnetApi } from '../../infra/tailscale/api.ts';
import { TailnetError } from '../../infra/tailscale/client.ts';
import { Secret } from '../../lib/secret.ts';

const oauthConfig = { apiUrl: 'http://127.0.0.1:9', tailnet: '-', oauth: { clientId: 'kOauthClient1', clientSecret: new Secret('tskey-client-canary') } };

function tailnet(devices: () => Promise<unknown>, policy: () => Promise<unknown>): TailnetApi {
  return { listDevices: devices as TailnetApi['listDevices'], getPolicy: policy as TailnetApi['getPolicy'], setEnabledRoutes: async () => undefined };
}

describe('doctor: Tailscale scopes', () => {
  it('names the scope each refused call needs', async () => {
    const results = await checkTailnet(
      oauthConfig,
      tailnet(
        async () => [],
        async () => Promise.reject(new TailnetError(403, 'calling actor does not have enough permissions', 'GET /tailnet/{tailnet}/acl')),
      ),
    );
    expect(results.find((r) => r.id === 'tailscale.devices')).toMatchObject({ status: 'pass', summary: 'Tailscale: OAuth client kOauthClient1 lists 0 devices (0 online) in tailnet -' });
    expect(results.find((r) => r.id === 'tailscale.policy')).toMatchObject({ status: 'fail', fix: 'give the OAuth client the scope policy_file:read' });
    expect(results.map((r) => r.id)).not.toContain('tailscale.credential');
  });

  it('fails a rejected OAuth client on every call, without its secret', async () => {
    const refused = async () => Promise.reject(new TailnetError(401, 'invalid client', 'POST /api/v2/oauth/token'));
    const results = await checkTailnet(oauthConfig, tailnet(refused, refused));
    expect(results.filter((r) => r.status === 'fail').map((r) => r.id)).toEqual(['tailscale.devices', 'tailscale.policy']);
    expect(results[0]!.summary).toBe('Tailscale: OAuth client kOauthClient1 rejected (invalid client)');
    expect(JSON.stringify(results)).not.toContain('tskey-client-canary');
  });

  it('warns when no credentials are configured', async () => {
    expect(await checkTailnet({ apiUrl: 'http://127.0.0.1:9', tailnet: '-' }, undefined)).toEqual([expect.objectContaining({ id: 'tailscale', status: 'warn' })]);
  });
});
