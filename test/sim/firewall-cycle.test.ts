// pve-firewall applies configuration on its update cycle (pve_firewall.pm, $updatetime = 10 s): until then the
// previous ruleset is in force, and `pve-firewall status` on the node says "(pending changes)".
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { startSim, type RunningSim } from '../../sim/server.ts';
import { agentFor, call, sshToNode } from './helpers.ts';

let sim: RunningSim | undefined;
const agents: Agent[] = [];
const closers: Array<() => void> = [];

afterEach(async () => {
  for (const close of closers.splice(0)) close();
  for (const agent of agents.splice(0)) await agent.close();
  await sim?.close();
  sim = undefined;
});

async function freshCall(s: RunningSim): Promise<number | 'refused'> {
  const agent = agentFor(s);
  agents.push(agent);
  try {
    return (await call(s, agent, 'GET', '/version')).status;
  } catch {
    return 'refused';
  }
}

describe("pve-firewall's update cycle", () => {
  it('is 10 s at the default task duration and scales with --task-seconds', async () => {
    sim = await startSim({ scenario: 'fresh', taskSeconds: 0.3 });
    expect(sim.lab.firewall.cycleSeconds()).toBeCloseTo(1, 6);
    await sim.close();
    sim = await startSim({ scenario: 'fresh' });
    expect(sim.lab.firewall.cycleSeconds()).toBe(10);
  });

  it('keeps the old ruleset in force until the next cycle: a change that cuts management bites only then', async () => {
    sim = await startSim({ scenario: 'phase0', taskSeconds: 0.3 });
    const established = new Agent({ connect: { ca: sim.caPem, servername: 'proxmox' }, keepAliveTimeout: 60_000, connections: 1 });
    agents.push(established);
    const ssh = await sshToNode(sim);
    closers.push(ssh.close);
    expect(await ssh.run('pve-firewall status')).toMatchObject({ code: 0, out: 'Status: disabled/running' });

    // Hold the loop between two cycles for as long as the checks take.
    const release = sim.lab.firewall.hold();
    expect((await call(sim, established, 'PUT', '/cluster/firewall/options', { enable: '1', policy_in: 'DROP' })).status).toBe(200);
    expect((await call(sim, established, 'POST', '/cluster/firewall/rules', { type: 'in', action: 'DROP', enable: '1', comment: 'deny all' })).status).toBe(200);
    const cyclesBefore = sim.lab.firewall.cycles;
    // Written, not loaded: new connections still get in, and the node says so.
    expect(await freshCall(sim)).toBe(200);
    expect((await ssh.run('pve-firewall status')).out).toBe('Status: enabled/running (pending changes)');

    // The loop's own next cycle loads it.
    release();
    await sim.lab.firewall.nextCycle();
    expect(sim.lab.firewall.cycles).toBe(cyclesBefore + 1);
    expect(await freshCall(sim)).toBe('refused');
    // The established SSH session survives (conntrack ESTABLISHED) and sees the loaded state.
    expect((await ssh.run('pve-firewall status')).out).toBe('Status: enabled/running');

    // Reverting over the established API connection: locked out until the next cycle loads the revert.
    const releaseAgain = sim.lab.firewall.hold();
    expect((await call(sim, established, 'DELETE', '/cluster/firewall/rules/0')).status).toBe(200);
    expect(await freshCall(sim)).toBe('refused');
    expect((await ssh.run('pve-firewall status')).out).toBe('Status: enabled/running (pending changes)');
    releaseAgain();
    await sim.lab.firewall.nextCycle();
    expect(await freshCall(sim)).toBe(200);
  });

  it('applies at once on `pve-firewall restart` (the daemon starts with an update); `stop` removes the rules', async () => {
    sim = await startSim({ scenario: 'phase0', taskSeconds: 0.05 });
    const ssh = await sshToNode(sim);
    closers.push(ssh.close);
    sim.lab.firewall.hold();
    sim.lab.setClientSource('100.101.102.7');
    expect((await call(sim, agentFor(sim), 'PUT', '/cluster/firewall/options', { enable: '1', policy_in: 'DROP' })).status).toBe(200);
    expect(await freshCall(sim)).toBe(200);
    expect((await ssh.run('pve-firewall restart')).code).toBe(0);
    expect(await freshCall(sim)).toBe('refused');
    expect((await ssh.run('pve-firewall status')).out).toBe('Status: enabled/running');
    expect((await ssh.run('pve-firewall stop')).code).toBe(0);
    expect(await freshCall(sim)).toBe(200);
    expect((await ssh.run('pve-firewall status')).out).toBe('Status: enabled/stopped');
  });

  it('answers unknown subcommands as the CLI does and is not a guest tool', async () => {
    sim = await startSim({ scenario: 'fresh', taskSeconds: 0.05 });
    const ssh = await sshToNode(sim);
    closers.push(ssh.close);
    const wrong = await ssh.run('pve-firewall frobnicate');
    expect(wrong.code).toBe(255);
    expect(wrong.err).toContain("ERROR: unknown command 'pve-firewall frobnicate'");
    expect((await ssh.run('pve-firewall compile')).code).toBe(1);
  });
});
