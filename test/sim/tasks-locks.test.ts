import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Agent } from 'undici';
import { startSim, type RunningSim } from '../../sim/server.ts';
import { agentFor, call, waitTask } from './helpers.ts';

let sim: RunningSim;
let agent: Agent;

beforeEach(async () => {
  sim = await startSim({ scenario: 'phase0', taskSeconds: 0.05 });
  agent = agentFor(sim);
});
/** Replaces the simulator of this test (e.g. one whose tasks never finish on their own). */
async function restart(opts: Parameters<typeof startSim>[0]): Promise<void> {
  await agent.close();
  await sim.close();
  sim = await startSim(opts);
  agent = agentFor(sim);
}

afterEach(async () => {
  await agent.close();
  await sim.close();
});

const UPID = /^UPID:proxmox:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:([a-z]+):(\d*):([^:]+):$/;

describe('tasks', () => {
  it('returns a real-format UPID and serves its status and log', async () => {
    // Long simulated task time, finished by hand: the running state is observed without racing a timer.
    await restart({ scenario: 'phase0', taskSeconds: 600 });
    const stop = await call(sim, agent, 'POST', '/nodes/proxmox/qemu/300/status/stop');
    expect(stop.status).toBe(200);
    const upid = String(stop.body.data);
    expect(upid).toMatch(UPID);
    expect(UPID.exec(upid)!.slice(1)).toEqual(['qmstop', '300', sim.tokenId]);
    const running = await call(sim, agent, 'GET', `/nodes/proxmox/tasks/${encodeURIComponent(upid)}/status`);
    expect(running.body.data).toMatchObject({ status: 'running', type: 'qmstop', id: '300', upid });
    expect(sim.lab.vms.get(300)!.status).toBe('running');
    await sim.lab.tasks.drain();
    expect(await waitTask(sim, agent, upid)).toMatchObject({ status: 'stopped', exitstatus: 'OK' });
    const log = await call(sim, agent, 'GET', `/nodes/proxmox/tasks/${encodeURIComponent(upid)}/log`);
    expect((log.body.data as Array<{ n: number; t: string }>).at(-1)).toEqual({ n: expect.any(Number), t: 'TASK OK' });
    expect(sim.lab.vms.get(300)!.status).toBe('stopped');
  });

  it('fails starting a running VM inside the task, as qemu-server does', async () => {
    const start = await call(sim, agent, 'POST', '/nodes/proxmox/qemu/100/status/start');
    expect(await waitTask(sim, agent, start.body.data)).toMatchObject({ exitstatus: 'VM 100 already running' });
  });

  it('filters the task list by type, errors, vmid, since and limit', async () => {
    sim.lab.failNextTask('qmshutdown');
    const shutdown = await call(sim, agent, 'POST', '/nodes/proxmox/qemu/400/status/shutdown');
    await waitTask(sim, agent, shutdown.body.data);
    const stop = await call(sim, agent, 'POST', '/nodes/proxmox/qemu/300/status/stop');
    await waitTask(sim, agent, stop.body.data);
    const list = async (params: Record<string, string>) => (await call(sim, agent, 'GET', '/nodes/proxmox/tasks', params)).body.data as Array<Record<string, unknown>>;
    expect((await list({ typefilter: 'qmcreate' })).map((t) => t.id).sort()).toEqual(['100', '300', '400']);
    const errors = await list({ errors: '1' });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ type: 'qmshutdown', id: '400' });
    expect(String(errors[0]!.status)).toContain('fault injection');
    // The scenario built VM 300 as the product does: create (disk imported from the cloud image), resize, start.
    expect((await list({ vmid: '300' })).map((t) => t.type)).toEqual(['qmstop', 'qmstart', 'resize', 'qmcreate']);
    expect(await list({ limit: '2' })).toHaveLength(2);
    expect(await list({ since: String(Math.floor(Date.now() / 1000) + 60) })).toEqual([]);
  });
});

describe('locks and digests', () => {
  it('locks VMs during vzdump and blocks conflicting calls with PVE\'s message', async () => {
    await restart({ scenario: 'phase0', taskSeconds: 600 });
    const backup = await call(sim, agent, 'POST', '/nodes/proxmox/vzdump', { vmid: '100', storage: 'local', mode: 'snapshot', compress: 'zstd' });
    expect(backup.status).toBe(200);
    const update = await call(sim, agent, 'PUT', '/nodes/proxmox/qemu/100/config', { memory: '4096' });
    expect(update.status).toBe(500);
    expect(update.statusText).toBe('VM 100 is locked (backup)');
    expect((await call(sim, agent, 'POST', '/nodes/proxmox/qemu/100/snapshot', { snapname: 'pre-change' })).statusText).toBe('VM 100 is locked (backup)');
    const status = await call(sim, agent, 'GET', '/nodes/proxmox/qemu/100/status/current');
    expect(status.body.data).toMatchObject({ lock: 'backup' });
    await sim.lab.tasks.drain();
    expect(await waitTask(sim, agent, backup.body.data)).toMatchObject({ exitstatus: 'OK' });
    expect((await call(sim, agent, 'PUT', '/nodes/proxmox/qemu/100/config', { memory: '4096' })).status).toBe(200);
    const content = await call(sim, agent, 'GET', '/nodes/proxmox/storage/local/content', { content: 'backup' });
    expect(content.body.data).toEqual([expect.objectContaining({ vmid: 100, content: 'backup', volid: expect.stringMatching(/^local:backup\/vzdump-qemu-100-.*\.vma\.zst$/) })]);
  });

  it('rejects a stale digest and accepts the current one', async () => {
    const config = await call(sim, agent, 'GET', '/nodes/proxmox/qemu/300/config');
    const digest = (config.body.data as { digest: string }).digest;
    expect(digest).toMatch(/^[0-9a-f]{40}$/);
    sim.lab.setVmConfig(300, { memory: 6144 });
    const stale = await call(sim, agent, 'PUT', '/nodes/proxmox/qemu/300/config', { memory: '8192', digest });
    expect(stale.status).toBe(500);
    expect(stale.statusText).toBe('detected modified configuration - file changed by other user? Try again.');
    // pveproxy's JSON formatter puts the message in the status line only.
    expect(stale.body).toEqual({ data: null });
    expect(sim.lab.vms.get(300)!.config.memory).toBe('6144');
    const fresh = (await call(sim, agent, 'GET', '/nodes/proxmox/qemu/300/config')).body.data as { digest: string };
    expect((await call(sim, agent, 'PUT', '/nodes/proxmox/qemu/300/config', { memory: '8192', digest: fresh.digest })).status).toBe(200);
  });

  it('rejects stale firewall digests', async () => {
    const options = (await call(sim, agent, 'GET', '/cluster/firewall/options')).body.data as { digest: string };
    expect((await call(sim, agent, 'POST', '/cluster/firewall/rules', { type: 'in', action: 'ACCEPT', source: '192.168.1.0/24', proto: 'tcp', dport: '22', enable: '1' })).status).toBe(200);
    const stale = await call(sim, agent, 'PUT', '/cluster/firewall/options', { enable: '1', digest: options.digest });
    expect(stale.statusText).toBe('detected modified configuration - file changed by other user? Try again.');
  });

  it('refuses to destroy a running VM', async () => {
    const res = await call(sim, agent, 'DELETE', '/nodes/proxmox/qemu/300');
    expect(res.status).toBe(500);
    expect(res.statusText).toBe('VM 300 is running - destroy failed');
  });

  it('fails a snapshot when a disk sits on storage that cannot snapshot', async () => {
    await call(sim, agent, 'PUT', '/storage/local', { content: 'iso,vztmpl,backup,images' });
    const create = await call(sim, agent, 'POST', '/nodes/proxmox/qemu', { vmid: '500', name: 'raw-on-dir', memory: '512', scsi0: 'local:4' });
    expect(await waitTask(sim, agent, create.body.data)).toMatchObject({ exitstatus: 'OK' });
    expect(sim.lab.vms.get(500)!.config.scsi0).toBe('local:500/vm-500-disk-0.raw,size=4G');
    const snap = await call(sim, agent, 'POST', '/nodes/proxmox/qemu/500/snapshot', { snapname: 'before' });
    expect(await waitTask(sim, agent, snap.body.data)).toMatchObject({ exitstatus: 'snapshot feature is not available' });
    expect(sim.lab.vms.get(500)!.config.lock).toBeUndefined();
  });

  it('fails a task type configured with task-fail and logs the error', async () => {
    await restart({ scenario: 'phase0', taskSeconds: 0.05, faults: ['task-fail:vzdump'] });
    const backup = await call(sim, agent, 'POST', '/nodes/proxmox/vzdump', { vmid: '300', storage: 'local' });
    const status = await waitTask(sim, agent, backup.body.data);
    expect(status.exitstatus).toContain('fault injection');
    const log = (await call(sim, agent, 'GET', `/nodes/proxmox/tasks/${encodeURIComponent(String(backup.body.data))}/log`)).body.data as Array<{ t: string }>;
    expect(log.at(-1)!.t).toMatch(/^TASK ERROR: /);
    expect(sim.lab.vms.get(300)!.config.lock).toBeUndefined();
  });
});
