// What a remote device on the tailnet reaches through a subnet router. Its client sends traffic for a subnet to the
// device whose advertised route covers it and is enabled (approved) in the tailnet, longest prefix first; without
// one the traffic never enters the tailnet. The subnet router's kernel must forward (net.ipv4.ip_forward=1, or
// tailscale warns "IP forwarding is disabled, subnet routing/exit nodes will not work"); tailscaled SNATs the
// traffic to the router's own address (--snat-subnet-routes defaults to true), so from there on it is a connection
// the guest itself opens: its routing table (a route towards SERVICES/IOT via the router VM's WAN address, or
// nothing but the home router's default route) and every firewall on the way decide (path.ts).
import type { SimLab } from '../lab.ts';
import { cidrHas, parseIpv4Cidr } from './ipv4.ts';
import { refreshAll } from './guest-net.ts';
import { probe, type ProbeResult } from './path.ts';
import type { Packet } from './packet-filter.ts';

export type TailnetReach =
  | { kind: 'no-route' }
  | { kind: 'not-forwarding'; device: string }
  | { kind: 'router-offline'; device: string }
  | (ProbeResult & { device: string });

/** The guest a tailnet device runs on (by the Tailscale hostname the guest joined with). */
function guestOf(lab: SimLab, hostname: string): number | undefined {
  for (const [vmid, guest] of Object.entries(lab.guests)) {
    const tailscale = guest.facts.tailscale as { hostname?: string; joined?: boolean } | undefined;
    if (tailscale?.hostname === hostname && tailscale.joined !== false) return Number(vmid);
  }
  return undefined;
}

export function tailnetReaches(lab: SimLab, address: string, proto: Packet['proto'], port?: number, now = Date.now()): TailnetReach {
  refreshAll(lab);
  const candidates = [...lab.tailnet.devices.values()].flatMap((device) =>
    device.advertisedRoutes.filter((route) => device.enabledRoutes.includes(route) && cidrHas(route, address)).map((route) => ({ device, prefix: parseIpv4Cidr(route)?.prefix ?? 0 })),
  );
  const chosen = candidates.sort((a, b) => b.prefix - a.prefix)[0];
  if (!chosen) return { kind: 'no-route' };
  const hostname = chosen.device.hostname;
  const vmid = guestOf(lab, hostname);
  const vm = vmid === undefined ? undefined : lab.vms.get(vmid);
  if (vmid === undefined || !vm || vm.status !== 'running' || !lab.netState.guests.has(vmid)) return { kind: 'router-offline', device: hostname };
  if (lab.guestSystem.sysctl(vmid, 'net.ipv4.ip_forward') !== '1') return { kind: 'not-forwarding', device: hostname };
  return { ...probe(lab, { kind: 'guest', vmid }, address, proto, port, now), device: hostname };
}
