// One new connection through the simulated network, hop by hop, as the packets would go: the sender's routing table
// picks an interface and a next hop; the next hop must answer ARP on that segment; pve-firewall judges the packet on
// the way out of a VM's tap and on the way into the next one (or into the node, PVEFW-HOST-IN), with the ruleset its
// last update cycle loaded; a router filters it on the interface it arrives on, routes it and, leaving WAN, NATs it;
// the home router hands public destinations to the internet and drops private ones it has no route for. At the
// destination something must listen (else a TCP RST: refused), and the reply needs a route back to the (NATed)
// source. Replies are not filtered again: conntrack and pf state let them through. Never a real packet is sent.
import type { SimLab } from '../lab.ts';
import { internetListens } from './internet-hosts.ts';
import { isPrivate } from './ipv4.ts';
import { hostInput, vmNic, type Packet, type Verdict } from './packet-filter.ts';
import { natSource, routerInbound, routerListens } from './router.ts';
import { lookup, routeTable } from './routes.ts';
import { attachmentsOf, onSegment, routerAttachments, type Attachment, type HostRef } from './segments.ts';

/** `src` is the address the sender used (before any NAT on the way). */
export type ProbeResult =
  | { kind: 'ok'; src: string }
  /** A TCP RST or ICMP port unreachable came back (nothing listens, or a REJECT). */
  | { kind: 'refused'; src: string }
  /** Nothing came back (dropped, blocked, no route on the way, no reply route). */
  | { kind: 'timeout'; src?: string }
  /** The sender found no one answering ARP for its next hop. */
  | { kind: 'host-unreachable'; src: string }
  /** The sender has no route at all. */
  | { kind: 'net-unreachable' };

const MAX_HOPS = 8;
const NODE_PORTS = [22, 3128, 8006];
const HOME_ROUTER_TCP = [53, 80, 443];

function listens(lab: SimLab, host: HostRef, p: Packet): boolean {
  if (p.proto === 'icmp' && host.kind !== 'internet') return true;
  switch (host.kind) {
    case 'guest':
      return lab.guestSystem.listening(host.vmid).some((l) => l.proto === p.proto && l.port === p.dport);
    case 'node':
      return p.proto === 'tcp' && NODE_PORTS.includes(p.dport ?? -1);
    case 'home-router':
      return (p.proto === 'udp' && p.dport === 53) || (p.proto === 'tcp' && HOME_ROUTER_TCP.includes(p.dport ?? -1));
    case 'router':
      return !!lab.netState.router && routerListens(lab.netState.router, p);
    case 'internet':
      return internetListens(lab, host.ip, p.proto, p.dport) === true;
  }
}

/** Can `host` send a reply to `to`: a route, and its next hop on the segment? */
function canReply(lab: SimLab, host: HostRef, to: string, now: number): boolean {
  if (host.kind === 'internet') return !isPrivate(to);
  const route = lookup(routeTable(lab, host, now), to);
  if (!route) return false;
  if (host.kind === 'home-router' && route.dev === 'wan') return !isPrivate(to);
  const egress = attachmentsOf(lab, host, now).find((a) => a.dev === route.dev);
  return !!egress && !!onSegment(lab, egress.segment, route.via ?? to, now);
}

const failed = (verdict: Verdict | 'block' | 'reject', src: string): ProbeResult => (verdict === 'REJECT' || verdict === 'reject' ? { kind: 'refused', src } : { kind: 'timeout', src });

/** A new connection (TCP), datagram exchange (UDP) or echo request (ICMP) from `from` to `dst`. */
export function probe(lab: SimLab, from: HostRef, dst: string, proto: Packet['proto'], dport?: number, now = Date.now()): ProbeResult {
  const fw = lab.firewall.active;
  let host: HostRef = from;
  const packet: Packet = { src: '', dst, proto, ...(dport !== undefined ? { dport } : {}), ...(proto === 'icmp' ? {} : { sport: 43210 }) };
  let origin = '';
  if (attachmentsOf(lab, from, now).some((a) => a.ip === dst) || dst.startsWith('127.')) {
    return listens(lab, from, packet) ? { kind: 'ok', src: dst } : { kind: 'refused', src: dst };
  }
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const route = lookup(routeTable(lab, host, now), packet.dst);
    if (!route) return hop === 0 ? { kind: 'net-unreachable' } : { kind: 'timeout', src: origin };
    if (host.kind === 'home-router' && route.dev === 'wan') {
      // The home router's NAT to the ISP: public addresses are the internet's; private ones go nowhere.
      if (isPrivate(packet.dst) || internetListens(lab, packet.dst, proto, dport) === undefined) return { kind: 'timeout', src: origin };
      return listens(lab, { kind: 'internet', ip: packet.dst }, packet) ? { kind: 'ok', src: origin } : { kind: 'refused', src: origin };
    }
    const egress: Attachment | undefined = attachmentsOf(lab, host, now).find((a) => a.dev === route.dev);
    if (!egress) return hop === 0 ? { kind: 'net-unreachable' } : { kind: 'timeout', src: origin };
    if (hop === 0) packet.src = origin = route.src ?? egress.ip;
    if (host.kind === 'router' && lab.netState.router) {
      const iface = routerAttachments(lab).find((a) => a.dev === egress.dev)?.iface;
      if (iface) packet.src = natSource(lab.netState.router, iface, packet.src);
    }
    if (egress.vmNic) {
      const verdict = vmNic(fw, egress.vmNic.vmid, egress.vmNic.netKey, 'out', packet);
      if (verdict !== 'ACCEPT') return failed(verdict, origin);
    }
    const target = onSegment(lab, egress.segment, route.via ?? packet.dst, now);
    if (!target) return hop === 0 ? { kind: 'host-unreachable', src: origin } : { kind: 'timeout', src: origin };
    if (target.vmNic) {
      const verdict = vmNic(fw, target.vmNic.vmid, target.vmNic.netKey, 'in', packet);
      if (verdict !== 'ACCEPT') return failed(verdict, origin);
    }
    if (target.host.kind === 'router') {
      const router = lab.netState.router;
      const iface = routerAttachments(lab).find((a) => a.ip === target.ip)?.iface;
      if (!router || !iface) return { kind: 'timeout', src: origin };
      const verdict = routerInbound(router, iface, packet);
      if (verdict !== 'pass') return failed(verdict, origin);
    }
    const destination = attachmentsOf(lab, target.host, now).some((a) => a.ip === packet.dst);
    if (destination) {
      if (target.host.kind === 'node') {
        const verdict = hostInput(fw, { ...packet, iface: target.dev });
        if (verdict !== 'ACCEPT') return failed(verdict, origin);
      }
      if (!listens(lab, target.host, packet)) return { kind: 'refused', src: origin };
      return canReply(lab, target.host, packet.src, now) ? { kind: 'ok', src: origin } : { kind: 'timeout', src: origin };
    }
    // Not for this host: only routers forward (guests and the node have ip_forward off).
    const forwards = target.host.kind === 'home-router' || (target.host.kind === 'router' && !lab.netState.faults.routerNotRouting);
    if (!forwards) return { kind: 'timeout', src: origin };
    host = target.host;
  }
  return { kind: 'timeout', src: origin };
}
