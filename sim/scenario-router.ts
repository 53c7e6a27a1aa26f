// The router VM of phase 2 as the product builds it and the owner finishes it: the OPNsense installer downloaded on
// the node (download-url of the published .iso.bz2, checked against the published SHA-256, decompressed), VM 150
// with three VirtIO NICs (vmbr0 = WAN on the home LAN, vmbr1 = SERVICES, vmbr2 = IOT, no PVE firewall on them), a
// blank disk and the installer as a CD-ROM after it in the boot order; then what the owner enters in OPNsense for
// the reference spec's segmentation (specs/jarvis-homelab.desired.yaml, firewall.segmentation).
import { callInternal } from './dispatch.ts';
import { OPNSENSE_ISO_BZ2_URL, OPNSENSE_ISO_NAME, OPNSENSE_SUMS_URL } from './internet.ts';
import type { SimLab } from './lab.ts';
import type { RouterConfig } from './net/router-config.ts';
import { DRIVE_OPTIONS } from './scenario-guests.ts';

const NODE = '/nodes/proxmox';

/** The router's addresses: its WAN leg on the home LAN and the gateways of the two segments. */
export const ROUTER_ADDRESSES = { wan: '192.168.1.2/24', services: '10.10.20.1/24', iot: '10.10.30.1/24' } as const;

export async function buildRouterVm(lab: SimLab, vmid = 150): Promise<void> {
  const sums = lab.internet.get(OPNSENSE_SUMS_URL)!.body.toString('utf8');
  const sha256 = new RegExp(`^SHA256 \\(${OPNSENSE_ISO_NAME.replaceAll('.', '\\.')}\\.bz2\\) = ([0-9a-f]{64})$`, 'm').exec(sums)![1]!;
  await callInternal(lab, 'POST', `${NODE}/storage/local/download-url`, {
    url: OPNSENSE_ISO_BZ2_URL,
    content: 'iso',
    filename: OPNSENSE_ISO_NAME,
    compression: 'bz2',
    checksum: sha256,
    'checksum-algorithm': 'sha256',
  });
  await callInternal(lab, 'POST', `${NODE}/qemu`, {
    vmid: String(vmid),
    name: 'firewall-router',
    ostype: 'other',
    cores: '2',
    sockets: '1',
    memory: '2048',
    scsihw: 'virtio-scsi-single',
    agent: '1',
    onboot: '1',
    description: 'OPNsense router between LAN, SERVICES and IOT.',
    tags: 'env-lab;owner-loic;role-firewall-router;tier-lan',
    net0: 'virtio,bridge=vmbr0,firewall=0',
    net1: 'virtio,bridge=vmbr1,firewall=0',
    net2: 'virtio,bridge=vmbr2,firewall=0',
    scsi0: `local-lvm:16,${DRIVE_OPTIONS}`,
    ide2: `local:iso/${OPNSENSE_ISO_NAME},media=cdrom`,
    boot: 'order=scsi0;ide2',
    start: '1',
  });
}

/** The MAC of a VM's NIC. */
export const nicMac = (lab: SimLab, vmid: number, netKey: string): string => /([0-9A-F]{2}(?::[0-9A-F]{2}){5})/i.exec(lab.vm(vmid).config[netKey] ?? '')![1]!.toUpperCase();

/**
 * The owner's OPNsense configuration for the reference segmentation: WAN on the LAN (no "Block private networks":
 * the LAN is private), SERVICES on LAN and IOT on OPT1 with DHCP; default deny between the segments, SERVICES and IOT
 * kept off the node's management, IOT off the LAN, the LAN (and the tailnet through edge-gateway) into SERVICES and
 * to Home Assistant's 8123.
 */
export function referenceRouterConfig(macs: { wan: string; services: string; iot: string }, reservations: { services?: Record<string, string>; iot?: Record<string, string> } = {}): RouterConfig {
  return {
    interfaces: [
      { mac: macs.wan, assign: 'WAN', name: 'WAN', address: ROUTER_ADDRESSES.wan, gateway: '192.168.1.1', blockPrivate: false },
      { mac: macs.services, assign: 'LAN', name: 'SERVICES', address: ROUTER_ADDRESSES.services, dhcp: { from: '10.10.20.100', to: '10.10.20.199', reservations: reservations.services ?? {} } },
      { mac: macs.iot, assign: 'OPT1', name: 'IOT', address: ROUTER_ADDRESSES.iot, dhcp: { from: '10.10.30.100', to: '10.10.30.199', reservations: reservations.iot ?? {} } },
    ],
    rules: [
      { interface: 'WAN', action: 'pass', source: '192.168.1.0/24', destination: 'SERVICES net', description: 'LAN and the tailnet to SERVICES' },
      { interface: 'WAN', action: 'pass', protocol: 'tcp', source: '192.168.1.0/24', destination: 'IOT net', port: '8123', description: 'LAN to Home Assistant' },
      { interface: 'WAN', action: 'pass', protocol: 'icmp', source: '192.168.1.0/24', destination: 'IOT address', description: 'Jarvis checks the router from the LAN (ping 10.10.30.1)' },
      { interface: 'SERVICES', action: 'block', source: 'SERVICES net', destination: '192.168.1.10', description: 'SERVICES must not reach Proxmox management' },
      { interface: 'SERVICES', action: 'block', source: 'SERVICES net', destination: 'IOT net', description: 'default deny between segments' },
      { interface: 'IOT', action: 'pass', protocol: 'udp', source: 'IOT net', destination: 'IOT address', port: '53', description: 'DNS' },
      { interface: 'IOT', action: 'pass', protocol: 'icmp', source: 'IOT net', destination: 'IOT address', description: 'ping the gateway' },
      { interface: 'IOT', action: 'block', source: 'IOT net', destination: '192.168.1.0/24', description: 'IOT must not reach the LAN or Proxmox management' },
      { interface: 'IOT', action: 'block', source: 'IOT net', destination: 'SERVICES net', description: 'default deny between segments' },
      { interface: 'IOT', action: 'pass', source: 'IOT net', destination: 'any', description: 'IOT to the internet' },
    ],
  };
}
