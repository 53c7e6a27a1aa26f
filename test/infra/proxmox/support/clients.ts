// Builds Proxmox clients for tests and closes them afterwards.
import { afterEach } from 'vitest';
import { createProxmoxClient, type ProxmoxClient, type ProxmoxClientOptions } from '../../../../infra/proxmox/client.ts';
import { Secret } from '../../../../lib/secret.ts';

export const TOKEN_ID = 'jarvis@pve!bot';
export const TOKEN_SECRET = '3f1b6e0c-8a4d-4c2b-9e7f-1a2b3c4d5e6f';

const open: ProxmoxClient[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((client) => client.close()));
});

/** A client with fast retries and task polling; closed after the test. */
export function testClient(
  target: { url: string; fingerprint?: string },
  overrides: Partial<ProxmoxClientOptions> = {},
): ProxmoxClient {
  const client = createProxmoxClient({
    url: target.url,
    fingerprint: target.fingerprint,
    tokenId: TOKEN_ID,
    tokenSecret: new Secret(TOKEN_SECRET),
    retryDelayMs: 5,
    taskPolling: { initialDelayMs: 5, maxDelayMs: 20 },
    ...overrides,
  });
  open.push(client);
  return client;
}
