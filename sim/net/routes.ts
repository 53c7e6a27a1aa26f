// Each host's IPv4 routing table, as the kernel (or pf's router) would have it: a connected route per address, the
// default route from the DHCP lease (systemd-networkd installs it with metric 1024, as the prefix route of a DHCP
// address), static routes from netplan whose gateway is on a connected subnet (the kernel refuses others), and routes
// added with `ip route` since boot. The node routes through its vmbr0 gateway; the router through its WAN gateway
// and the owner's static routes; the home router sends everything that is not on the LAN to the internet.
import type { SimLab } from '../lab.ts';
import { inSubnet, parseIpv4Cidr, subnetText } from './ipv4.ts';
import { attachmentsOf, homeLan, type Attachment, type HostRef } from './segments.ts';

export interface Route {
  /** `default` or a network in CIDR form. */
  to: string;
  via?: string;
  dev: string;
  src?: string;
  metric?: number;
  protocol: 'kernel' | 'dhcp' | 'static' | 'boot';
}

const DHCP_METRIC = 1024;

function connected(attachments: Attachment[], dhcpAddresses: Set<string>): Route[] {
  return attachments.map((a) => ({
    to: subnetText(a.ip, a.prefix),
    dev: a.dev,
    src: a.ip,
    protocol: 'kernel',
    ...(dhcpAddresses.has(a.ip) ? { metric: DHCP_METRIC } : {}),
  }));
}

/** A gateway is usable when it is on a connected subnet of that interface. */
const onLink = (attachments: Attachment[], dev: string, via: string): Attachment | undefined =>
  attachments.find((a) => a.dev === dev && inSubnet(via, a.ip, a.prefix));

export function routeTable(lab: SimLab, host: HostRef, now = Date.now()): Route[] {
  const attachments = attachmentsOf(lab, host, now);
  if (host.kind === 'guest') {
    const net = lab.netState.guests.get(host.vmid);
    if (!net) return [];
    const leases = [...net.leases.entries()].filter(([, l]) => l.boundAt <= now);
    const routes = connected(attachments, new Set(leases.map(([, l]) => l.ip)));
    for (const [netKey, lease] of leases) {
      const nic = net.nics.find((n) => n.netKey === netKey);
      if (nic && lease.gateway && attachments.some((a) => a.dev === nic.name)) routes.push({ to: 'default', via: lease.gateway, dev: nic.name, src: lease.ip, metric: DHCP_METRIC, protocol: 'dhcp' });
    }
    for (const nic of net.nics) {
      for (const route of nic.routes) {
        const link = onLink(attachments, nic.name, route.via);
        if (link) routes.push({ to: route.to, via: route.via, dev: nic.name, protocol: 'static' });
      }
    }
    for (const route of net.runtimeRoutes) routes.push({ to: route.to, ...(route.via ? { via: route.via } : {}), dev: route.dev, protocol: 'boot' });
    return routes;
  }
  if (host.kind === 'node') {
    const routes = connected(attachments, new Set());
    const lan = homeLan(lab);
    const uplink = lan ? attachments.find((a) => a.segment === lan.segment) : undefined;
    if (lan && uplink) routes.push({ to: 'default', via: lan.gateway, dev: uplink.dev, protocol: 'kernel' });
    return routes;
  }
  if (host.kind === 'router') {
    const router = lab.netState.router;
    const routes = connected(attachments, new Set());
    for (const route of router?.routes ?? []) {
      const link = attachments.find((a) => inSubnet(route.via, a.ip, a.prefix));
      if (link) routes.push({ to: route.to, via: route.via, dev: link.dev, protocol: 'static' });
    }
    const wan = router?.interfaces.find((i) => i.assign === 'WAN');
    const wanLink = wan?.gateway ? attachments.find((a) => a.ip === parseIpv4Cidr(wan.address)?.ip) : undefined;
    if (wan?.gateway && wanLink) routes.push({ to: 'default', via: wan.gateway, dev: wanLink.dev, protocol: 'static' });
    return routes;
  }
  if (host.kind === 'home-router') {
    const routes = connected(attachments, new Set());
    routes.push({ to: 'default', dev: 'wan', protocol: 'kernel' });
    return routes;
  }
  return [{ to: 'default', dev: 'internet', protocol: 'kernel' }];
}

const prefixOf = (route: Route): number => (route.to === 'default' ? 0 : (parseIpv4Cidr(route.to)?.prefix ?? 33));

/** The kernel's choice: the longest matching prefix, then the lowest metric. */
export function lookup(routes: Route[], dst: string): Route | undefined {
  return routes
    .filter((r) => r.to === 'default' || (parseIpv4Cidr(r.to) && inSubnet(dst, parseIpv4Cidr(r.to)!.ip, parseIpv4Cidr(r.to)!.prefix)))
    .sort((a, b) => prefixOf(b) - prefixOf(a) || (a.metric ?? 0) - (b.metric ?? 0))[0];
}
