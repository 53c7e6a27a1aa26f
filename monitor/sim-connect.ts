// The `--sim` path of `jarvis status` / `jarvis watch` and the status benchmark: start the simulated lab in-process
// and connect the real clients to it (TLS pinned to the simulator's certificate). Only these paths load sim/.
import { createProxmoxClient } from '../infra/proxmox/client.ts';
import { createTailnetClient } from '../infra/tailscale/client.ts';
import { InputError } from '../lib/errors.ts';
import { registerSecret, Secret } from '../lib/secret.ts';
import type { RunningSim, SimOptions } from '../sim/server.ts';
import type { MonitorConnection } from './connect.ts';

export interface SimConnection extends MonitorConnection {
  sim: RunningSim;
}

/** `--sim SCENARIO`: checks the name against the simulator's scenarios (InputError naming them otherwise). */
export async function simScenario(name: string): Promise<NonNullable<SimOptions['scenario']>> {
  const { SCENARIOS } = await import('../sim/scenarios.ts');
  const found = SCENARIOS.find((s) => s === name);
  if (!found) throw new InputError(`--sim ${name}: unknown scenario; one of ${SCENARIOS.join(', ')}`);
  return found;
}

export async function connectSim(options: SimOptions): Promise<SimConnection> {
  const { startSim } = await import('../sim/server.ts');
  const sim = await startSim(options);
  const proxmox = createProxmoxClient({
    url: sim.url,
    node: sim.node,
    tokenId: sim.tokenId,
    tokenSecret: registerSecret(new Secret(sim.tokenSecret)),
    fingerprint: sim.fingerprint,
  });
  const tailnet = createTailnetClient({ baseUrl: sim.tailscaleUrl, tailnet: '-', apiKey: registerSecret(new Secret(sim.tailscaleApiKey)) });
  return {
    ports: { proxmox, tailnet },
    url: sim.url,
    proxmox,
    sim,
    close: async () => {
      await Promise.all([proxmox.close(), tailnet.close()]);
      await sim.close();
    },
  };
}
