// DHCPv4 on the simulated segments. A client broadcasts; only a server on the same segment hears it: the home router
// on the LAN (its pool and the owner's reservations), the router VM's DHCP server on a segment where the owner enabled
// one. pve-firewall lets DHCP through a firewalled NIC unless the VM option `dhcp` is 0 (Firewall.pm
// ruleset_create_vm_chain), and a firewalled server NIC judges the request like any packet. A server binds an address
// to the client's MAC and hands the same one back later (RFC 2131 4.3.1).
import type { SimLab } from '../lab.ts';
import { ipToInt, intToIp, inSubnet } from './ipv4.ts';
import { vmNic } from './packet-filter.ts';
import { homeLan, routerAttachments, segmentOf, vmNics, type VmNic } from './segments.ts';
import type { Lease } from './state.ts';

/** The home router's pool (a common consumer default), outside the addresses the LAN's fixed machines use. */
const LAN_POOL = { from: 100, to: 199 };

interface Server {
  /** Server identifier: its address on the segment. */
  address: string;
  prefix: number;
  gateway: string;
  dns: string[];
  range: { from: string; to: string };
  reservations: Map<string, string>;
  /** The server is a VM NIC (pve-firewall judges the request on its tap). */
  vmNic?: { vmid: number; netKey: string };
}

/** The DHCP servers that answer on a segment right now. */
export function dhcpServers(lab: SimLab, segment: string): Server[] {
  const servers: Server[] = [];
  const lan = homeLan(lab);
  if (lan && lan.segment === segment) {
    const base = lan.gateway.split('.').slice(0, 3).join('.');
    servers.push({ address: lan.gateway, prefix: lan.prefix, gateway: lan.gateway, dns: [lan.gateway], range: { from: `${base}.${LAN_POOL.from}`, to: `${base}.${LAN_POOL.to}` }, reservations: lab.netState.lanReservations });
  }
  const router = lab.netState.router;
  for (const attachment of routerAttachments(lab)) {
    const dhcp = attachment.iface.dhcp;
    if (attachment.segment !== segment || !dhcp || lab.netState.faults.noDhcpOn.has(segment)) continue;
    servers.push({
      address: attachment.ip,
      prefix: attachment.prefix,
      gateway: attachment.ip,
      dns: router?.dnsResolver === false ? [] : [attachment.ip],
      range: { from: dhcp.from, to: dhcp.to },
      reservations: new Map(Object.entries(dhcp.reservations ?? {}).map(([mac, ip]) => [mac.toUpperCase(), ip])),
      ...(attachment.vmNic ? { vmNic: attachment.vmNic } : {}),
    });
  }
  return servers;
}

/** The server binds an address to the MAC: a reservation, the address it gave before, or the next free one. */
function bind(lab: SimLab, server: Server, mac: string): string | undefined {
  let bindings = lab.netState.bindings.get(server.address);
  if (!bindings) lab.netState.bindings.set(server.address, (bindings = new Map()));
  const reserved = server.reservations.get(mac);
  if (reserved) return reserved;
  const previous = bindings.get(mac);
  if (previous && inSubnet(previous, server.address, server.prefix)) return previous;
  const taken = new Set([...bindings.values(), ...server.reservations.values()]);
  for (let n = ipToInt(server.range.from)!; n <= ipToInt(server.range.to)!; n++) {
    const ip = intToIp(n);
    if (taken.has(ip)) continue;
    bindings.set(mac, ip);
    return ip;
  }
  return undefined;
}

/** Would the DISCOVER/REQUEST and the OFFER/ACK pass pve-firewall between this client and that server? */
function dhcpPasses(lab: SimLab, vmid: number, nic: VmNic, server: Server): boolean {
  const fw = lab.firewall.active;
  const request = { src: '0.0.0.0', dst: '255.255.255.255', proto: 'udp' as const, sport: 68, dport: 67 };
  const reply = { src: server.address, dst: '255.255.255.255', proto: 'udp' as const, sport: 67, dport: 68 };
  if (vmNic(fw, vmid, nic.netKey, 'out', request) !== 'ACCEPT' || vmNic(fw, vmid, nic.netKey, 'in', reply) !== 'ACCEPT') return false;
  if (server.vmNic && (vmNic(fw, server.vmNic.vmid, server.vmNic.netKey, 'in', request) !== 'ACCEPT' || vmNic(fw, server.vmNic.vmid, server.vmNic.netKey, 'out', reply) !== 'ACCEPT')) return false;
  return true;
}

/**
 * A fresh DORA exchange for one NIC (boot, carrier regained, `networkctl reconfigure`): the first server on its
 * segment that answers binds an address. Undefined when no server answers (no lease, no address).
 */
export function discover(lab: SimLab, vmid: number, netKey: string, boundAt: number): Lease | undefined {
  const nic = vmNics(lab.vm(vmid)).find((n) => n.netKey === netKey);
  if (!nic || nic.linkDown) return undefined;
  for (const server of dhcpServers(lab, segmentOf(nic.bridge, nic.tag))) {
    if (!dhcpPasses(lab, vmid, nic, server)) continue;
    const ip = bind(lab, server, nic.mac);
    if (ip) return { ip, prefix: server.prefix, gateway: server.gateway, dns: server.dns, server: server.address, boundAt };
  }
  return undefined;
}

/**
 * RENEWING (RFC 2131 4.4.5; systemd sd-dhcp-client sd_dhcp_client_send_renew): the client unicasts a REQUEST to the
 * server that gave the lease. Only that server, still on this NIC's segment, extends it; otherwise nothing changes
 * until the lease runs out (hours), so a renew after a move to another segment keeps the old address.
 */
export function renewLease(lab: SimLab, vmid: number, netKey: string, lease: Lease): Lease {
  const nic = vmNics(lab.vm(vmid)).find((n) => n.netKey === netKey);
  if (!nic || nic.linkDown) return lease;
  const server = dhcpServers(lab, segmentOf(nic.bridge, nic.tag)).find((s) => s.address === lease.server);
  if (!server || !dhcpPasses(lab, vmid, nic, server)) return lease;
  const ip = bind(lab, server, nic.mac);
  return ip ? { ...lease, ip, gateway: server.gateway, dns: server.dns } : lease;
}
