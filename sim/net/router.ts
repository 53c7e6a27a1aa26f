// OPNsense as the owner configured it (router-config.ts), for packets that reach one of its interfaces. pf filters on
// the interface a packet comes in on; rules are evaluated first match ("quick"), and what no rule passes is blocked
// (OPNsense's default deny). Around the owner's rules OPNsense adds its own: on WAN, "Block private networks" drops
// RFC 1918 sources first; on LAN, the anti-lockout rule passes the web GUI (80/443) to the LAN address, and the
// "Default allow LAN to any rule" from the installation comes after the owner's rules (they are placed above it).
// Replies of an allowed connection pass (pf keeps state). Outbound NAT in automatic mode rewrites the source of
// traffic leaving WAN from the other subnets to the WAN address. Unbound answers DNS on every interface; the web GUI
// listens on 80 and 443.
import { cidrHas, inSubnet, isPrivate, parseIpv4Cidr } from './ipv4.ts';
import type { Packet } from './packet-filter.ts';
import type { RouterConfig, RouterInterface, RouterRule } from './router-config.ts';

export type RouterVerdict = 'pass' | 'block' | 'reject';

function matchesAddress(spec: string | undefined, ip: string, config: RouterConfig): boolean {
  if (spec === undefined) return true;
  const negated = spec.startsWith('!');
  const text = spec.replace(/^!/, '').trim();
  let hit: boolean;
  if (text === 'any') hit = true;
  else if (parseIpv4Cidr(text)) hit = cidrHas(text, ip);
  else {
    const named = /^(.+) (net|address)$/.exec(text);
    const iface = named ? config.interfaces.find((i) => i.name === named[1]) : undefined;
    const cidr = iface ? parseIpv4Cidr(iface.address) : undefined;
    hit = !!cidr && (named![2] === 'address' ? ip === cidr.ip : inSubnet(ip, cidr.ip, cidr.prefix));
  }
  return negated ? !hit : hit;
}

function matchesProtocol(rule: RouterRule, p: Packet): boolean {
  const protocol = rule.protocol ?? 'any';
  if (protocol === 'any') return true;
  if (protocol === 'tcp/udp') return p.proto === 'tcp' || p.proto === 'udp';
  return protocol === p.proto;
}

function matchesPort(rule: RouterRule, p: Packet): boolean {
  if (rule.port === undefined) return true;
  if (p.proto === 'icmp' || p.dport === undefined) return false;
  const [lo, hi = lo] = rule.port.split(/[-:]/).map(Number);
  return p.dport >= lo! && p.dport <= hi!;
}

const ruleMatches = (rule: RouterRule, p: Packet, config: RouterConfig): boolean =>
  matchesProtocol(rule, p) && matchesAddress(rule.source, p.src, config) && matchesAddress(rule.destination, p.dst, config) && matchesPort(rule, p);

/** pf on the interface the packet arrives on. */
export function routerInbound(config: RouterConfig, iface: RouterInterface, p: Packet): RouterVerdict {
  if (iface.assign === 'WAN' && iface.blockPrivate !== false && isPrivate(p.src)) return 'block';
  const own = parseIpv4Cidr(iface.address);
  if (iface.assign === 'LAN' && own && p.dst === own.ip && p.proto === 'tcp' && (p.dport === 80 || p.dport === 443)) return 'pass';
  for (const rule of config.rules) {
    if (rule.interface === iface.name && ruleMatches(rule, p, config)) return rule.action;
  }
  if (iface.assign === 'LAN' && config.defaultLanAllow !== false && own && inSubnet(p.src, own.ip, own.prefix)) return 'pass';
  return 'block';
}

/** The router's own services on its interface addresses. */
export function routerListens(config: RouterConfig, p: Packet): boolean {
  if (p.proto === 'icmp') return true;
  if (p.dport === 53) return config.dnsResolver !== false;
  return p.proto === 'tcp' && (p.dport === 80 || p.dport === 443);
}

/** Automatic outbound NAT: leaving WAN from a subnet that is not WAN's own. */
export function natSource(config: RouterConfig, egress: RouterInterface, src: string): string {
  const wan = parseIpv4Cidr(egress.address);
  if (egress.assign !== 'WAN' || config.outboundNat === 'disabled' || !wan || inSubnet(src, wan.ip, wan.prefix)) return src;
  return wan.ip;
}
