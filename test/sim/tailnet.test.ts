import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startSim, type RunningSim } from '../../sim/server.ts';

let sim: RunningSim;

beforeAll(async () => {
  sim = await startSim({ scenario: 'phase2', taskSeconds: 0.05 });
});
afterAll(async () => {
  await sim.close();
});

async function api(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const res = await request(`${sim.tailscaleUrl}/api/v2${path}`, {
    method: (init.method ?? 'GET') as 'GET',
    headers: { authorization: `Bearer ${sim.tailscaleApiKey}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

describe('simulated tailnet', () => {
  it('requires the API key', async () => {
    const res = await request(`${sim.tailscaleUrl}/api/v2/tailnet/-/devices`, { headers: { authorization: 'Bearer tskey-api-wrong' } });
    expect(res.statusCode).toBe(401);
    expect(await res.body.json()).toEqual({ message: expect.any(String) });
  });

  it('lists devices with the real field names; fields=default omits the detail fields', async () => {
    const all = JSON.parse((await api('/tailnet/-/devices?fields=all')).text) as { devices: Array<Record<string, unknown>> };
    const edge = all.devices.find((d) => d.hostname === 'edge-gateway')!;
    for (const field of ['id', 'nodeId', 'name', 'addresses', 'advertisedRoutes', 'enabledRoutes', 'connectedToControl', 'authorized', 'keyExpiryDisabled', 'clientConnectivity', 'tags', 'isEphemeral']) {
      expect(edge).toHaveProperty(field);
    }
    expect(edge.name).toMatch(/^edge-gateway\..+\.ts\.net$/);
    const plain = JSON.parse((await api('/tailnet/-/devices')).text) as { devices: Array<Record<string, unknown>> };
    expect(plain.devices[0]).not.toHaveProperty('advertisedRoutes');
  });

  it('reads and replaces enabled routes', async () => {
    const edge = [...sim.lab.tailnet.devices.values()].find((d) => d.hostname === 'edge-gateway')!;
    const routes = JSON.parse((await api(`/device/${edge.nodeId}/routes`)).text);
    expect(routes).toEqual({ advertisedRoutes: ['10.10.20.0/24', '10.10.30.0/24'], enabledRoutes: ['10.10.20.0/24', '10.10.30.0/24'] });
    const set = await api(`/device/${edge.nodeId}/routes`, { method: 'POST', body: { routes: ['10.10.20.0/24'] } });
    expect(JSON.parse(set.text).enabledRoutes).toEqual(['10.10.20.0/24']);
  });

  it('serves the policy as JSON only when asked, with an ETag; lists keys', async () => {
    const json = await api('/tailnet/-/acl', { headers: { accept: 'application/json' } });
    expect(JSON.parse(json.text)).toHaveProperty('acls');
    expect(json.headers.etag).toMatch(/^"[0-9a-f]+"$/);
    const hujson = await api('/tailnet/-/acl');
    expect(hujson.text.startsWith('//')).toBe(true);
    expect(JSON.parse((await api('/tailnet/-/keys')).text).keys[0]).toMatchObject({ keyType: 'auth', capabilities: { devices: { create: expect.any(Object) } } });
  });

  it('adds devices when a guest joins', () => {
    const device = sim.lab.tailnet.upsertDevice({ hostname: 'app-host', tags: ['tag:server'] });
    expect(sim.lab.tailnet.device(device.nodeId)).toBe(device);
    expect(sim.lab.tailnet.upsertDevice({ hostname: 'app-host' })).toBe(device);
  });
});
