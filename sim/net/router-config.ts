// What the owner enters in OPNsense by hand (the manual step of phase 2), as the simulator's owner helper takes it:
// interface assignments by MAC (OPNsense Interfaces ▸ Assignments: WAN, LAN, OPTn), a static address per interface,
// the WAN's upstream gateway, a DHCPv4 server per segment (Services ▸ DHCPv4: range and static mappings), firewall
// rules per interface (Firewall ▸ Rules), static routes, outbound NAT and the Unbound resolver. Defaults are OPNsense's
// after installation: automatic outbound NAT on WAN, Unbound on, "Block private networks" on WAN, and the
// "Default allow LAN to any rule" on LAN.
import { cidrHas, inSubnet, ipToInt, isIpv4, parseIpv4Cidr, subnetText } from './ipv4.ts';

export interface RouterInterface {
  /** The VM NIC this interface is, by MAC (as the manual step names them). */
  mac: string;
  assign: 'WAN' | 'LAN' | `OPT${number}`;
  /** The description the owner gives it (e.g. SERVICES); rules name their interface by it. */
  name: string;
  /** Static IPv4 address with prefix, e.g. 10.10.20.1/24. */
  address: string;
  /** WAN: the upstream gateway. */
  gateway?: string;
  dhcp?: { from: string; to: string; reservations?: Record<string, string> };
  /** WAN: "Block private networks" (RFC 1918 sources), on by default. */
  blockPrivate?: boolean;
}

export interface RouterRule {
  /** The interface (by name) whose inbound traffic the rule filters. */
  interface: string;
  action: 'pass' | 'block' | 'reject';
  protocol?: 'any' | 'tcp' | 'udp' | 'tcp/udp' | 'icmp';
  /** `any`, an address or CIDR, `<name> net`, `<name> address`; a leading `!` negates. */
  source?: string;
  destination?: string;
  /** Destination port or range (`8123`, `8000-8999`). */
  port?: string;
  description?: string;
}

export interface RouterConfig {
  interfaces: RouterInterface[];
  rules: RouterRule[];
  routes?: Array<{ to: string; via: string }>;
  outboundNat?: 'automatic' | 'disabled';
  dnsResolver?: boolean;
  defaultLanAllow?: boolean;
}

const normalMac = (mac: string): string => mac.toUpperCase();

/** A rule address is valid when it is `any`, an address/CIDR or names an interface's net or address. */
function checkAddress(value: string, names: Set<string>, where: string): void {
  const text = value.replace(/^!/, '').trim();
  if (text === 'any' || parseIpv4Cidr(text)) return;
  const named = /^(.+) (net|address)$/.exec(text);
  if (named && names.has(named[1]!)) return;
  throw new Error(`${where}: "${value}" is not any, an IPv4 address or CIDR, or "<interface> net|address" of a configured interface`);
}

/**
 * Checks the owner's configuration against the router VM's NICs; throws a located error for the first mistake
 * (a MAC the VM does not have, a second WAN, a DHCP range outside its subnet, overlapping subnets, a rule on an
 * interface that does not exist).
 */
export function checkRouterConfig(config: RouterConfig, nics: Array<{ netKey: string; mac: string }>): void {
  const macs = new Map(nics.map((n) => [normalMac(n.mac), n.netKey]));
  const names = new Set<string>();
  const subnets: Array<{ name: string; ip: string; prefix: number }> = [];
  config.interfaces.forEach((iface, i) => {
    const where = `interfaces[${i}] (${iface.name || iface.assign})`;
    if (!macs.has(normalMac(iface.mac))) throw new Error(`${where}: MAC ${iface.mac} is none of the VM's NICs (${[...macs].map(([m, k]) => `${k}=${m}`).join(', ')})`);
    if (names.has(iface.name)) throw new Error(`${where}: the name ${iface.name} is used twice`);
    names.add(iface.name);
    const cidr = parseIpv4Cidr(iface.address);
    if (!cidr || cidr.prefix > 30) throw new Error(`${where}: address "${iface.address}" is not an IPv4 address with a prefix (e.g. 10.10.20.1/24)`);
    for (const other of subnets) {
      if (inSubnet(cidr.ip, other.ip, Math.min(cidr.prefix, other.prefix))) throw new Error(`${where}: ${subnetText(cidr.ip, cidr.prefix)} overlaps ${other.name} (${subnetText(other.ip, other.prefix)})`);
    }
    subnets.push({ name: iface.name, ...cidr });
    if (iface.gateway !== undefined && !(isIpv4(iface.gateway) && inSubnet(iface.gateway, cidr.ip, cidr.prefix))) throw new Error(`${where}: gateway ${iface.gateway} is not in ${subnetText(cidr.ip, cidr.prefix)}`);
    if (iface.dhcp) {
      const { from, to } = iface.dhcp;
      for (const end of [from, to]) if (!isIpv4(end) || !inSubnet(end, cidr.ip, cidr.prefix)) throw new Error(`${where}: DHCP range end ${end} is not in ${subnetText(cidr.ip, cidr.prefix)}`);
      if (ipToInt(from)! > ipToInt(to)!) throw new Error(`${where}: DHCP range ${from}-${to} ends before it starts`);
      const own = ipToInt(cidr.ip)!;
      if (own >= ipToInt(from)! && own <= ipToInt(to)!) throw new Error(`${where}: DHCP range ${from}-${to} contains the interface's own address ${cidr.ip}`);
      for (const [mac, ip] of Object.entries(iface.dhcp.reservations ?? {})) {
        if (!isIpv4(ip) || !cidrHas(subnetText(cidr.ip, cidr.prefix), ip)) throw new Error(`${where}: reservation ${mac} → ${ip} is not in ${subnetText(cidr.ip, cidr.prefix)}`);
      }
    }
  });
  if (config.interfaces.filter((i) => i.assign === 'WAN').length !== 1) throw new Error('interfaces: exactly one interface must be assigned WAN');
  if (config.interfaces.filter((i) => i.assign === 'LAN').length > 1) throw new Error('interfaces: only one interface can be assigned LAN');
  config.rules.forEach((rule, i) => {
    const where = `rules[${i}]${rule.description ? ` (${rule.description})` : ''}`;
    if (!names.has(rule.interface)) throw new Error(`${where}: no interface named ${rule.interface}`);
    for (const value of [rule.source, rule.destination]) if (value !== undefined) checkAddress(value, names, where);
    if (rule.port !== undefined && !/^\d{1,5}([-:]\d{1,5})?$/.test(rule.port)) throw new Error(`${where}: port "${rule.port}" is not a port or a range a-b`);
  });
  (config.routes ?? []).forEach((route, i) => {
    if (!parseIpv4Cidr(route.to)) throw new Error(`routes[${i}]: "${route.to}" is not an IPv4 network`);
    if (!subnets.some((s) => inSubnet(route.via, s.ip, s.prefix))) throw new Error(`routes[${i}]: gateway ${route.via} is on none of the router's subnets`);
  });
}
