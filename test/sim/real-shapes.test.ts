// The simulator answers in the shapes real nodes send (issue 19), cross-checked where possible against the answers
// PVE's own code produces (test/fixtures/pve-real): a VLAN on a bridge with "exists": null, Open vSwitch rows, a
// bridge that is applied but down, ZFS sections beside the pool's root entry, snapshots marked while their task runs,
// and a backup job whose guest fails before it starts.
import type { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { parseVzdumpLog } from '../../monitor/vzdump-log.ts';
import { startSim, type RunningSim } from '../../sim/server.ts';
import { loadFixture } from '../support/pve-real.ts';
import { agentFor, call, waitTask } from './helpers.ts';

let sim: RunningSim | undefined;
let agent: Agent | undefined;
afterEach(async () => {
  await agent?.close();
  await sim?.close();
  sim = undefined;
});

async function open(scenario: NonNullable<Parameters<typeof startSim>[0]>['scenario'], taskSeconds = 0.05) {
  sim = await startSim({ scenario, taskSeconds, seed: 19 });
  agent = agentFor(sim);
  const [s, a] = [sim, agent];
  const api = async (method: string, path: string, params: Record<string, string> = {}) => {
    const res = await call(s, a, method, path, params);
    expect(res.status, `${method} ${path}: ${res.statusText}`).toBe(200);
    return res.body as { data: never; changes?: string };
  };
  return { api, get: async (path: string, params: Record<string, string> = {}) => (await api('GET', path, params)).data };
}

type Row = Record<string, unknown> & { iface: string };

describe('network rows, as pve-common reads /etc/network/interfaces', () => {
  it.each(['fresh', 'phase0', 'phase1', 'phase2', 'drifted', 'backup-failures'] as const)('%s: vmbr0.10 is a VLAN on the bridge with "exists": null', async (scenario) => {
    const { get } = await open(scenario);
    const rows: Row[] = await get('/nodes/proxmox/network');
    const vlan = rows.find((r) => r.iface === 'vmbr0.10')!;
    expect(vlan).toHaveProperty('exists', null);
    // The same keys with the same values as pve-common's own parser gives for this stanza.
    const real = (loadFixture('network-down-and-staged.derived.json').answer as { data: Row[] }).data.find((r) => r.iface === 'vmbr0.10')!;
    for (const key of ['type', 'exists', 'active', 'autostart', 'vlan-id', 'vlan-raw-device', 'cidr', 'method']) expect(vlan[key], key).toEqual(real[key]);
    expect(rows.map((r) => r.iface)).not.toContain('lo');
    expect(rows.find((r) => r.iface === 'enp3s0')).toMatchObject({ type: 'eth', exists: 1, active: 1 });
    expect(rows.find((r) => r.iface === 'enp3s0')).not.toHaveProperty('autostart');
  });

  it('lived-in: an Open vSwitch uplink and a bridge that is applied but down, nothing staged', async () => {
    const { api } = await open('lived-in');
    const listed = await api('GET', '/nodes/proxmox/network');
    const rows = listed.data as Row[];
    const byName = (name: string) => rows.find((r) => r.iface === name)!;
    expect(byName('vmbr0')).toMatchObject({ type: 'OVSBridge', ovs_type: 'OVSBridge', ovs_ports: 'enp3s0 vlan10', active: 1, autostart: 1 });
    expect(byName('vmbr0')).not.toHaveProperty('bridge_ports');
    expect(byName('enp3s0')).toMatchObject({ type: 'OVSPort', ovs_bridge: 'vmbr0', exists: 1, active: 1 });
    expect(byName('vlan10')).toMatchObject({ type: 'OVSIntPort', ovs_bridge: 'vmbr0', active: 1 });
    const down = byName('vmbr1');
    expect(down).toMatchObject({ type: 'bridge', bridge_ports: '' });
    expect(down).not.toHaveProperty('active');
    expect(down).not.toHaveProperty('autostart');
    expect(listed.changes).toBeUndefined();
  });
});

describe('ZFS pool detail, as pve-storage parses zpool status -P', () => {
  it('lived-in: logs, cache and spares beside the root entry, stateless; the spare AVAIL without counters', async () => {
    const { get } = await open('lived-in');
    type Vdev = Record<string, unknown> & { name: string; children: Array<Record<string, unknown>> };
    const detail: { children: Vdev[] } = await get('/nodes/proxmox/disks/zfs/tank');
    expect(detail.children.map((c) => c.name)).toEqual(['tank', 'logs', 'cache', 'spares']);
    const real = (loadFixture('zfs-detail-logs-cache-spares.derived.json').answer as { data: { children: Vdev[] } }).data.children;
    const sections = detail.children.slice(1);
    sections.forEach((section, i) => {
      expect(Object.keys(section).sort(), String(section.name)).toEqual(Object.keys(real[i + 1]!).sort());
      expect(Object.keys(section.children[0]!).sort(), String(section.name)).toEqual(Object.keys(real[i + 1]!.children[0]!).sort());
    });
    expect(sections[2]!.children[0]).toMatchObject({ name: '/dev/disk/by-id/ata-WDC_WD40EFPX-68C6CN0_WD-WX12D3456791-part1', state: 'AVAIL', leaf: 1 });
    expect(sections[0]!.children[0]!.name).toBe('/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_1TB_S5GXNX0T123456A-part4');
  });
});

describe('snapshots, as pve-guest-common marks them', () => {
  it('a snapshot is listed "prepare" while its task runs and clean once it commits', async () => {
    const { api, get } = await open('phase0', 30);
    const { data: upid } = await api('POST', '/nodes/proxmox/qemu/300/snapshot', { snapname: 'mid-flight' });
    const during: Row[] = await get('/nodes/proxmox/qemu/300/snapshot');
    expect(during.find((s) => s.name === 'mid-flight')).toMatchObject({ snapstate: 'prepare' });
    expect(await get('/nodes/proxmox/qemu/300/config')).toMatchObject({ lock: 'snapshot' });
    await sim!.lab.tasks.drain();
    expect((await waitTask(sim!, agent!, upid)).exitstatus).toBe('OK');
    const after: Row[] = await get('/nodes/proxmox/qemu/300/snapshot');
    expect(after.find((s) => s.name === 'mid-flight')).not.toHaveProperty('snapstate');
  });

  it('a failed create removes its snapshot; a failed delete leaves it "delete" and the VM locked; rollback to it is refused', async () => {
    const { api, get } = await open('phase0');
    sim!.lab.failNextTask('qmsnapshot');
    await waitTask(sim!, agent!, (await api('POST', '/nodes/proxmox/qemu/300/snapshot', { snapname: 'doomed' })).data);
    expect(((await get('/nodes/proxmox/qemu/300/snapshot')) as Row[]).map((s) => s.name)).toEqual(['current']);
    await waitTask(sim!, agent!, (await api('POST', '/nodes/proxmox/qemu/300/snapshot', { snapname: 'kept' })).data);
    sim!.lab.failNextTask('qmdelsnapshot');
    await waitTask(sim!, agent!, (await api('DELETE', '/nodes/proxmox/qemu/300/snapshot/kept')).data);
    expect(((await get('/nodes/proxmox/qemu/300/snapshot')) as Row[]).find((s) => s.name === 'kept')).toMatchObject({ snapstate: 'delete' });
    expect(await get('/nodes/proxmox/qemu/300/config')).toMatchObject({ lock: 'snapshot-delete' });
    sim!.lab.setVmConfig(300, { lock: null });
    const rollback = await waitTask(sim!, agent!, (await api('POST', '/nodes/proxmox/qemu/300/snapshot/kept/rollback')).data);
    expect(rollback.exitstatus).toBe('unable to rollback to incomplete snapshot (snapstate = delete)');
  });

  it('lived-in: VM 300 keeps a snapshot whose deletion never finished', async () => {
    const { get } = await open('lived-in');
    const snapshots: Row[] = await get('/nodes/proxmox/qemu/300/snapshot');
    expect(snapshots.find((s) => s.name === 'before-upgrade')).toMatchObject({ snapstate: 'delete', vmstate: 0 });
  });
});

describe('vzdump, as PVE/VZDump.pm logs a guest that fails before it starts', () => {
  it('a job naming a deleted guest runs and fails it "visibly": an ERROR line, no Starting line', async () => {
    const { api } = await open('phase0');
    await api('POST', '/cluster/backup', { id: 'with-ghost', schedule: '03:00', storage: 'local', vmid: '100,999', mode: 'snapshot' });
    // `job-id` is root@pam's (pve-manager Backup.pm assert_param_permission_common): the scheduler runs jobs as root.
    const login = await call(sim!, agent!, 'POST', '/access/ticket', { username: 'root@pam', password: sim!.lab.passwords.get('root@pam')! }, {});
    const { ticket, CSRFPreventionToken } = login.body.data as { ticket: string; CSRFPreventionToken: string };
    const asRoot = { cookie: `PVEAuthCookie=${encodeURIComponent(ticket)}`, CSRFPreventionToken };
    expect((await call(sim!, agent!, 'POST', '/nodes/proxmox/vzdump', { 'job-id': 'with-ghost' })).body.errors).toEqual({ 'job-id': 'Only root may set this option.' });
    const upid = (await call(sim!, agent!, 'POST', '/nodes/proxmox/vzdump', { 'job-id': 'with-ghost' }, asRoot)).body.data as string;
    expect((await waitTask(sim!, agent!, upid)).exitstatus).toBe('job errors');
    const log = ((await api('GET', `/nodes/proxmox/tasks/${encodeURIComponent(upid)}/log`, { limit: '500' })).data as Array<{ n: number; t: string }>);
    const text = log.map((l) => l.t);
    expect(text).toContain("ERROR: Backup of VM 999 failed - unable to find VM '999'");
    expect(text.some((t) => t.startsWith('INFO: Starting Backup of VM 999'))).toBe(false);
    const facts = parseVzdumpLog(log);
    expect(facts.named).toEqual([100, 999]);
    expect(facts.failed.get(999)).toBe("unable to find VM '999'");
  });

  it('lived-in: last night VM 300 failed before it started, after a good run the night before', async () => {
    const { get } = await open('lived-in');
    const tasks: Array<{ upid: string; status: string; starttime: number }> = await get('/nodes/proxmox/tasks', { typefilter: 'vzdump', source: 'all' });
    const newest = [...tasks].sort((a, b) => b.starttime - a.starttime)[0]!;
    expect(newest.status).toBe('job errors');
    const log: Array<{ n: number; t: string }> = await get(`/nodes/proxmox/tasks/${encodeURIComponent(newest.upid)}/log`, { limit: '500' });
    const text = log.map((l) => l.t);
    expect(text.some((t) => /^ERROR: Backup of VM 300 failed - unable to create temporary directory '\/tank\/backups\/dump\/vzdump-qemu-300-.*\.tmp' at \/usr\/share\/perl5\/PVE\/VZDump\.pm line \d+\.$/.test(t))).toBe(true);
    expect(text.some((t) => t.startsWith('INFO: Starting Backup of VM 300'))).toBe(false);
  });
});
