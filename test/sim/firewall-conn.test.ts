import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { Agent } from 'undici';
import { startSim, type RunningSim } from '../../sim/server.ts';
import { agentFor, call } from './helpers.ts';

let sim: RunningSim | undefined;
const agents: Agent[] = [];

afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.close();
  await sim?.close();
});

/** Opens a TCP connection and reports whether the server talked back before closing (SSH banner) or reset it. */
function probeSsh(port: number): Promise<'banner' | 'refused'> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString()));
    socket.on('close', () => resolve(data.startsWith('SSH-2.0-') ? 'banner' : 'refused'));
    socket.on('error', () => resolve('refused'));
  });
}

async function freshCall(s: RunningSim, path: string): Promise<number | 'refused'> {
  const agent = agentFor(s);
  agents.push(agent);
  try {
    return (await call(s, agent, 'GET', path)).status;
  } catch {
    return 'refused';
  }
}

describe('connection-level firewall', () => {
  it('drops new connections once a rule change locks the client out, while an established one keeps working', async () => {
    sim = await startSim({ scenario: 'phase0', taskSeconds: 0.05 });
    const established = new Agent({ connect: { ca: sim.caPem, servername: 'proxmox' }, keepAliveTimeout: 60_000, connections: 1 });
    agents.push(established);
    expect((await call(sim, established, 'GET', '/version')).status).toBe(200);
    expect(await probeSsh(sim.mgmtSshPort)).toBe('banner');

    // Turn the datacenter firewall on with policy DROP and no management rule: a lock-out.
    expect((await call(sim, established, 'PUT', '/cluster/firewall/options', { enable: '1', policy_in: 'DROP' })).status).toBe(200);
    expect(await freshCall(sim, '/version')).toBe('refused');
    expect(await probeSsh(sim.mgmtSshPort)).toBe('refused');

    // The established connection reverts the change; new connections work again.
    expect((await call(sim, established, 'PUT', '/cluster/firewall/options', { enable: '0' })).status).toBe(200);
    expect(await freshCall(sim, '/version')).toBe(200);
    expect(await probeSsh(sim.mgmtSshPort)).toBe('banner');
  });

  it('judges the configured client source against the rules (phase 2: admin LAN allowed, IOT dropped)', async () => {
    sim = await startSim({ scenario: 'phase2', taskSeconds: 0.05 });
    expect(await freshCall(sim, '/version')).toBe(200);
    sim.lab.setClientSource('10.10.30.40');
    expect(await freshCall(sim, '/version')).toBe('refused');
    expect(await probeSsh(sim.mgmtSshPort)).toBe('refused');
    sim.lab.setClientSource('100.101.102.7');
    expect(await freshCall(sim, '/version')).toBe(200);
  });

  it('locks the admin LAN out when its ACCEPT rule is deleted', async () => {
    sim = await startSim({ scenario: 'phase2', taskSeconds: 0.05 });
    const rules = sim.lab.clusterFirewall.rules;
    const webUi = rules.findIndex((r) => r.comment === 'admin LAN to the web UI');
    sim.lab.deleteFirewallRule('cluster', webUi);
    expect(await freshCall(sim, '/version')).toBe('refused');
    expect(await probeSsh(sim.mgmtSshPort)).toBe('banner');
  });
});
