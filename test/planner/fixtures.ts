// Live-state fixtures for pure planner tests: a phase-0 lab as Proxmox would report it.
import { loadSpec } from '../../planner/spec/load.ts';
import { known, unknown, type LiveState } from '../../planner/state.ts';
import { SIM_SITE_FILE } from '../support/site.ts';

export const loadReference = async () => loadSpec(new URL('../../specs/jarvis-homelab.desired.yaml', import.meta.url).pathname, { site: SIM_SITE_FILE });

const vm = (vmid: number, name: string, extra: Record<string, string | number>) => ({
  vmid,
  node: 'proxmox',
  status: 'running',
  digest: `digest-${vmid}`,
  config: {
    name,
    cores: 2,
    sockets: 1,
    memory: '2048',
    scsihw: 'virtio-scsi-single',
    ostype: 'l26',
    agent: '1',
    onboot: 1,
    hotplug: 'network,disk,usb',
    ...extra,
  } as Record<string, string | number>,
});

/** What the planner's create leaves on a cloud-image VM: the cloud-init drive and its settings. */
const cloudInit = (vmid: number) => ({
  ide2: `local-lvm:vm-${vmid}-cloudinit,media=cdrom`,
  ciuser: 'debian',
  sshkeys: 'ssh-ed25519%20AAAAC3NzaC1lZDI1NTE5AAAAIBJqhsCPeEHobkjAlYacIFLOya51xbC5MxYaoFsNRF2f%20placeholder-replace-me%0A',
  ipconfig0: 'ip=dhcp',
  cicustom: `vendor=local:snippets/jarvis-vendor-${vmid}.yaml`,
  boot: 'order=scsi0',
});

const device = (hostname: string, n: number) => ({
  nodeId: `n${n}`,
  hostname,
  name: `${hostname}.tail0000.ts.net`,
  addresses: [`100.64.0.${n}`],
  online: true,
  authorized: true,
  advertisedRoutes: [],
  enabledRoutes: [],
  keyExpiryDisabled: false,
});

/** The reference spec's phase 0, already applied. */
export function phase0State(): LiveState {
  return {
    node: 'proxmox',
    resources: known({ vms: [], storages: [{ storage: 'local', type: 'dir', content: ['backup'], disable: false, used: 10, total: 100 }] }),
    vms: {
      100: vm(100, 'edge-gateway', { description: 'Tailscale entry point; runs Jarvis.', tags: 'env-lab;owner-loic;role-edge-gateway;tier-lan', scsi0: 'local-lvm:vm-100-disk-0,cache=none,discard=on,iothread=1,size=32G,ssd=1', net0: 'virtio=BC:24:11:00:01:00,bridge=vmbr0,firewall=1', ...cloudInit(100) }),
      300: vm(300, 'app-host', { cores: 4, memory: '8192', description: 'Docker host (Plex, Jarvis, Monitoring, Kargo-preprod).', tags: 'env-lab;owner-loic;role-app-host;tier-lan', scsi0: 'local-lvm:vm-300-disk-0,cache=none,discard=on,iothread=1,size=128G,ssd=1', net0: 'virtio=BC:24:11:00:03:00,bridge=vmbr0,firewall=1', ...cloudInit(300) }),
      400: vm(400, 'home-assistant', { bios: 'ovmf', memory: '4096', description: 'Home Assistant OS.', tags: 'env-lab;owner-loic;role-home-assistant;tier-lan', efidisk0: 'local-lvm:vm-400-disk-0,efitype=4m,size=4M', scsi0: 'local-lvm:vm-400-disk-1,cache=none,discard=on,iothread=1,size=64G,ssd=1', net0: 'virtio=BC:24:11:00:04:00,bridge=vmbr0,firewall=1' }),
    },
    network: known([{ iface: 'vmbr0', type: 'bridge', active: true, autostart: true, bridge_ports: ['enp3s0'], cidr: '192.168.1.10/24', gateway: '192.168.1.1', comments: 'LAN (physical uplink)', pending: false }]),
    storages: known([
      { storage: 'local', type: 'dir', content: ['backup', 'import', 'iso', 'snippets', 'vztmpl'], path: '/var/lib/vz', disable: false },
      { storage: 'local-lvm', type: 'lvmthin', content: ['images', 'rootdir'], disable: false },
    ]),
    disks: known([]),
    zfsPools: known([]),
    zfsDatasets: unknown('no host shell'),
    snapshotPolicies: unknown('no host shell'),
    dirMappings: known([]),
    firewall: known({
      cluster: { options: { enable: 0 }, rules: [], groups: [], ipsets: [], aliases: [] },
      node: { options: {}, rules: [] },
      vms: { 100: { options: {}, rules: [] }, 300: { options: {}, rules: [] }, 400: { options: {}, rules: [] } },
    }),
    backupJobs: known([{ id: 'jarvis-daily', schedule: '02:30', storage: 'local', mode: 'snapshot', compress: 'zstd', vmid: [100, 300, 400], all: false, enabled: true, 'prune-backups': { 'keep-daily': 7, 'keep-weekly': 4, 'keep-monthly': 6 }, comment: 'Jarvis-managed nightly backup' }]),
    tailnet: known({ devices: [device('edge-gateway', 1), device('home-assistant', 2)], funnelTargets: [] }),
    storageContent: known([
      { volid: 'local:snippets/jarvis-vendor-100.yaml', content: 'snippets' },
      { volid: 'local:snippets/jarvis-vendor-300.yaml', content: 'snippets' },
    ]),
    guests: {
      100: known({ tailscale: { installed: true, joined: true, hostname: 'edge-gateway', advertisedRoutes: [], funnel: false } }),
      300: known({ docker: { installed: true, compose: true }, naasLayout: { present: true, stacks: ['plex', 'jarvis', 'monitoring', 'kargo-preprod'] }, mounts: [] }),
      400: known({ tailscale: { installed: true, joined: true, hostname: 'home-assistant', advertisedRoutes: [], funnel: false } }),
    },
  };
}
