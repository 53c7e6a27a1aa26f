// The in-guest network checks, as commands and as readings of their output. Jarvis looks at a guest's network only
// through its guest agent and only with these tools: `ip -j addr show` and `ip -j route show default` (iproute2),
// `ping -c 1 -W 2 ADDRESS` (iputils-ping), `getent ahostsv4 NAME` (DNS through the guest's own resolver),
// `nc -z -w 3 ADDRESS PORT` (netcat-openbsd), and to take an address in a new segment `networkctl renew IFACE`
// (systemd-networkd, what netplan renders to on Debian 13 cloud images). Every value put in a command is checked
// first: an address is an IPv4 address, a name a DNS name, an interface an interface name.
import { parseIp } from './pve-formats.ts';

export type NetProbe =
  | { kind: 'addresses' }
  | { kind: 'default-route' }
  | { kind: 'ping'; address: string }
  | { kind: 'resolve'; name: string }
  | { kind: 'connect'; address: string; port: number }
  | { kind: 'renew'; iface: string };

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;
const IFACE = /^[A-Za-z0-9_.-]{1,15}$/;

function ipv4(address: string): string {
  if (parseIp(address)?.family !== 4) throw new Error(`not an IPv4 address: ${JSON.stringify(address)}`);
  return address;
}

/** The argv of a probe (the agent runs it without a shell). */
export function probeArgv(probe: NetProbe): string[] {
  switch (probe.kind) {
    case 'addresses':
      return ['ip', '-j', 'addr', 'show'];
    case 'default-route':
      return ['ip', '-j', 'route', 'show', 'default'];
    case 'ping':
      return ['ping', '-c', '1', '-W', '2', ipv4(probe.address)];
    case 'resolve':
      if (!DNS_NAME.test(probe.name)) throw new Error(`not a DNS name: ${JSON.stringify(probe.name)}`);
      return ['getent', 'ahostsv4', probe.name];
    case 'connect':
      if (!Number.isInteger(probe.port) || probe.port < 1 || probe.port > 65535) throw new Error(`not a port: ${probe.port}`);
      return ['nc', '-z', '-w', '3', ipv4(probe.address), String(probe.port)];
    case 'renew':
      if (!IFACE.test(probe.iface)) throw new Error(`not an interface name: ${JSON.stringify(probe.iface)}`);
      return ['networkctl', 'renew', probe.iface];
  }
}

/** The same probe as one shell line (every part is checked above, so it needs no quoting). */
export const probeCommand = (probe: NetProbe): string => probeArgv(probe).join(' ');

/** How a probe reads in a report: `ping 10.10.20.1`, `nc -z 192.168.1.10 8006`. */
export function describeProbe(probe: NetProbe): string {
  switch (probe.kind) {
    case 'addresses':
      return 'its addresses';
    case 'default-route':
      return 'its default route';
    case 'ping':
      return `ping ${probe.address}`;
    case 'resolve':
      return `resolve ${probe.name}`;
    case 'connect':
      return `connect to ${probe.address}:${probe.port}`;
    case 'renew':
      return `renew the DHCP lease on ${probe.iface}`;
  }
}

export interface InterfaceAddresses {
  ifname: string;
  /** IPv4 addresses with their prefix. */
  ipv4: Array<{ address: string; prefix: number }>;
}

/** `ip -j addr show`: every interface with its IPv4 addresses (loopback included, as ip lists it). */
export function parseAddresses(stdout: string): InterfaceAddresses[] {
  const json: unknown = JSON.parse(stdout || '[]');
  if (!Array.isArray(json)) throw new Error('ip -j addr show did not print a list');
  return json.flatMap((entry: unknown) => {
    if (!entry || typeof entry !== 'object') return [];
    const { ifname, addr_info } = entry as { ifname?: unknown; addr_info?: unknown };
    if (typeof ifname !== 'string') return [];
    const infos = Array.isArray(addr_info) ? addr_info : [];
    const ipv4 = infos.flatMap((info: unknown) => {
      const { family, local, prefixlen } = (info ?? {}) as { family?: unknown; local?: unknown; prefixlen?: unknown };
      return family === 'inet' && typeof local === 'string' && typeof prefixlen === 'number' ? [{ address: local, prefix: prefixlen }] : [];
    });
    return [{ ifname, ipv4 }];
  });
}

/** `ip -j route show default`: the first default route's gateway and device, if any. */
export function parseDefaultRoute(stdout: string): { gateway?: string; dev?: string } | undefined {
  const json: unknown = JSON.parse(stdout || '[]');
  if (!Array.isArray(json) || json.length === 0) return undefined;
  const { gateway, dev } = (json[0] ?? {}) as { gateway?: unknown; dev?: unknown };
  return { ...(typeof gateway === 'string' ? { gateway } : {}), ...(typeof dev === 'string' ? { dev } : {}) };
}

/** `getent ahostsv4 NAME`: the addresses it printed (first column). */
export function parseResolved(stdout: string): string[] {
  return [...new Set(stdout.split('\n').map((line) => line.trim().split(/\s+/)[0] ?? '').filter((word) => parseIp(word)?.family === 4))];
}
