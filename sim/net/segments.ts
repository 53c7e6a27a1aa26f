// Who is on which layer-2 segment, and with which IPv4 address. A segment is a Linux bridge of the node (a VLAN tag
// on a NIC makes its own segment). vmbr0 has the physical port, so the home LAN is on it: the home router (the LAN's
// gateway, DHCP server and DNS, e.g. 192.168.1.1) and the node's own address. vmbr1 and vmbr2 have no port: only the
// guests plugged into them, and the router VM once the owner has installed and configured OPNsense.
import { parseNetProperty } from '../../lib/pve-formats.ts';
import type { SimLab, SimVm } from '../lab.ts';
import { upInterfaces } from '../interfaces.ts';
import { parseIpv4Cidr } from './ipv4.ts';
import type { RouterInterface } from './router-config.ts';

export type HostRef =
  | { kind: 'guest'; vmid: number }
  | { kind: 'router'; vmid: number }
  | { kind: 'node' }
  | { kind: 'home-router' }
  | { kind: 'internet'; ip: string };

export interface Attachment {
  host: HostRef;
  segment: string;
  ip: string;
  prefix: number;
  /** The interface name on that host. */
  dev: string;
  /** A VM NIC: pve-firewall's tap chains for it apply. */
  vmNic?: { vmid: number; netKey: string };
}

/** pve-common Network/Interfaces.pm $PHYSICAL_NIC_RE. */
const PHYSICAL_NIC = /^(?:eth\d+|en[^:.]+|ib[^:.]+|(?:nic|if)\d+)$/;

export interface VmNic {
  netKey: string;
  mac: string;
  bridge: string;
  tag?: string;
  firewall: boolean;
  linkDown: boolean;
}

/** A VM's NICs as qemu-server has them plugged (the running config: hot-plugged changes are in it). */
export function vmNics(vm: SimVm): VmNic[] {
  return Object.keys(vm.config)
    .filter((key) => /^net\d+$/.test(key))
    .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)))
    .map((netKey) => {
      const net = parseNetProperty(vm.config[netKey]!);
      return {
        netKey,
        mac: (net.macaddr ?? '').toUpperCase(),
        bridge: net.bridge ?? '',
        ...(net.tag ? { tag: net.tag } : {}),
        firewall: net.firewall === '1',
        linkDown: net.link_down === '1',
      };
    });
}

/** The segment a NIC is on: its bridge, or the bridge's VLAN when tagged. */
export const segmentOf = (bridge: string, tag?: string): string => (tag ? `${bridge}.${tag}` : bridge);

/** Bridges that are up after ifreload (sim/interfaces.ts). */
export function bridgeUp(lab: SimLab, bridge: string): boolean {
  return upInterfaces(lab.network).has(bridge);
}

/** The home LAN: the bridge with a physical port that carries the node's gateway (vmbr0 on a fresh node). */
export function homeLan(lab: SimLab): { segment: string; gateway: string; prefix: number } | undefined {
  for (const iface of lab.network.values()) {
    if (typeof iface.gateway !== 'string' || typeof iface.cidr !== 'string') continue;
    const ports = [iface.bridge_ports, iface.ovs_ports].flatMap((p) => (typeof p === 'string' ? p.split(/\s+/) : []));
    const physical = ports.some((p) => PHYSICAL_NIC.test(p) && lab.network.get(p)?.type !== 'OVSIntPort');
    const cidr = parseIpv4Cidr(iface.cidr);
    if (physical && cidr && bridgeUp(lab, iface.iface)) return { segment: iface.iface, gateway: iface.gateway, prefix: cidr.prefix };
  }
  return undefined;
}

/** The node's own addresses on its bridges (a VLAN interface `vmbr0.10` sits on segment vmbr0.10). */
function nodeAttachments(lab: SimLab): Attachment[] {
  const up = upInterfaces(lab.network);
  const out: Attachment[] = [];
  for (const iface of lab.network.values()) {
    const cidr = typeof iface.cidr === 'string' ? parseIpv4Cidr(iface.cidr) : undefined;
    if (!cidr || !up.has(iface.iface)) continue;
    const raw = typeof iface['vlan-raw-device'] === 'string' ? iface['vlan-raw-device'] : undefined;
    const tag = typeof iface['vlan-id'] === 'string' ? iface['vlan-id'] : undefined;
    const segment = raw && tag ? segmentOf(raw, tag) : typeof iface.ovs_bridge === 'string' ? segmentOf(iface.ovs_bridge, /tag=(\d+)/.exec(String(iface.ovs_options ?? ''))?.[1]) : iface.iface;
    out.push({ host: { kind: 'node' }, segment, ip: cidr.ip, prefix: cidr.prefix, dev: iface.iface });
  }
  return out;
}

/** A guest whose network stack runs (from the moment its boot brought the network up, before cloud-init's packages). */
export function guestUp(lab: SimLab, vmid: number): boolean {
  const vm = lab.vms.get(vmid);
  return !!vm && vm.status === 'running' && !!vm.boot && lab.netState.guests.has(vmid);
}

/** The addresses a running guest has configured now, per NIC (static, or a bound DHCP lease). */
export function guestAttachments(lab: SimLab, vmid: number, now = Date.now()): Attachment[] {
  const vm = lab.vms.get(vmid);
  const net = lab.netState.guests.get(vmid);
  if (!vm || !net || !guestUp(lab, vmid)) return [];
  const out: Attachment[] = [];
  for (const nic of vmNics(vm)) {
    const config = net.nics.find((c) => c.netKey === nic.netKey);
    if (!config || nic.linkDown || !bridgeUp(lab, nic.bridge)) continue;
    const base = { host: { kind: 'guest', vmid } as HostRef, segment: segmentOf(nic.bridge, nic.tag), dev: config.name, vmNic: { vmid, netKey: nic.netKey } };
    for (const address of config.addresses) {
      const cidr = parseIpv4Cidr(address);
      if (cidr) out.push({ ...base, ip: cidr.ip, prefix: cidr.prefix });
    }
    const lease = net.leases.get(nic.netKey);
    if (lease && lease.boundAt <= now) out.push({ ...base, ip: lease.ip, prefix: lease.prefix });
  }
  return out;
}

/** Is the router VM up as OPNsense, installed and configured by the owner? */
export function routerUp(lab: SimLab): boolean {
  const router = lab.netState.router;
  const vm = router ? lab.vms.get(router.vmid) : undefined;
  return !!vm && vm.status === 'running' && !!vm.boot?.ready && vm.boot.os === 'opnsense';
}

/** The router's interfaces that are plugged in (its NIC by MAC, link up, bridge up). */
export function routerAttachments(lab: SimLab): Array<Attachment & { iface: RouterInterface }> {
  const router = lab.netState.router;
  if (!router || !routerUp(lab)) return [];
  const nics = vmNics(lab.vm(router.vmid));
  const out: Array<Attachment & { iface: RouterInterface }> = [];
  for (const iface of router.interfaces) {
    const nic = nics.find((n) => n.mac === iface.mac.toUpperCase());
    const cidr = parseIpv4Cidr(iface.address);
    if (!nic || !cidr || nic.linkDown || !bridgeUp(lab, nic.bridge)) continue;
    const dev = `vtnet${nic.netKey.slice(3)}`;
    out.push({ host: { kind: 'router', vmid: router.vmid }, segment: segmentOf(nic.bridge, nic.tag), ip: cidr.ip, prefix: cidr.prefix, dev, vmNic: { vmid: router.vmid, netKey: nic.netKey }, iface });
  }
  return out;
}

/** Everything with an address on every segment right now. */
export function allAttachments(lab: SimLab, now = Date.now()): Attachment[] {
  const out: Attachment[] = [...nodeAttachments(lab)];
  const lan = homeLan(lab);
  if (lan) out.push({ host: { kind: 'home-router' }, segment: lan.segment, ip: lan.gateway, prefix: lan.prefix, dev: 'lan' });
  out.push(...routerAttachments(lab));
  for (const vmid of lab.netState.guests.keys()) out.push(...guestAttachments(lab, vmid, now));
  return out;
}

/** Address resolution on a segment: who answers ARP for this address. */
export function onSegment(lab: SimLab, segment: string, ip: string, now = Date.now()): Attachment | undefined {
  return allAttachments(lab, now).find((a) => a.segment === segment && a.ip === ip);
}

/** The attachments of one host. */
export function attachmentsOf(lab: SimLab, host: HostRef, now = Date.now()): Attachment[] {
  if (host.kind === 'guest') return guestAttachments(lab, host.vmid, now);
  if (host.kind === 'router') return routerAttachments(lab);
  return allAttachments(lab, now).filter((a) => a.host.kind === host.kind);
}
