// Phase-2 segments as data: each segment with its defaults filled in (the LAN's gateway is the LAN bridge's, an
// internal segment's router address is its gateway), which guest serves what (the ports a NIC move must keep
// reachable), and which guest can look at the network from the LAN (the router gate's and the checks' vantage point).
// Pure: the guardrails, the diff and the manual step all read the same answers.
import { cidrContains, formatCidr, parseCidr, parseIp } from '../lib/pve-formats.ts';
import type { NicSpec, SegmentSpec, Spec, VmSpec } from './spec/schema.ts';

export type SegmentName = SegmentSpec['name'];

export interface Segment {
  name: SegmentName;
  bridge: string;
  /** The network, host bits cleared (`10.10.20.0/24`). */
  cidr: string;
  /** Where the segment's guests send their traffic (home router on the LAN, router VM elsewhere). */
  gateway?: string;
  /** Router VM 150's own address on the segment. */
  router?: string;
  dhcp?: { from: string; to: string };
  /** SERVICES and IOT: no physical port; only the router connects them. */
  internal: boolean;
}

export interface ServicePort {
  proto: 'tcp' | 'udp';
  port: number;
  /** What the spec says serves it (`stack plex`, `Home Assistant`, `allow flow IOT to MQTT`). */
  what: string;
}

const networkOf = (cidr: string): string | undefined => {
  const parsed = parseCidr(cidr);
  return parsed && parsed.family === 4 ? formatCidr(parsed) : undefined;
};

/** The LAN bridge of the spec (role lan) and its gateway and node address. */
export function lanBridge(spec: Pick<Spec, 'network'>): { iface: string; gateway?: string; nodeAddress?: string } | undefined {
  const bridge = spec.network.bridges.find((b) => b.role === 'lan');
  if (!bridge) return undefined;
  return { iface: bridge.iface, ...(bridge.gateway ? { gateway: bridge.gateway } : {}), ...(bridge.cidr ? { nodeAddress: bridge.cidr.split('/')[0] } : {}) };
}

/** The spec's segments with their defaults; empty without segmentation. */
export function segmentsOf(spec: Pick<Spec, 'network' | 'firewall'>): Segment[] {
  const seg = spec.firewall?.segmentation;
  if (!seg) return [];
  const lan = lanBridge(spec);
  return seg.segments.map((s) => {
    const internal = s.name !== 'lan';
    const gateway = s.gateway ?? (internal ? undefined : lan?.gateway);
    const router = s.router ?? (internal ? s.gateway : undefined);
    return {
      name: s.name,
      bridge: s.bridge,
      cidr: networkOf(s.cidr) ?? s.cidr,
      ...(gateway ? { gateway } : {}),
      ...(router ? { router } : {}),
      ...(s.dhcp ? { dhcp: { ...s.dhcp } } : {}),
      internal,
    };
  });
}

export const segmentOfBridge = (segments: Segment[], bridge: string): Segment | undefined => segments.find((s) => s.bridge === bridge);

/** True when `ip` is an IPv4 address of `cidr`. */
export function inCidr(cidr: string, ip: string): boolean {
  return parseIp(ip)?.family === 4 && cidrContains(cidr, ip);
}

const HOST_PORT = /^(?:(?:\d{1,3}\.){3}\d{1,3}:)?(\d{1,5})(?:-\d{1,5})?:\d{1,5}(?:-\d{1,5})?(?:\/(tcp|udp))?$/;

/** Home Assistant's web UI, and Mosquitto's port when MQTT runs on the VM. */
const HOME_ASSISTANT_PORT = 8123;
const MQTT_PORT = 1883;

/**
 * What a guest serves, by what the spec says: its Docker stacks' published host ports, Home Assistant's 8123 (and
 * 1883 with MQTT) on the home-assistant VM, and the single ports the segmentation's allow flows open to it.
 */
export function servicePorts(allow: ReadonlyArray<{ to: string; proto: 'tcp' | 'udp'; dport: string; from: string; comment?: string }>, vm: Pick<VmSpec, 'name' | 'role' | 'provision' | 'vmid'>): ServicePort[] {
  const out: ServicePort[] = [];
  const add = (proto: 'tcp' | 'udp', port: number, what: string) => {
    if (!out.some((p) => p.proto === proto && p.port === port)) out.push({ proto, port, what });
  };
  for (const stack of vm.provision?.docker?.stacks ?? []) {
    for (const mapping of stack.ports) {
      const m = HOST_PORT.exec(mapping);
      if (m) add((m[2] as 'tcp' | 'udp' | undefined) ?? 'tcp', Number(m[1]), `stack ${stack.name}`);
    }
  }
  if (vm.role === 'home-assistant') {
    add('tcp', HOME_ASSISTANT_PORT, 'Home Assistant');
    if (vm.provision?.homeAssistant?.mqtt) add('tcp', MQTT_PORT, 'MQTT (Mosquitto)');
  }
  for (const flow of allow) {
    if (flow.to !== vm.name && flow.to !== String(vm.vmid)) continue;
    if (/^\d{1,5}$/.test(flow.dport)) add(flow.proto, Number(flow.dport), flow.comment ?? `allow flow from ${flow.from}`);
  }
  return out.sort((a, b) => a.port - b.port || a.proto.localeCompare(b.proto));
}

/** The bridge of a VM's first NIC in a NIC list. */
export const primaryBridge = (net: NicSpec[]): string | undefined => net[0]?.bridge;

/** A guest Jarvis can look through at the network: Debian (iproute2, iputils-ping, netcat-openbsd) with its agent. */
export const canProbe = (vm: Pick<VmSpec, 'os' | 'agent'>): boolean => vm.os === 'debian-13' && vm.agent;

/**
 * The guest that checks the router from the LAN: the edge-gateway when it qualifies, else the first Debian guest with
 * its agent on the LAN bridge (in the VM list given: a phase's desired VMs).
 */
export function lanProber<T extends Pick<VmSpec, 'vmid' | 'role' | 'os' | 'agent' | 'net'>>(vms: T[], lanIface: string | undefined): T | undefined {
  const onLan = vms.filter((vm) => canProbe(vm) && lanIface !== undefined && primaryBridge(vm.net) === lanIface);
  return onLan.find((vm) => vm.role === 'edge-gateway') ?? onLan[0];
}
