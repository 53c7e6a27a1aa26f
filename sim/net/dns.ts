// Name resolution as a guest's resolver does it (glibc getaddrinfo through the stub): the DNS servers it learned
// from DHCP (option 6) or its static netplan `nameservers`, tried in order; a server that does not answer over UDP
// 53 (no path, a firewall) costs the resolver's timeout (resolv.conf: 5 s × 2 attempts) before the next one. The home
// router and the public resolvers recurse to the internet; OPNsense's Unbound recurses from the router itself, so it
// answers only when the router reaches the root servers. The node resolves through its resolv.conf (192.168.1.1).
import type { SimLab } from '../lab.ts';
import { PUBLIC_RESOLVERS, publicZone, ROOT_SERVER } from './internet-hosts.ts';
import { isIpv4 } from './ipv4.ts';
import { probe } from './path.ts';
import { homeLan, routerAttachments, type HostRef } from './segments.ts';

export type Resolution = { kind: 'found'; name: string; address: string } | { kind: 'nxdomain' } | { kind: 'timeout'; seconds: number };

/** glibc resolv.conf defaults: timeout:5 attempts:2. */
const RESOLVER_SECONDS = 5 * 2;

/** The nameservers a machine uses, in order. */
export function nameservers(lab: SimLab, asker: HostRef, now = Date.now()): string[] {
  if (asker.kind === 'node') return [homeLan(lab)?.gateway ?? '192.168.1.1'];
  if (asker.kind !== 'guest') return [];
  const net = lab.netState.guests.get(asker.vmid);
  if (!net) return [];
  const fromLeases = [...net.leases.values()].filter((l) => l.boundAt <= now).flatMap((l) => l.dns);
  return [...new Set([...net.nics.flatMap((n) => n.nameservers), ...fromLeases])];
}

/** Does the server at `address` resolve public names (recursion works from where it sits)? */
function recurses(lab: SimLab, address: string, now: number): boolean {
  if (PUBLIC_RESOLVERS.includes(address)) return true;
  if (homeLan(lab)?.gateway === address) return true;
  const router = routerAttachments(lab).find((a) => a.ip === address);
  if (router && lab.netState.router?.dnsResolver !== false) return probe(lab, router.host, ROOT_SERVER, 'udp', 53, now).kind === 'ok';
  return false;
}

export function resolve(lab: SimLab, asker: HostRef, name: string, now = Date.now()): Resolution {
  if (isIpv4(name)) return { kind: 'found', name, address: name };
  if (name === 'localhost') return { kind: 'found', name, address: '127.0.0.1' };
  const servers = nameservers(lab, asker, now);
  let waited = 0;
  for (const server of servers) {
    if (probe(lab, asker, server, 'udp', 53, now).kind !== 'ok') {
      waited += RESOLVER_SECONDS;
      continue;
    }
    // A server that cannot recurse answers SERVFAIL; the stub tries the next one at once.
    if (!recurses(lab, server, now)) continue;
    const address = publicZone(lab).get(name.replace(/\.$/, '').toLowerCase());
    return address ? { kind: 'found', name, address } : { kind: 'nxdomain' };
  }
  return { kind: 'timeout', seconds: Math.max(waited, RESOLVER_SECONDS) };
}

