// A third-party client's typical session against the simulator: plain form-encoded HTTPS calls, tasks followed by
// UPID, nothing simulator-specific.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from 'undici';
import { startSim, type RunningSim } from '../../sim/server.ts';
import { agentFor, call, IMAGE_TOKEN, debianVmParams, prepareDebianImage, waitForAgent, waitTask } from './helpers.ts';

let sim: RunningSim;
let agent: Agent;

beforeAll(async () => {
  sim = await startSim({ scenario: 'fresh', taskSeconds: 0.05, tokens: IMAGE_TOKEN });
  agent = agentFor(sim);
});
afterAll(async () => {
  await agent.close();
  await sim.close();
});

async function ok(method: string, path: string, params: Record<string, string | string[]> = {}): Promise<unknown> {
  const res = await call(sim, agent, method, path, params);
  expect(res.status, `${method} ${path}: ${res.statusText}`).toBe(200);
  return res.body.data;
}

async function task(method: string, path: string, params: Record<string, string> = {}): Promise<void> {
  const upid = await ok(method, path, params);
  expect(await waitTask(sim, agent, upid)).toMatchObject({ exitstatus: 'OK' });
}

describe('third-party client flow', () => {
  it('creates, updates, starts, snapshots, extends, lists, stops and deletes a VM', async () => {
    await task('POST', '/nodes/proxmox/qemu', {
      vmid: '210',
      name: 'web-1',
      memory: '2048',
      cores: '2',
      scsihw: 'virtio-scsi-single',
      scsi0: 'local-lvm:16,cache=none,iothread=1',
      net0: 'virtio,bridge=vmbr0',
      agent: '1',
      tags: 'web,prod',
    });
    let config = (await ok('GET', '/nodes/proxmox/qemu/210/config')) as Record<string, string>;
    expect(config.scsi0).toBe('local-lvm:vm-210-disk-0,cache=none,iothread=1,size=16G');
    expect(config.net0).toMatch(/^virtio=BC:24:11:[0-9A-F:]{8},bridge=vmbr0$/);
    expect(config.tags).toBe('web;prod');
    const mac = /virtio=([0-9A-F:]{17})/.exec(config.net0!)![1];

    await ok('PUT', '/nodes/proxmox/qemu/210/config', { memory: '4096', description: 'front end', digest: config.digest! });
    await task('POST', '/nodes/proxmox/qemu/210/status/start');
    const status = (await ok('GET', '/nodes/proxmox/qemu/210/status/current')) as Record<string, unknown>;
    expect(status).toMatchObject({ status: 'running', qmpstatus: 'running', agent: 1, maxmem: 4096 * 1024 * 1024 });

    await task('POST', '/nodes/proxmox/qemu/210/snapshot', { snapname: 'before-nic', description: 'clean install' });
    const snapshots = (await ok('GET', '/nodes/proxmox/qemu/210/snapshot')) as Array<{ name: string; parent?: string }>;
    expect(snapshots.map((s) => s.name)).toEqual(['before-nic', 'current']);
    expect(snapshots[1]!.parent).toBe('before-nic');

    await task('POST', '/nodes/proxmox/qemu/210/config', { net1: 'virtio,bridge=vmbr0,firewall=1' });
    config = (await ok('GET', '/nodes/proxmox/qemu/210/config')) as Record<string, string>;
    expect(config.net1).toMatch(/^virtio=BC:24:11:[0-9A-F:]{8},bridge=vmbr0,firewall=1$/);
    expect(config.net0).toContain(mac!);
    await task('PUT', '/nodes/proxmox/qemu/210/resize', { disk: 'scsi0', size: '+4G' });
    expect(((await ok('GET', '/nodes/proxmox/qemu/210/config')) as Record<string, string>).scsi0).toContain('size=20G');

    const tasks = (await ok('GET', '/nodes/proxmox/tasks', { vmid: '210' })) as Array<{ type: string }>;
    expect(tasks.map((t) => t.type)).toEqual(['resize', 'qmconfig', 'qmsnapshot', 'qmstart', 'qmcreate']);
    const storages = (await ok('GET', '/nodes/proxmox/storage', { content: 'images' })) as Array<{ storage: string; used: number; total: number }>;
    expect(storages.map((s) => s.storage)).toEqual(['local-lvm']);
    expect(storages[0]!.used).toBeGreaterThanOrEqual(20 * 1024 ** 3);

    await task('POST', '/nodes/proxmox/qemu/210/status/stop');
    await task('DELETE', '/nodes/proxmox/qemu/210/snapshot/before-nic');
    await task('DELETE', '/nodes/proxmox/qemu/210', { purge: '1' });
    const gone = await call(sim, agent, 'GET', '/nodes/proxmox/qemu/210/config');
    expect(gone.status).toBe(500);
    expect(gone.statusText).toBe("Configuration file 'nodes/proxmox/qemu-server/210.conf' does not exist");
    expect(sim.lab.volumes.filter((v) => v.vmid === 210)).toEqual([]);
    expect(sim.schemaViolations).toEqual([]);
  });

  it('keeps changes that cannot be hot-plugged pending until the next start', async () => {
    await task('POST', '/nodes/proxmox/qemu', { vmid: '214', name: 'pend', memory: '1024', cores: '1', scsi0: 'local-lvm:4', net0: 'virtio,bridge=vmbr0', start: '1' });
    await ok('PUT', '/nodes/proxmox/qemu/214/config', { memory: '2048', cores: '2', description: 'now', net1: 'virtio,bridge=vmbr0' });
    const merged = (await ok('GET', '/nodes/proxmox/qemu/214/config')) as Record<string, string | number>;
    expect(merged).toMatchObject({ memory: '2048', cores: 2, description: 'now' });
    expect(merged.net1).toMatch(/^virtio=/);
    const current = (await ok('GET', '/nodes/proxmox/qemu/214/config', { current: '1' })) as Record<string, string | number>;
    expect(current).toMatchObject({ memory: '1024', cores: 1, description: 'now' });
    const pending = (await ok('GET', '/nodes/proxmox/qemu/214/pending')) as Array<{ key: string; value?: string; pending?: string }>;
    expect(pending.filter((row) => row.pending !== undefined).map((row) => [row.key, row.value, row.pending])).toEqual([['cores', '1', '2'], ['memory', '1024', '2048']]);
    expect(((await ok('GET', '/nodes/proxmox/qemu/214/status/current')) as { maxmem: number }).maxmem).toBe(1024 * 1024 ** 2);
    // An empty disk boots nothing that could act on a reboot request: stop and start instead.
    await task('POST', '/nodes/proxmox/qemu/214/status/stop');
    await task('POST', '/nodes/proxmox/qemu/214/status/start');
    expect(((await ok('GET', '/nodes/proxmox/qemu/214/status/current')) as { maxmem: number }).maxmem).toBe(2048 * 1024 ** 2);
    expect(((await ok('GET', '/nodes/proxmox/qemu/214/pending')) as Array<{ pending?: string }>).some((row) => row.pending !== undefined)).toBe(false);
  });

  it('rolls back a snapshot', async () => {
    await task('POST', '/nodes/proxmox/qemu', { vmid: '211', name: 'rb', memory: '1024', scsi0: 'local-lvm:4', net0: 'virtio,bridge=vmbr0' });
    await task('POST', '/nodes/proxmox/qemu/211/snapshot', { snapname: 'base' });
    await ok('PUT', '/nodes/proxmox/qemu/211/config', { memory: '2048' });
    await task('POST', '/nodes/proxmox/qemu/211/snapshot/base/rollback');
    expect(((await ok('GET', '/nodes/proxmox/qemu/211/config')) as Record<string, string>).memory).toBe('1024');
  });

  it('runs guest-agent calls only when the agent is on and the booted guest runs it', async () => {
    await prepareDebianImage(sim, agent);
    await task('POST', '/nodes/proxmox/qemu', debianVmParams(sim, 212, { name: 'agent' }));
    const stopped = await call(sim, agent, 'POST', '/nodes/proxmox/qemu/212/agent/ping');
    expect(stopped.statusText).toBe('VM 212 is not running');
    await task('POST', '/nodes/proxmox/qemu/212/status/start');
    await waitForAgent(sim, agent, 212);
    sim.lab.guestExec = async (vmid, argv, input) => ({ exitcode: 0, out: `${vmid}:${argv.join(' ')}:${input ?? ''}`, err: '' });
    const { pid } = (await ok('POST', '/nodes/proxmox/qemu/212/agent/exec', { command: ['cat', '-'], 'input-data': 'hello' })) as { pid: number };
    let result: Record<string, unknown> = { exited: false };
    for (let i = 0; i < 50 && !result.exited; i++) result = (await ok('GET', '/nodes/proxmox/qemu/212/agent/exec-status', { pid: String(pid) })) as Record<string, unknown>;
    expect(result).toEqual({ exited: true, exitcode: 0, 'out-data': '212:cat -:hello' });
    // cloud-init's netplan config matches the NIC by MAC and names it after PVE's network config (eth0); DHCP on
    // vmbr0 comes from the home router's pool.
    const nics = (await ok('GET', '/nodes/proxmox/qemu/212/agent/network-get-interfaces')) as { result: Array<{ name: string; 'ip-addresses': Array<{ 'ip-address': string }> }> };
    expect(nics.result.map((n) => n.name)).toEqual(['lo', 'eth0']);
    expect(nics.result[1]!['ip-addresses'][0]!['ip-address']).toMatch(/^192\.168\.1\.(1\d\d)$/);
    await task('POST', '/nodes/proxmox/qemu', { vmid: '213', name: 'noagent', memory: '1024', start: '1' });
    expect((await call(sim, agent, 'POST', '/nodes/proxmox/qemu/213/agent/ping')).statusText).toBe('No QEMU guest agent configured');
  });

  it('stages network changes, shows them in the changes diff, applies with a task and reverts', async () => {
    await ok('POST', '/nodes/proxmox/network', { iface: 'vmbr5', type: 'bridge', autostart: '1', comments: 'lab' });
    const listed = await call(sim, agent, 'GET', '/nodes/proxmox/network');
    const rows = listed.body.data as Array<Record<string, unknown>>;
    // Staged rows are not marked: only the envelope's unified diff tells them apart (pve-common INotify.pm).
    expect(rows.find((r) => r.iface === 'vmbr5')).toMatchObject({ autostart: 1 });
    expect(rows.find((r) => r.iface === 'vmbr5')).not.toHaveProperty('active');
    expect(rows.find((r) => r.iface === 'vmbr5')).not.toHaveProperty('pending');
    expect(listed.body.changes).toMatch(/^--- \/etc\/network\/interfaces\n\+\+\+ \/etc\/network\/interfaces\.new\n@@ -\d+(,\d+)? \+\d+,\d+ @@\n/);
    expect(listed.body.changes).toContain('\n+auto vmbr5\n+iface vmbr5 inet manual\n');
    expect(listed.body.changes).toContain('+#lab');
    await ok('DELETE', '/nodes/proxmox/network');
    expect(((await ok('GET', '/nodes/proxmox/network')) as Array<{ iface: string }>).map((r) => r.iface)).not.toContain('vmbr5');
    await ok('POST', '/nodes/proxmox/network', { iface: 'vmbr5', type: 'bridge', autostart: '1' });
    await ok('POST', '/nodes/proxmox/network', { iface: 'vmbr6', type: 'bridge' });
    await task('PUT', '/nodes/proxmox/network');
    expect(await ok('GET', '/nodes/proxmox/network/vmbr5')).toMatchObject({ active: 1, autostart: 1 });
    // Autostart is off unless asked for (Network.pm), and ifreload -a brings up `auto` interfaces only: vmbr6 is down.
    const down = (await ok('GET', '/nodes/proxmox/network/vmbr6')) as Record<string, unknown>;
    expect(down).not.toHaveProperty('active');
    expect(down).not.toHaveProperty('autostart');
    expect((await call(sim, agent, 'GET', '/nodes/proxmox/network')).body).not.toHaveProperty('changes');
  });
});
