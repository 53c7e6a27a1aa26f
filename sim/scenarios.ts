// Deterministic starting labs. The node itself (bridges, storages, disks) is the installed state; everything
// Jarvis would build goes through the simulator's own handlers (callInternal), so stored configs look exactly as
// after a real create.
import { callInternal } from './dispatch.ts';
import { DAY, recordNightlyRuns } from './backup-history.ts';
import type { NetIface, SimLab } from './lab.ts';
import { buildDebianVm, buildHaosVm, prepareImages, type ScenarioVm } from './scenario-guests.ts';
import { addSegmentsAndRouterVm, checkersGetNetcat, edgeGatewayRoutes, moveGuestsToSegments, ownerFinishesRouter, segmentationFirewall } from './scenario-phase2.ts';
import type { ScenarioName } from './scenario-names.ts';

const TB = 1000 ** 4;
const SSD_ID = 'nvme-Samsung_SSD_980_PRO_1TB_S5GXNX0T123456A';
export const HDD_IDS = ['ata-WDC_WD40EFPX-68C6CN0_WD-WX12D3456789', 'ata-WDC_WD40EFPX-68C6CN0_WD-WX12D3456790'] as const;
const SPARE_HDD_ID = 'ata-WDC_WD40EFPX-68C6CN0_WD-WX12D3456791';
const NODE = '/nodes/proxmox';

function installNode(lab: SimLab): void {
  // As the installer writes it, plus a tagged VLAN on the bridge (a common homelab addition: the host's management
  // VLAN). Its row carries `exists: null` (sim/interfaces.ts).
  lab.network = new Map<string, NetIface>([
    ['lo', { iface: 'lo', type: 'loopback', method: 'loopback', families: ['inet'], autostart: 1 }],
    ['enp3s0', { iface: 'enp3s0', type: 'eth', method: 'manual', families: ['inet'] }],
    [
      'vmbr0',
      {
        iface: 'vmbr0', type: 'bridge', method: 'static', families: ['inet'], autostart: 1,
        cidr: '192.168.1.10/24', address: '192.168.1.10', netmask: '24', gateway: '192.168.1.1',
        bridge_ports: 'enp3s0', bridge_stp: 'off', bridge_fd: '0', comments: 'LAN (physical uplink)',
      },
    ],
    [
      'vmbr0.10',
      {
        iface: 'vmbr0.10', type: 'vlan', method: 'static', families: ['inet'], autostart: 1,
        cidr: '10.10.10.2/24', address: '10.10.10.2', netmask: '24', 'vlan-raw-device': 'vmbr0', 'vlan-id': '10', comments: 'management VLAN',
      },
    ],
  ]);
  // pve-installer Proxmox/Install/StorageConfig.pm get_lvm_thin_config (PVE 9).
  lab.storages.set('local', { storage: 'local', type: 'dir', path: '/var/lib/vz', content: 'iso,vztmpl,backup,import', shared: 0 });
  lab.storages.set('local-lvm', { storage: 'local-lvm', type: 'lvmthin', thinpool: 'data', vgname: 'pve', content: 'rootdir,images' });
  lab.disks.push(
    { devpath: '/dev/nvme0n1', by_id_link: SSD_ID, size: 1_000_204_886_016, model: 'Samsung SSD 980 PRO 1TB', serial: 'S5GXNX0T123456A', vendor: 'unknown', wwn: 'eui.002538b111b2c3d4', type: 'nvme', rpm: 0, used: 'LVM' },
    { devpath: '/dev/sda', by_id_link: HDD_IDS[0], size: 4 * TB, model: 'WDC_WD40EFPX-68C6CN0', serial: 'WD-WX12D3456789', vendor: 'ATA', wwn: '0x50014ee2b1c2d3e4', type: 'hdd', rpm: 5400 },
    { devpath: '/dev/sdb', by_id_link: HDD_IDS[1], size: 4 * TB, model: 'WDC_WD40EFPX-68C6CN0', serial: 'WD-WX12D3456790', vendor: 'ATA', wwn: '0x50014ee2b1c2d3e5', type: 'hdd', rpm: 5400 },
  );
}

const PHASE0_VMS: ScenarioVm[] = [
  { vmid: 100, name: 'edge-gateway', cores: 2, memory: 2048, disk: 32, description: 'Tailscale entry point; runs Jarvis.', tags: ['env-lab', 'role-edge-gateway', 'tier-lan', 'owner-loic'], bridges: ['vmbr0'] },
  { vmid: 300, name: 'app-host', cores: 4, memory: 8192, disk: 128, description: 'Docker host (Plex, Jarvis, Monitoring, Kargo-preprod).', tags: ['env-lab', 'role-app-host', 'tier-lan', 'owner-loic'], bridges: ['vmbr0'] },
  { vmid: 400, name: 'home-assistant', cores: 2, memory: 4096, disk: 64, description: 'Home Assistant OS.', tags: ['env-lab', 'role-home-assistant', 'tier-lan', 'owner-loic'], bridges: ['vmbr0'] },
];

const NAAS_STACKS = ['plex', 'jarvis', 'monitoring', 'kargo-preprod'];

async function phase0(lab: SimLab): Promise<void> {
  await prepareImages(lab);
  await buildDebianVm(lab, PHASE0_VMS[0]!);
  await buildDebianVm(lab, PHASE0_VMS[1]!);
  await buildHaosVm(lab, PHASE0_VMS[2]!);
  await callInternal(lab, 'POST', '/cluster/backup', {
    id: 'jarvis-daily',
    schedule: '02:30',
    storage: 'local',
    mode: 'snapshot',
    compress: 'zstd',
    vmid: '100,300,400',
    'prune-backups': 'keep-daily=7,keep-weekly=4,keep-monthly=6',
    comment: 'Jarvis-managed nightly backup',
    enabled: '1',
  });
  const edge = lab.tailnet.upsertDevice({ hostname: 'edge-gateway' });
  // The owner gave the LAN's fixed guests DHCP reservations on the home router (by MAC).
  for (const [vmid, ip] of Object.entries(LAN_ADDRESSES)) lab.netState.lanReservations.set(macOf(lab, Number(vmid)), ip);
  // Home Assistant OS joins the tailnet through the Tailscale add-on the owner installed by hand.
  await lab.boots.drain();
  lab.ownerInstallsTailscaleAddon(400);
  lab.guests[100] = {
    facts: {
      tailscale: { installed: true, joined: true, hostname: edge.hostname, advertisedRoutes: [], funnel: false },
    },
  };
  lab.guests[300] = {
    facts: {
      docker: { installed: true, compose: true },
      // The reference spec's published ports (specs/jarvis-homelab.desired.yaml): Plex and Grafana answer.
      naasLayout: { present: true, root: '/opt/naas', stacks: [...NAAS_STACKS], running: { plex: ['32400:32400'], monitoring: ['3000:3000'] } },
    },
  };
  lab.guests[400] = { facts: { homeAssistant: { running: true } } };
}

/** The LAN addresses the home router reserves for the phase-0 guests. */
const LAN_ADDRESSES: Record<number, string> = { 100: '192.168.1.20', 300: '192.168.1.30', 400: '192.168.1.40' };

/** The MAC qemu-server gave a VM's first NIC. */
const macOf = (lab: SimLab, vmid: number): string => /([0-9A-F]{2}(?::[0-9A-F]{2}){5})/i.exec(lab.vm(vmid).config.net0 ?? '')![1]!.toUpperCase();

async function phase1(lab: SimLab): Promise<void> {
  await phase0(lab);
  await callInternal(lab, 'POST', `${NODE}/disks/zfs`, {
    name: 'tank',
    raidlevel: 'mirror',
    devices: HDD_IDS.map((id) => `/dev/disk/by-id/${id}`).join(','),
    ashift: '12',
    compression: 'lz4',
    add_storage: '0',
  });
  lab.hostFacts.datasets = [
    { name: 'tank/media', properties: { recordsize: '1M', atime: 'off', compression: 'lz4' } },
    { name: 'tank/appdata', properties: { atime: 'off', compression: 'lz4' } },
    { name: 'tank/backups', properties: { atime: 'off', compression: 'zstd' } },
  ];
  // sanoid came from Debian's repositories once the node used the no-subscription Proxmox repository.
  lab.hostFacts.aptSources = 'no-subscription';
  for (const dataset of lab.hostFacts.datasets) lab.nodeFiles.mkdir(`/${dataset.name}`);
  lab.hostFacts.snapshotPolicies = [
    { dataset: 'tank/media', frequency: 'daily', retention: { 'keep-daily': 7, 'keep-monthly': 3 } },
    { dataset: 'tank/appdata', frequency: 'daily', retention: { 'keep-daily': 14, 'keep-weekly': 4 } },
  ];
  await callInternal(lab, 'POST', '/storage', { storage: 'tank-backups', type: 'dir', path: '/tank/backups', content: 'backup' });
  await callInternal(lab, 'PUT', '/cluster/backup/jarvis-daily', { storage: 'tank-backups' });
  await callInternal(lab, 'POST', '/cluster/mapping/dir', { id: 'plex-media', map: 'node=proxmox,path=/tank/media', description: 'tank/media for VM 300' });
  await callInternal(lab, 'POST', '/cluster/mapping/dir', { id: 'docker-appdata', map: 'node=proxmox,path=/tank/appdata', description: 'tank/appdata for VM 300' });
  await callInternal(lab, 'PUT', `${NODE}/qemu/300/config`, { virtiofs0: 'plex-media', virtiofs1: 'docker-appdata' });
  // virtiofs is not hot-pluggable: the migration rebooted the guest to apply it.
  await callInternal(lab, 'POST', `${NODE}/qemu/300/status/reboot`);
  const facts = lab.guests[300]!.facts;
  facts.mounts = [
    { target: '/mnt/media', source: 'plex-media', fstype: 'virtiofs' },
    { target: '/opt/naas/appdata', source: 'docker-appdata', fstype: 'virtiofs' },
  ];
}

/**
 * Phase 2 started: the bridges and the router VM booted from the OPNsense installer, waiting for the owner's manual
 * step; app-host and Home Assistant are still on the LAN.
 */
async function phase2RouterPending(lab: SimLab): Promise<void> {
  await phase1(lab);
  await addSegmentsAndRouterVm(lab);
}

/** Phase 2 done: the owner configured OPNsense, the guests are on their segments, firewalls and tailnet routes set. */
async function phase2(lab: SimLab): Promise<void> {
  await phase2RouterPending(lab);
  await ownerFinishesRouter(lab);
  // The owner also installed the Mosquitto add-on (IOT → MQTT on 1883).
  (lab.guests[400]!.facts.homeAssistant as Record<string, unknown>).addons = ['core_mosquitto'];
  await checkersGetNetcat(lab);
  await moveGuestsToSegments(lab);
  await segmentationFirewall(lab);
  await edgeGatewayRoutes(lab);
}

async function drifted(lab: SimLab): Promise<void> {
  await phase0(lab);
  lab.setVmConfig(300, { memory: 6144 });
  lab.setVmConfig(100, { tags: 'tier-lan;owner-loic;env-lab;role-edge-gateway' });
  lab.setVmConfig(400, { tags: 'env-lab;owner-loic;role-home-assistant' });
  // Someone allowed Funnel in the tailnet policy by hand.
  lab.tailnet.policy.nodeAttrs = [{ target: ['autogroup:member'], attr: ['funnel'] }];
}

/**
 * Six nightly runs of jarvis-daily: three good ones, VM 300 failing for lack of space two days ago, a lock timeout
 * (VM 100) and a snapshot lock (VM 300) a day ago, then last night VM 300 out of space again while 100 and 400 were
 * backed up: VM 100's failure is history, VM 300's is not. Good runs leave archives; installer ISOs kept on `local`
 * are what leaves no room for VM 300's next backup.
 */
async function backupFailures(lab: SimLab): Promise<void> {
  await phase0(lab);
  recordNightlyRuns(
    lab,
    [
      { ago: 5 * DAY, outcomes: { 100: 'ok', 300: 'ok', 400: 'ok' } },
      { ago: 4 * DAY, outcomes: { 100: 'ok', 300: 'ok', 400: 'ok' } },
      { ago: 3 * DAY, outcomes: { 100: 'ok', 300: 'ok', 400: 'ok' } },
      { ago: 2 * DAY, outcomes: { 100: 'ok', 300: 'no-space', 400: 'ok' } },
      { ago: DAY, outcomes: { 100: 'lock-timeout', 300: 'locked-snapshot', 400: 'ok' } },
      { ago: 0, outcomes: { 100: 'ok', 300: 'no-space', 400: 'ok' } },
    ],
    { storage: 'local', dumpdir: '/var/lib/vz/dump' },
  );
  const monthAgo = Math.floor(Date.now() / 1000) - 30 * DAY;
  for (const [name, gib] of [['ubuntu-24.04.1-live-server-amd64.iso', 2.6], ['Win11_24H2_English_x64.iso', 5.4]] as const) {
    lab.volumes.push({ volid: `local:iso/${name}`, size: Math.round(gib * 1024 ** 3), format: 'iso', content: 'iso', ctime: monthAgo });
  }
}

/**
 * A phase-1 lab that has lived a while, in the shapes real nodes answer with (each modelled on the source named):
 * - vmbr0 is an Open vSwitch bridge: `ovs_ports enp3s0 vlan10`, enp3s0 its OVSPort, vlan10 an OVSIntPort with
 *   tag 10 (the layout of the node in PegaProx issue #384; read back per pve-common src/PVE/Network/Interfaces.pm);
 * - vmbr1 (SERVICES) was made by hand without Autostart: applied, but no `auto` line, so ifreload left it down;
 * - tank got a log and a cache partition on the NVMe and a hot spare (`zpool add`), which ZFS.pm lists beside the
 *   pool's root entry;
 * - VM 300 keeps a snapshot whose deletion failed and that someone unlocked by hand (`snapstate: delete`, as
 *   cv4pve-autosnap issue #46 describes);
 * - last night VM 300's backup failed before it started ("unable to create temporary directory", PVE/VZDump.pm
 *   exec_backup_task), after a good run the night before.
 */
async function livedIn(lab: SimLab): Promise<void> {
  await phase1(lab);
  const vmbr0 = lab.network.get('vmbr0')!;
  const { bridge_ports: _ports, bridge_stp: _stp, bridge_fd: _fd, ...uplink } = vmbr0;
  lab.network.delete('vmbr0.10');
  lab.network.set('enp3s0', { iface: 'enp3s0', type: 'OVSPort', method: 'manual', families: ['inet'], autostart: 1, ovs_type: 'OVSPort', ovs_bridge: 'vmbr0' });
  lab.network.set('vmbr0', { ...uplink, type: 'OVSBridge', ovs_type: 'OVSBridge', ovs_ports: 'enp3s0 vlan10' });
  lab.network.set('vlan10', {
    iface: 'vlan10', type: 'OVSIntPort', method: 'static', families: ['inet'], autostart: 1, ovs_type: 'OVSIntPort', ovs_bridge: 'vmbr0',
    ovs_options: 'tag=10', cidr: '10.10.10.2/24', address: '10.10.10.2', netmask: '24', comments: 'management VLAN',
  });
  lab.network.set('vmbr1', { iface: 'vmbr1', type: 'bridge', method: 'manual', families: ['inet'], bridge_ports: '', bridge_stp: 'off', bridge_fd: '0', comments: 'SERVICES internal-only' });

  lab.disks.push({ devpath: '/dev/sdc', by_id_link: SPARE_HDD_ID, size: 4 * TB, model: 'WDC_WD40EFPX-68C6CN0', serial: 'WD-WX12D3456791', vendor: 'ATA', wwn: '0x50014ee2b1c2d3e6', type: 'hdd', rpm: 5400, used: 'ZFS' });
  const tank = lab.zpools.get('tank')!;
  tank.logs = [`/dev/disk/by-id/${SSD_ID}-part4`];
  tank.cache = [`/dev/disk/by-id/${SSD_ID}-part5`];
  tank.spares = [`/dev/disk/by-id/${SPARE_HDD_ID}`];

  const app = lab.vm(300);
  const { lock: _lock, parent: _parent, ...config } = app.config;
  app.snapshots.push({ name: 'before-upgrade', description: 'before the Docker upgrade', snaptime: Math.floor(Date.now() / 1000) - 20 * DAY, vmstate: 0, config, snapstate: 'delete' });
  app.config.parent = 'before-upgrade';

  recordNightlyRuns(
    lab,
    [
      { ago: DAY, outcomes: { 100: 'ok', 300: 'ok', 400: 'ok' } },
      { ago: 0, outcomes: { 100: 'ok', 300: 'no-tmpdir', 400: 'ok' } },
    ],
    { storage: 'tank-backups', dumpdir: '/tank/backups/dump' },
  );
}

async function large(lab: SimLab, count: number): Promise<void> {
  await phase0(lab);
  for (let i = 0; i < count; i++) {
    const vmid = 1000 + i;
    await callInternal(lab, 'POST', `${NODE}/qemu`, {
      vmid: String(vmid),
      name: `unmanaged-${vmid}`,
      cores: '1',
      memory: '1024',
      scsihw: 'virtio-scsi-single',
      scsi0: 'local-lvm:8,cache=none',
      net0: 'virtio,bridge=vmbr0',
      tags: i % 3 === 0 ? 'env-test' : 'env-dev;team-b',
      start: i % 2 === 0 ? '1' : '0',
    });
  }
}

export async function buildScenario(lab: SimLab, name: ScenarioName, opts: { largeCount: number }): Promise<void> {
  installNode(lab);
  lab.tasks.injectFaults = false;
  await buildContent(lab, name, opts);
  // The lab has been up for a while: guests were started days ago, not during the build, and have booted.
  await lab.boots.drain();
  // pve-firewall has loaded the configuration long ago.
  lab.firewall.runCycle();
  lab.tasks.injectFaults = true;
  const bootedAt = Math.floor(Date.now() / 1000) - 3 * DAY;
  for (const vm of lab.vms.values()) if (vm.status === 'running') vm.startedAt = bootedAt;
}

async function buildContent(lab: SimLab, name: ScenarioName, opts: { largeCount: number }): Promise<void> {
  switch (name) {
    case 'fresh':
      return;
    case 'phase0':
      return phase0(lab);
    case 'phase1':
      return phase1(lab);
    case 'phase2':
      return phase2(lab);
    case 'phase2-router-pending':
      return phase2RouterPending(lab);
    case 'drifted':
      return drifted(lab);
    case 'backup-failures':
      return backupFailures(lab);
    case 'lived-in':
      return livedIn(lab);
    case 'large':
      return large(lab, opts.largeCount);
  }
}
