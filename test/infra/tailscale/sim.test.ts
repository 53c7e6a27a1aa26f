// The Tailscale client against the simulator's tailnet: devices with the API's field names, route approval and
// the policy file with a Funnel node attribute.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type RunningSim } from '../../../sim/server.ts';
import { createTailnetClient, TailnetError, type TailnetClient } from '../../../infra/tailscale/client.ts';
import { Secret } from '../../../lib/secret.ts';

let sim: RunningSim;
let tailnet: TailnetClient;

beforeAll(async () => {
  sim = await startSim({ scenario: 'fresh', seed: 3 });
  tailnet = createTailnetClient({ baseUrl: sim.tailscaleUrl, tailnet: '-', apiKey: new Secret(sim.tailscaleApiKey) });
});
afterAll(async () => {
  await tailnet?.close();
  await sim?.close();
});

describe('tailnet client against the simulator', () => {
  it('lists a joined device with its routes and approves them', async () => {
    sim.lab.tailnet.upsertDevice({ hostname: 'client-gw', advertisedRoutes: ['10.10.20.0/24', '10.10.30.0/24'] });
    const device = (await tailnet.listDevices()).find((d) => d.hostname === 'client-gw');
    expect(device).toMatchObject({ advertisedRoutes: ['10.10.20.0/24', '10.10.30.0/24'], enabledRoutes: [] });
    expect(device?.addresses[0]).toMatch(/^100\./);

    await tailnet.setEnabledRoutes(device!.nodeId, ['10.10.20.0/24']);
    const after = (await tailnet.listDevices()).find((d) => d.hostname === 'client-gw');
    expect(after?.enabledRoutes).toEqual(['10.10.20.0/24']);
  });

  it('reads the policy file, including a Funnel node attribute', async () => {
    sim.lab.tailnet.policy = {
      ...sim.lab.tailnet.policy,
      nodeAttrs: [{ target: ['autogroup:member'], attr: ['funnel'] }],
    };
    const policy = await tailnet.getPolicy();
    expect(policy.nodeAttrs?.some((entry) => entry.attr.includes('funnel'))).toBe(true);
  });

  it('gets a 404 TailnetError for an unknown device', async () => {
    const error = await tailnet.setEnabledRoutes('nNoSuchDeviceCNTRL', []).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TailnetError);
    expect((error as TailnetError).status).toBe(404);
  });

  it('gets a 401 for a wrong API key', async () => {
    const wrong = createTailnetClient({ baseUrl: sim.tailscaleUrl, tailnet: '-', apiKey: new Secret('tskey-api-wrong') });
    try {
      const error = await wrong.listDevices().catch((e: unknown) => e);
      expect((error as TailnetError).status).toBe(401);
    } finally {
      await wrong.close();
    }
  });
});
