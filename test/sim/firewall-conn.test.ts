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

/** Opens a TCP connection and reports whether the SSH server greeted it (banner) or the connection was dropped. */
function probeSsh(port: number): Promise<'banner' | 'refused'> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.startsWith('SSH-2.0-')) {
        resolve('banner');
        socket.destroy();
      }
    });
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

    // Firewall on with policy DROP: the LAN still gets in through PVE's implicit management rules…
    expect((await call(sim, established, 'PUT', '/cluster/firewall/options', { enable: '1', policy_in: 'DROP' })).status).toBe(200);
    await sim.lab.firewall.nextCycle();
    expect(await freshCall(sim, '/version')).toBe(200);
    // …until a rule placed before them drops everything: a lock-out, once pve-firewall's next cycle loaded it.
    expect((await call(sim, established, 'POST', '/cluster/firewall/rules', { type: 'in', action: 'DROP', enable: '1', comment: 'deny all' })).status).toBe(200);
    await sim.lab.firewall.nextCycle();
    expect(await freshCall(sim, '/version')).toBe('refused');
    expect(await probeSsh(sim.mgmtSshPort)).toBe('refused');

    // The established connection reverts the change; new connections work again after the next cycle.
    expect((await call(sim, established, 'DELETE', '/cluster/firewall/rules/0')).status).toBe(200);
    await sim.lab.firewall.nextCycle();
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

  it('locks a tailnet client out when its ACCEPT rule is deleted; the LAN keeps the implicit management access', async () => {
    sim = await startSim({ scenario: 'phase2', taskSeconds: 0.05 });
    const rules = sim.lab.clusterFirewall.rules;
    sim.lab.deleteFirewallRule('cluster', rules.findIndex((r) => String(r.comment).startsWith('admin LAN to the web UI')));
    sim.lab.firewall.runCycle();
    expect(await freshCall(sim, '/version')).toBe(200);
    sim.lab.deleteFirewallRule('cluster', rules.findIndex((r) => String(r.comment).startsWith('Tailscale management')));
    sim.lab.firewall.runCycle();
    sim.lab.setClientSource('100.101.102.7');
    expect(await freshCall(sim, '/version')).toBe('refused');
    expect(await probeSsh(sim.mgmtSshPort)).toBe('refused');
  });

  it('honours a datacenter local_network alias and a management IP set', async () => {
    sim = await startSim({ scenario: 'fresh', taskSeconds: 0.05 });
    sim.lab.setClientSource('100.101.102.7');
    sim.lab.clusterFirewall.options = { enable: 1, policy_in: 'DROP' };
    sim.lab.firewall.runCycle();
    expect(await freshCall(sim, '/version')).toBe('refused');
    sim.lab.clusterFirewall.ipsets.set('management', { entries: [{ cidr: '100.64.0.0/10' }] });
    sim.lab.firewall.runCycle();
    expect(await freshCall(sim, '/version')).toBe(200);
    sim.lab.clusterFirewall.ipsets.delete('management');
    sim.lab.setClientSource('192.168.1.20');
    sim.lab.clusterFirewall.aliases.set('local_network', { cidr: '192.168.1.0/28' });
    sim.lab.firewall.runCycle();
    expect(await freshCall(sim, '/version')).toBe('refused');
  });
});
