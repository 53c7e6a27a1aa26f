import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from 'undici';
import { startSim, type RunningSim } from '../../sim/server.ts';
import { HDD_IDS } from '../../sim/scenarios.ts';
import { agentFor, call, waitTask } from './helpers.ts';

let sim: RunningSim | undefined;
let agent: Agent | undefined;

afterEach(async () => {
  await agent?.close();
  await sim?.close();
});

async function open(scenario: NonNullable<Parameters<typeof startSim>[0]>['scenario'], extra: Parameters<typeof startSim>[0] = {}) {
  sim = await startSim({ scenario, taskSeconds: 0.05, ...extra });
  agent = agentFor(sim);
  const s = sim;
  const a = agent;
  return async (path: string, params: Record<string, string> = {}) => {
    const res = await call(s, a, 'GET', path, params);
    expect(res.status).toBe(200);
    return res.body.data as never;
  };
}

describe('scenarios', () => {
  it('fresh: the installed node only', async () => {
    const get = await open('fresh');
    expect(await get('/nodes/proxmox/qemu')).toEqual([]);
    expect(await get('/cluster/backup')).toEqual([]);
    const storages: Array<{ storage: string; type: string }> = await get('/storage');
    expect(storages.map((s) => [s.storage, s.type])).toEqual([['local', 'dir'], ['local-lvm', 'lvmthin']]);
    const bridges: Array<{ iface: string }> = await get('/nodes/proxmox/network', { type: 'bridge' });
    expect(bridges.map((b) => b.iface)).toEqual(['vmbr0']);
    const disks: Array<{ devpath: string; used?: string; by_id_link: string }> = await get('/nodes/proxmox/disks/list');
    expect(disks.map((d) => [d.devpath, d.used ?? null])).toEqual([['/dev/nvme0n1', 'LVM'], ['/dev/sda', null], ['/dev/sdb', null]]);
    expect(disks[1]!.by_id_link).toBe('/dev/disk/by-id/ata-WDC_WD40EFPX-68C6CN0_WD-WX12D3456789');
    expect(await get('/cluster/firewall/options')).not.toHaveProperty('enable');
  });

  it('phase0: VMs as a real create stores them, running, with the nightly job', async () => {
    const get = await open('phase0');
    const config: Record<string, string | number> = await get('/nodes/proxmox/qemu/300/config');
    expect(config).toMatchObject({
      name: 'app-host',
      cores: 4,
      memory: '8192',
      scsihw: 'virtio-scsi-single',
      agent: '1',
      tags: 'env-lab;owner-loic;role-app-host;tier-lan',
      scsi0: 'local-lvm:vm-300-disk-0,cache=none,discard=on,iothread=1,size=128G,ssd=1',
      net0: expect.stringMatching(/^virtio=BC:24:11:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2},bridge=vmbr0,firewall=1$/),
    });
    const ha: Record<string, string> = await get('/nodes/proxmox/qemu/400/config');
    expect(ha).toMatchObject({ bios: 'ovmf', efidisk0: 'local-lvm:vm-400-disk-0,efitype=4m,pre-enrolled-keys=0,size=4M', scsi0: expect.stringContaining('local-lvm:vm-400-disk-1,') });
    const vms: Array<{ vmid: number; status: string }> = await get('/nodes/proxmox/qemu');
    expect(vms.map((v) => [v.vmid, v.status])).toEqual([[100, 'running'], [300, 'running'], [400, 'running']]);
    const [job]: Array<Record<string, unknown>> = await get('/cluster/backup');
    expect(job).toMatchObject({ id: 'jarvis-daily', storage: 'local', vmid: '100,300,400', schedule: '02:30', 'prune-backups': { 'keep-daily': 7, 'keep-weekly': 4, 'keep-monthly': 6 } });
    expect(await get('/cluster/backup-info/not-backed-up')).toEqual([]);
    expect(sim!.lab.guests[300]!.facts).toMatchObject({ docker: { installed: true, compose: true }, naasLayout: { stacks: ['plex', 'jarvis', 'monitoring', 'kargo-preprod'] } });
    expect([...sim!.lab.tailnet.devices.values()].map((d) => d.hostname)).toEqual(['edge-gateway', 'home-assistant']);
    expect(sim!.schemaViolations).toEqual([]);
  });

  it('phase0: guests built as the product builds them, booted, their agents answering', async () => {
    const get = await open('phase0');
    const edge: Record<string, string> = await get('/nodes/proxmox/qemu/100/config');
    expect(edge).toMatchObject({
      scsi0: 'local-lvm:vm-100-disk-0,cache=none,discard=on,iothread=1,size=32G,ssd=1',
      ide2: 'local-lvm:vm-100-cloudinit,media=cdrom',
      boot: 'order=scsi0',
      ciuser: 'jarvis',
      ipconfig0: 'ip=dhcp',
      cicustom: 'vendor=local:snippets/jarvis-vendor-100.yaml',
    });
    expect(sim!.lab.volumes.find((v) => v.volid === 'local-lvm:vm-100-disk-0')!.image!.name).toBe('debian-13-genericcloud-amd64');
    expect(sim!.lab.volumes.find((v) => v.volid === 'local-lvm:vm-400-disk-1')!.image!.name).toBe('haos_ova-16.3');
    const imports: Array<{ volid: string }> = await get('/nodes/proxmox/storage/local/content', { content: 'import' });
    expect(imports.map((v) => v.volid)).toEqual(['local:import/debian-13-genericcloud-amd64.qcow2']);
    const snippets: Array<{ volid: string }> = await get('/nodes/proxmox/storage/local/content', { content: 'snippets' });
    expect(snippets.map((v) => v.volid)).toEqual(['local:snippets/jarvis-vendor-100.yaml', 'local:snippets/jarvis-vendor-300.yaml']);
    for (const vmid of [100, 300, 400]) expect((await call(sim!, agent!, 'POST', `/nodes/proxmox/qemu/${vmid}/agent/ping`)).status).toBe(200);
    const osinfo = async (vmid: number) => ((await get(`/nodes/proxmox/qemu/${vmid}/agent/get-osinfo`)) as { result: { id: string } }).result.id;
    expect([await osinfo(100), await osinfo(300), await osinfo(400)]).toEqual(['debian', 'debian', 'haos']);
  });

  it('builds with task-fail faults configured: they hit the client’s tasks, not the scenario’s', async () => {
    const get = await open('phase0', { faults: ['task-fail:qmstart'] });
    const vms: Array<{ vmid: number; status: string }> = await get('/nodes/proxmox/qemu');
    expect(vms.every((v) => v.status === 'running')).toBe(true);
    const stop = await call(sim!, agent!, 'POST', '/nodes/proxmox/qemu/100/status/stop');
    await waitTask(sim!, agent!, stop.body.data);
    const start = await call(sim!, agent!, 'POST', '/nodes/proxmox/qemu/100/status/start');
    expect((await waitTask(sim!, agent!, start.body.data)).exitstatus).toContain('fault injection');
  });

  it('is deterministic for a seed (MACs, UUIDs)', async () => {
    const first = await open('phase0', { seed: 7 });
    const a: Record<string, string> = await first('/nodes/proxmox/qemu/100/config');
    await agent!.close();
    await sim!.close();
    const second = await open('phase0', { seed: 7 });
    const b: Record<string, string> = await second('/nodes/proxmox/qemu/100/config');
    expect(b.net0).toBe(a.net0);
    expect(b.smbios1).toBe(a.smbios1);
  });

  it('phase1: tank mirror, backup storage, job moved, mappings, host facts', async () => {
    const get = await open('phase1');
    const pools: Array<{ name: string; health: string }> = await get('/nodes/proxmox/disks/zfs');
    expect(pools).toEqual([expect.objectContaining({ name: 'tank', health: 'ONLINE' })]);
    const detail: { children: Array<{ children: Array<{ name: string; children: Array<{ name: string }> }> }> } = await get('/nodes/proxmox/disks/zfs/tank');
    expect(detail.children[0]!.children[0]!.name).toBe('mirror-0');
    // `zpool status -P` paths: a whole disk ZFS partitioned itself shows as its -part1 (pve-storage API2/Disks/ZFS.pm).
    expect(detail.children[0]!.children[0]!.children.map((c) => c.name)).toEqual(HDD_IDS.map((id) => `/dev/disk/by-id/${id}-part1`));
    expect(await get('/storage/tank-backups')).toMatchObject({ type: 'dir', path: '/tank/backups', content: 'backup' });
    expect(await get('/cluster/backup/jarvis-daily')).toMatchObject({ storage: 'tank-backups' });
    const maps: Array<{ id: string; map: string[] }> = await get('/cluster/mapping/dir');
    expect(maps.map((m) => [m.id, m.map])).toEqual([['plex-media', ['node=proxmox,path=/tank/media']], ['docker-appdata', ['node=proxmox,path=/tank/appdata']]]);
    expect(sim!.lab.hostFacts.datasets.map((d) => d.name)).toEqual(['tank/media', 'tank/appdata', 'tank/backups']);
    const disks: Array<{ devpath: string; used?: string }> = await get('/nodes/proxmox/disks/list', { type: 'unused' });
    expect(disks).toEqual([]);
  });

  it('phase2: bridges, router VM, segments, firewall and tailnet routes', async () => {
    const get = await open('phase2');
    const bridges: Array<{ iface: string; comments?: string }> = await get('/nodes/proxmox/network', { type: 'bridge' });
    expect(bridges.map((b) => b.iface)).toEqual(['vmbr0', 'vmbr1', 'vmbr2']);
    const router: Record<string, string> = await get('/nodes/proxmox/qemu/150/config');
    expect([router.net0, router.net1, router.net2].map((n) => /bridge=(\w+)/.exec(n!)![1])).toEqual(['vmbr0', 'vmbr1', 'vmbr2']);
    const app: Record<string, string> = await get('/nodes/proxmox/qemu/300/config');
    expect(app.net0).toContain('bridge=vmbr1');
    expect(app.tags).toContain('tier-services');
    expect(await get('/cluster/firewall/options')).toMatchObject({ enable: 1, policy_in: 'DROP', policy_out: 'ACCEPT' });
    const rules: Array<{ pos: number; action: string; source: string; comment: string }> = await get('/cluster/firewall/rules');
    expect(rules.map((r) => [r.pos, r.action, r.source])).toEqual([
      [0, 'DROP', '+seg-services'],
      [1, 'DROP', '+seg-iot'],
      [2, 'ACCEPT', '192.168.1.0/24'],
      [3, 'ACCEPT', '192.168.1.0/24'],
      [4, 'ACCEPT', '100.64.0.0/10'],
    ]);
    const ipsets: Array<{ name: string }> = await get('/cluster/firewall/ipset');
    expect(ipsets.map((s) => s.name)).toEqual(['mgmt-admins', 'seg-services', 'seg-iot', 'seg-lan']);
    // Every rule the reference spec wrote carries its owner (planner/firewall-owner.ts).
    expect(rules.every((r) => r.comment.endsWith(' [jarvis:jarvis-homelab]'))).toBe(true);
    expect(await get('/cluster/firewall/aliases')).toEqual([expect.objectContaining({ name: 'proxmox-host', cidr: '192.168.1.10' })]);
    const edge = [...sim!.lab.tailnet.devices.values()].find((d) => d.hostname === 'edge-gateway')!;
    expect(edge.enabledRoutes).toEqual(['10.10.20.0/24', '10.10.30.0/24']);
    // The router: the installer downloaded and attached after the disk, OPNsense installed and booted by the owner.
    expect(router).toMatchObject({ ide2: 'local:iso/OPNsense-25.7-dvd-amd64.iso,media=cdrom', boot: 'order=scsi0;ide2' });
    expect(sim!.lab.vm(150).boot).toMatchObject({ os: 'opnsense', ready: true });
    expect(sim!.lab.netState.router?.interfaces.map((i) => [i.assign, i.name, i.address])).toEqual([
      ['WAN', 'WAN', '192.168.1.2/24'],
      ['LAN', 'SERVICES', '10.10.20.1/24'],
      ['OPT1', 'IOT', '10.10.30.1/24'],
    ]);
    // The guests took their segment addresses (Home Assistant after its reboot).
    const ipv4 = async (vmid: number): Promise<string[]> =>
      ((await get(`/nodes/proxmox/qemu/${vmid}/agent/network-get-interfaces`)) as { result: Array<{ name: string; 'ip-addresses': Array<{ 'ip-address': string; 'ip-address-type': string }> }> }).result
        .filter((i) => i.name !== 'lo' && i.name !== 'tailscale0')
        .flatMap((i) => i['ip-addresses'].filter((a) => a['ip-address-type'] === 'ipv4').map((a) => `${i.name} ${a['ip-address']}`));
    expect(await ipv4(100)).toEqual(['eth0 192.168.1.20']);
    expect(await ipv4(300)).toEqual(['eth0 10.10.20.30']);
    expect(await ipv4(400)).toEqual(['enp0s18 10.10.30.40']);
    const app300 = (await get('/nodes/proxmox/qemu/300/firewall/options')) as Record<string, unknown>;
    expect(app300).toMatchObject({ enable: 1, policy_in: 'DROP' });
  });

  it('phase2-router-pending: the router VM runs the OPNsense installer; nothing moved yet', async () => {
    const get = await open('phase2-router-pending');
    const bridges: Array<{ iface: string }> = await get('/nodes/proxmox/network', { type: 'bridge' });
    expect(bridges.map((b) => b.iface)).toEqual(['vmbr0', 'vmbr1', 'vmbr2']);
    expect(sim!.lab.vm(150).boot).toMatchObject({ os: 'opnsense-installer', ready: true });
    expect(sim!.lab.netState.router).toBeUndefined();
    const app: Record<string, string> = await get('/nodes/proxmox/qemu/300/config');
    expect(app.net0).toContain('bridge=vmbr0');
  });

  it('drifted: memory, reordered and removed tags, Funnel in the tailnet policy', async () => {
    const get = await open('drifted');
    expect(await get('/nodes/proxmox/qemu/300/config')).toMatchObject({ memory: '6144' });
    expect(await get('/nodes/proxmox/qemu/100/config')).toMatchObject({ tags: 'tier-lan;owner-loic;env-lab;role-edge-gateway' });
    const ha: { tags: string } = await get('/nodes/proxmox/qemu/400/config');
    expect(ha.tags.split(';')).toHaveLength(3);
    expect(sim!.lab.tailnet.policy.nodeAttrs).toEqual([{ target: ['autogroup:member'], attr: ['funnel'] }]);
  });

  it('backup-failures: failed vzdump tasks with realistic logs next to good ones', async () => {
    const get = await open('backup-failures');
    const failed: Array<{ upid: string; status: string }> = await get('/nodes/proxmox/tasks', { typefilter: 'vzdump', errors: '1' });
    expect(failed).toHaveLength(3);
    expect(failed.every((t) => t.status === 'job errors')).toBe(true);
    const all: unknown[] = await get('/nodes/proxmox/tasks', { typefilter: 'vzdump' });
    expect(all).toHaveLength(6);
    const logs = await Promise.all(failed.map((t) => get(`/nodes/proxmox/tasks/${encodeURIComponent(t.upid)}/log`, { limit: '500' }) as Promise<Array<{ t: string }>>));
    const text = logs.flat().map((l) => l.t).join('\n');
    expect(text).toContain('ERROR: Backup of VM 300 failed - vma_queue_write: write error - No space left on device');
    expect(text).toContain("can't acquire lock '/var/run/vzdump.lock' - got timeout");
    // Archives exist for the good runs only.
    const archives: Array<{ vmid: number }> = await get('/nodes/proxmox/storage/local/content', { content: 'backup' });
    expect([100, 300, 400].map((vmid) => archives.filter((a) => a.vmid === vmid).length)).toEqual([5, 3, 6]);
  });

  it('large: N extra unmanaged VMs in /cluster/resources', async () => {
    const get = await open('large', { largeCount: 50 });
    const vms: Array<{ vmid: number }> = await get('/cluster/resources', { type: 'vm' });
    expect(vms).toHaveLength(53);
    const notBacked: unknown[] = await get('/cluster/backup-info/not-backed-up');
    expect(notBacked).toHaveLength(50);
  });
});
