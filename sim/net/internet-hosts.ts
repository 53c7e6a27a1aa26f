// The internet as the simulated network sees it, behind the home router: the public DNS zone (every host of the
// simulator's URL table plus the usual package and service hosts, each at a stable address of the documentation
// ranges 198.51.100.0/24 and 203.0.113.0/24), public resolvers and the root servers Unbound recurses from. Web hosts
// listen on 80 and 443, resolvers on 53; nothing else on the internet answers.
import { createHash } from 'node:crypto';
import type { SimLab } from '../lab.ts';
import { hostOf } from '../internet.ts';

/** Hosts a Debian guest, the node and OPNsense talk to besides the URL table's. */
const WELL_KNOWN = [
  'deb.debian.org',
  'security.debian.org',
  'cloud.debian.org',
  'download.proxmox.com',
  'enterprise.proxmox.com',
  'pkgs.tailscale.com',
  'controlplane.tailscale.com',
  'login.tailscale.com',
  'log.tailscale.io',
  'download.docker.com',
  'registry-1.docker.io',
  'github.com',
  'objects.githubusercontent.com',
  'ghcr.io',
  'pkg.opnsense.org',
  'www.home-assistant.io',
  'version.home-assistant.io',
];

/** Public resolvers answer on 53; a.root-servers.net is where Unbound's recursion starts. */
export const PUBLIC_RESOLVERS = ['1.1.1.1', '8.8.8.8', '9.9.9.9'];
export const ROOT_SERVER = '198.41.0.4';

function addressOf(name: string): string {
  const digest = createHash('sha256').update(name).digest();
  const net = digest[0]! % 2 === 0 ? '198.51.100' : '203.0.113';
  return `${net}.${1 + (digest[1]! % 254)}`;
}

/** The public zone: name → address. */
export function publicZone(lab: SimLab): Map<string, string> {
  const names = new Set(WELL_KNOWN);
  for (const url of lab.internet.urls()) names.add(hostOf(url));
  return new Map([...names].sort().map((name) => [name, addressOf(name)]));
}

/** What answers at a public address, on which protocol and port. */
export function internetListens(lab: SimLab, ip: string, proto: 'tcp' | 'udp' | 'icmp', port?: number): boolean | undefined {
  if (PUBLIC_RESOLVERS.includes(ip) || ip === ROOT_SERVER) return proto === 'icmp' || port === 53;
  if (![...publicZone(lab).values()].includes(ip)) return undefined;
  return proto === 'icmp' || (proto === 'tcp' && (port === 80 || port === 443));
}
