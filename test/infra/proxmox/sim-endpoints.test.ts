// Every ProxmoxApi method against the simulated node: each request passes the official schema check and each
// answer passes the client's validation. The reads run on the built phase-1 lab, the writes on a phase-0 lab.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type RunningSim } from '../../../sim/server.ts';
import { Secret } from '../../../lib/secret.ts';
import type { ProxmoxClient } from '../../../infra/proxmox/client.ts';
import { testClient } from './support/clients.ts';

const DISKS = [
  '/dev/disk/by-id/ata-WDC_WD40EFPX-68C6CN0_WD-WX12D3456789',
  '/dev/disk/by-id/ata-WDC_WD40EFPX-68C6CN0_WD-WX12D3456790',
];

function clientFor(sim: RunningSim): ProxmoxClient {
  return testClient(
    { url: sim.url, fingerprint: sim.fingerprint },
    { tokenId: sim.tokenId, tokenSecret: new Secret(sim.tokenSecret), node: sim.node },
  );
}

describe('reads on the phase-1 lab', () => {
  let sim: RunningSim;
  beforeAll(async () => {
    sim = await startSim({ scenario: 'phase1', taskSeconds: 0.05, seed: 5 });
  });
  afterAll(async () => {
    await sim?.close();
  });
  afterEach(() => {
    expect(sim.schemaViolations).toEqual([]);
  });

  it('reads cluster, node, storage, disks and pools', async () => {
    const pve = clientFor(sim);
    expect((await pve.version()).release).toMatch(/^9\./);
    expect(await pve.clusterOptions()).toBeTypeOf('object');
    expect((await pve.nodeStatus()).memory.total).toBeGreaterThan(0);
    expect(Object.keys(await pve.permissions())).toContain('/');
    const { interfaces } = await pve.listNetwork();
    expect(interfaces.find((i) => i.iface === 'vmbr0')).toMatchObject({ type: 'bridge', active: 1, autostart: 1 });
    // A VLAN on the bridge: Interfaces.pm copies the bridge's undefined `exists`, so the answer holds null.
    expect(interfaces.find((i) => i.iface === 'vmbr0.10')).toMatchObject({ type: 'vlan', 'vlan-raw-device': 'vmbr0', 'vlan-id': 10 });
    expect(interfaces.find((i) => i.iface === 'vmbr0.10')).not.toHaveProperty('exists');
    expect((await pve.listDisks()).map((d) => d.devpath)).toEqual(['/dev/nvme0n1', '/dev/sda', '/dev/sdb']);
    const [pool] = await pve.listZfsPools();
    expect(pool).toBeDefined();
    expect((await pve.zfsPoolDetail(pool!.name)).state).toBe('ONLINE');
    expect((await pve.listStorage()).length).toBeGreaterThan(1);
    expect((await pve.nodeStorageStatus()).every((s) => typeof s.storage === 'string')).toBe(true);
    expect((await pve.listDirMappings()).every((m) => m.map.length > 0)).toBe(true);
  });

  it('reads firewall, backup jobs, tasks and a running guest', async () => {
    const pve = clientFor(sim);
    const vm = (await pve.clusterResources('vm')).find((r) => r.status === 'running');
    const vmid = vm!.vmid!;
    for (const level of [{ level: 'cluster' as const }, { level: 'node' as const }, { level: 'vm' as const, vmid }]) {
      expect(await pve.firewallOptions(level)).toBeTypeOf('object');
      expect(await pve.firewallRules(level)).toBeInstanceOf(Array);
    }
    expect(await pve.firewallGroups()).toBeInstanceOf(Array);
    expect(await pve.firewallIpsets()).toBeInstanceOf(Array);
    expect(await pve.firewallAliases()).toBeInstanceOf(Array);
    const [job] = await pve.listBackupJobs();
    expect(job?.['prune-backups']).toBeDefined();
    expect(await pve.notBackedUp()).toBeInstanceOf(Array);
    const [task] = await pve.listTasks({ limit: 3, source: 'all' });
    expect((await pve.taskStatus(task!.upid)).upid).toBe(task!.upid);
    expect((await pve.taskLog(task!.upid)).at(-1)?.t).toMatch(/^TASK /);
    expect((await pve.vmStatus(vmid)).status).toBe('running');
    expect((await pve.vmConfig(vmid)).digest).toMatch(/^[0-9a-f]{40}$/);
    expect((await pve.listSnapshots(vmid)).some((s) => s.name === 'current')).toBe(true);
    await pve.agentPing(vmid);
    expect((await pve.agentNetworkInterfaces(vmid)).length).toBeGreaterThan(0);
  });
});

describe('writes on the phase-0 lab', () => {
  let sim: RunningSim;
  beforeAll(async () => {
    sim = await startSim({ scenario: 'phase0', taskSeconds: 0.05, seed: 6 });
  });
  afterAll(async () => {
    await sim?.close();
  });
  afterEach(() => {
    expect(sim.schemaViolations).toEqual([]);
  });

  it('stages, applies and reverts bridges', async () => {
    const pve = clientFor(sim);
    await pve.createNetwork({ iface: 'vmbr1', type: 'bridge', autostart: true, comments: 'services' });
    await pve.updateNetwork('vmbr1', { type: 'bridge', cidr: '10.10.20.1/24', autostart: true });
    expect((await pve.listNetwork()).changes).toContain('+iface vmbr1 inet static');
    expect((await pve.waitForTask(await pve.applyNetwork())).ok).toBe(true);
    const applied = await pve.listNetwork();
    expect(applied.interfaces.find((i) => i.iface === 'vmbr1')).toMatchObject({ cidr: '10.10.20.1/24', active: 1 });
    expect(applied.changes).toBeUndefined();
    await pve.createNetwork({ iface: 'vmbr2', type: 'bridge' });
    await pve.revertNetwork();
    expect((await pve.listNetwork()).interfaces.some((i) => i.iface === 'vmbr2')).toBe(false);
  });

  it('creates a pool, storage and directory mapping', async () => {
    const pve = clientFor(sim);
    const pool = { name: 'tank', raidlevel: 'mirror', devices: DISKS.join(','), ashift: 12, compression: 'lz4' };
    expect((await pve.waitForTask(await pve.createZfsPool(pool))).ok).toBe(true);
    const storage = { storage: 'tank-vm', type: 'zfspool', pool: 'tank', content: 'images,rootdir', sparse: true };
    await pve.createStorage(storage);
    await pve.updateStorage('tank-vm', { content: 'images' });
    expect((await pve.listStorage()).find((s) => s.storage === 'tank-vm')).toMatchObject({ content: 'images' });
    await pve.createDirMapping({ id: 'media', map: ['node=proxmox,path=/tank'], description: 'media' });
    expect((await pve.listDirMappings()).map((m) => m.id)).toContain('media');
  });

  it('writes firewall options, rules, groups, ipsets and aliases', async () => {
    const pve = clientFor(sim);
    const vmid = (await pve.clusterResources('vm'))[0]!.vmid!;
    await pve.setFirewallOptions({ level: 'cluster' }, { enable: 1, policy_in: 'DROP' });
    // Enabled, so that the node's firewall (DROP policy) still admits the management connections of later tests.
    const rule = { type: 'in', action: 'ACCEPT', enable: 1, proto: 'tcp', dport: '22,8006', source: '192.168.1.0/24' };
    await pve.createFirewallRule({ level: 'cluster' }, rule);
    await pve.updateFirewallRule({ level: 'cluster' }, 0, { comment: 'management' });
    expect((await pve.firewallRules({ level: 'cluster' }))[0]).toMatchObject({ ...rule, comment: 'management', pos: 0 });
    await pve.createFirewallRule({ level: 'vm', vmid }, { type: 'in', action: 'DROP', enable: 1 });
    await pve.deleteFirewallRule({ level: 'vm', vmid }, 0);
    expect(await pve.firewallRules({ level: 'vm', vmid })).toEqual([]);
    await pve.createFirewallGroup({ group: 'webs', comment: 'web servers' });
    await pve.createFirewallGroupRule('webs', { type: 'in', action: 'ACCEPT', proto: 'tcp', dport: '443' });
    expect(await pve.firewallGroupRules('webs')).toHaveLength(1);
    await pve.createFirewallIpset({ name: 'lan', comment: 'LAN' });
    await pve.addFirewallIpsetEntry('lan', { cidr: '192.168.1.0/24' });
    expect((await pve.firewallIpsetEntries('lan')).map((e) => e.cidr)).toEqual(['192.168.1.0/24']);
    await pve.request('DELETE', '/cluster/firewall/ipset/lan/192.168.1.0%2F24');
    expect(await pve.firewallIpsetEntries('lan')).toEqual([]);
    await pve.createFirewallAlias({ name: 'gateway', cidr: '192.168.1.1' });
    await pve.updateFirewallAlias('gateway', { cidr: '192.168.1.2' });
    expect((await pve.firewallAliases()).find((a) => a.name === 'gateway')?.cidr).toBe('192.168.1.2');
  });

  it('manages backup jobs, runs vzdump, resizes and rolls back a VM', async () => {
    const pve = clientFor(sim);
    const vmid = (await pve.clusterResources('vm'))[0]!.vmid!;
    const job = { id: 'nightly', schedule: '02:30', storage: 'local', vmid: String(vmid), enabled: true };
    await pve.createBackupJob(job);
    await pve.updateBackupJob('nightly', { schedule: 'mon..fri 22:30', 'prune-backups': 'keep-last=3' });
    expect((await pve.listBackupJobs()).find((j) => j.id === 'nightly')).toMatchObject({ schedule: 'mon..fri 22:30' });
    expect((await pve.waitForTask(await pve.vzdump({ vmid: String(vmid), storage: 'local' }))).ok).toBe(true);
    const resize = await pve.resizeDisk(vmid, 'scsi0', '+1G');
    if (resize !== null) expect((await pve.waitForTask(resize)).ok).toBe(true);
    expect((await pve.waitForTask(await pve.createSnapshot(vmid, 'pre-change'))).ok).toBe(true);
    expect((await pve.waitForTask(await pve.rollbackSnapshot(vmid, 'pre-change'))).ok).toBe(true);
    expect((await pve.waitForTask(await pve.deleteSnapshot(vmid, 'pre-change'))).ok).toBe(true);
    expect((await pve.listSnapshots(vmid)).map((s) => s.name)).toEqual(['current']);
  });
});
