// `ip` (iproute2) in a guest, answering from the guest's simulated stack: `ip [-j] addr show [dev IF]`,
// `ip [-j] route show [default]`, `ip [-j] route get ADDR`, `ip route add|replace|del …` (run-time routes, gone at
// the next boot). The JSON is iproute2's (`ip -j`): ifindex, ifname, flags, operstate, addr_info with family/local/
// prefixlen/scope/dynamic; routes with dst/gateway/dev/protocol/scope/prefsrc/metric.
import type { SimLab } from '../lab.ts';
import { broadcastOf, cidrHas, inSubnet, isIpv4, parseIpv4Cidr } from './ipv4.ts';
import { lookup, routeTable, type Route } from './routes.ts';
import { guestAttachments, vmNics } from './segments.ts';
import type { ToolAnswer } from './tool-answer.ts';

interface Link {
  ifindex: number;
  ifname: string;
  mac: string;
  up: boolean;
  addresses: Array<{ ip: string; prefix: number; dynamic: boolean; dev: string }>;
}

function linkLocal(mac: string): string {
  const b = mac.toLowerCase().split(':').map((x) => parseInt(x, 16));
  const words = [((b[0]! ^ 2) << 8) | b[1]!, (b[2]! << 8) | 0xff, 0xfe00 | b[3]!, (b[4]! << 8) | b[5]!];
  return `fe80::${words.map((w) => w.toString(16)).join(':')}`;
}

function links(lab: SimLab, vmid: number): Link[] {
  const net = lab.netState.guests.get(vmid);
  const attachments = guestAttachments(lab, vmid);
  const leased = new Set([...(net?.leases.values() ?? [])].map((l) => l.ip));
  return vmNics(lab.vm(vmid)).map((nic, i) => {
    const name = net?.nics.find((c) => c.netKey === nic.netKey)?.name ?? `ens${18 + Number(nic.netKey.slice(3))}`;
    const addresses = attachments.filter((a) => a.vmNic?.netKey === nic.netKey).map((a) => ({ ip: a.ip, prefix: a.prefix, dynamic: leased.has(a.ip), dev: name }));
    return { ifindex: i + 2, ifname: name, mac: nic.mac.toLowerCase(), up: !nic.linkDown, addresses };
  });
}

const LIFETIME = 4294967295;

function addrJson(link: Link): Record<string, unknown> {
  const info: Array<Record<string, unknown>> = link.addresses.map((a) => ({
    family: 'inet', local: a.ip, prefixlen: a.prefix, ...(a.dynamic ? { metric: 1024 } : {}), broadcast: broadcastOf(a.ip, a.prefix), scope: 'global', ...(a.dynamic ? { dynamic: true } : {}),
    label: link.ifname, valid_life_time: a.dynamic ? 86_000 : LIFETIME, preferred_life_time: a.dynamic ? 86_000 : LIFETIME,
  }));
  if (link.up) info.push({ family: 'inet6', local: linkLocal(link.mac), prefixlen: 64, scope: 'link', valid_life_time: LIFETIME, preferred_life_time: LIFETIME });
  return {
    ifindex: link.ifindex, ifname: link.ifname, flags: link.up ? ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'] : ['NO-CARRIER', 'BROADCAST', 'MULTICAST', 'UP'],
    mtu: 1500, qdisc: 'fq_codel', operstate: link.up ? 'UP' : 'DOWN', group: 'default', txqlen: 1000, link_type: 'ether', address: link.mac, broadcast: 'ff:ff:ff:ff:ff:ff', addr_info: info,
  };
}

const LOOPBACK_JSON = {
  ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'], mtu: 65536, qdisc: 'noqueue', operstate: 'UNKNOWN', group: 'default', txqlen: 1000, link_type: 'loopback',
  address: '00:00:00:00:00:00', broadcast: '00:00:00:00:00:00',
  addr_info: [
    { family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host', label: 'lo', valid_life_time: LIFETIME, preferred_life_time: LIFETIME },
    { family: 'inet6', local: '::1', prefixlen: 128, scope: 'host', noprefixroute: true, valid_life_time: LIFETIME, preferred_life_time: LIFETIME },
  ],
};

function addrText(link: Link): string {
  const lines = [`${link.ifindex}: ${link.ifname}: <${(link.up ? ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'] : ['NO-CARRIER', 'BROADCAST', 'MULTICAST', 'UP']).join(',')}> mtu 1500 qdisc fq_codel state ${link.up ? 'UP' : 'DOWN'} group default qlen 1000`, `    link/ether ${link.mac} brd ff:ff:ff:ff:ff:ff`];
  for (const a of link.addresses) {
    lines.push(`    inet ${a.ip}/${a.prefix} ${a.dynamic ? 'metric 1024 ' : ''}brd ${broadcastOf(a.ip, a.prefix)} scope global ${a.dynamic ? 'dynamic ' : ''}${link.ifname}`, `       valid_lft ${a.dynamic ? '86000sec' : 'forever'} preferred_lft ${a.dynamic ? '86000sec' : 'forever'}`);
  }
  if (link.up) lines.push(`    inet6 ${linkLocal(link.mac)}/64 scope link `, '       valid_lft forever preferred_lft forever');
  return `${lines.join('\n')}\n`;
}

const LOOPBACK_TEXT = '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n    inet6 ::1/128 scope host noprefixroute \n       valid_lft forever preferred_lft forever\n';

function routeJson(r: Route): Record<string, unknown> {
  return {
    dst: r.to, ...(r.via ? { gateway: r.via } : {}), dev: r.dev, protocol: r.protocol, ...(r.via ? {} : { scope: 'link' }), ...(r.src ? { prefsrc: r.src } : {}),
    ...(r.metric !== undefined ? { metric: r.metric } : {}), flags: [],
  };
}

const routeText = (r: Route): string =>
  `${r.to}${r.via ? ` via ${r.via}` : ''} dev ${r.dev} proto ${r.protocol}${r.via ? '' : ' scope link'}${r.src ? ` src ${r.src}` : ''}${r.metric !== undefined ? ` metric ${r.metric}` : ''}`;

const usage = (): ToolAnswer => ({ stderr: 'Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n', code: 255 });

/** `ip route add|replace|del TO [via GW] [dev IF]`. */
function changeRoute(lab: SimLab, vmid: number, verb: string, rest: string[]): ToolAnswer {
  const net = lab.netState.guests.get(vmid);
  if (!net) return { stderr: 'Cannot talk to rtnetlink\n', code: 2 };
  const to = rest[0] === 'default' ? 'default' : rest[0] && parseIpv4Cidr(rest[0]) ? rest[0] : undefined;
  if (!to) return { stderr: `Error: any valid prefix is expected rather than "${rest[0] ?? ''}".\n`, code: 1 };
  const via = rest.includes('via') ? rest[rest.indexOf('via') + 1] : undefined;
  let dev = rest.includes('dev') ? rest[rest.indexOf('dev') + 1] : undefined;
  if (verb === 'del' || verb === 'delete') {
    const before = net.runtimeRoutes.length;
    net.runtimeRoutes = net.runtimeRoutes.filter((r) => !(r.to === to && (!via || r.via === via)));
    return net.runtimeRoutes.length < before ? { code: 0 } : { stderr: 'RTNETLINK answers: No such process\n', code: 2 };
  }
  if (rest.includes('via') && (!via || !isIpv4(via))) return { stderr: `Error: inet address is expected rather than "${via ?? ''}".\n`, code: 1 };
  const attachments = guestAttachments(lab, vmid);
  const link = via ? attachments.find((a) => (!dev || a.dev === dev) && inSubnet(via, a.ip, a.prefix)) : attachments.find((a) => a.dev === dev);
  if (!link) return dev && !links(lab, vmid).some((l) => l.ifname === dev) ? { stderr: `Cannot find device "${dev}"\n`, code: 1 } : { stderr: 'Error: Nexthop has invalid gateway.\n', code: 2 };
  dev = link.dev;
  const exists = net.runtimeRoutes.findIndex((r) => r.to === to);
  if (verb === 'add' && (exists >= 0 || routeTable(lab, { kind: 'guest', vmid }).some((r) => r.to === to && r.protocol !== 'boot'))) return { stderr: 'RTNETLINK answers: File exists\n', code: 2 };
  if (exists >= 0) net.runtimeRoutes.splice(exists, 1);
  net.runtimeRoutes.push({ to, ...(via ? { via } : {}), dev });
  return { code: 0 };
}

export function ipTool(lab: SimLab, vmid: number, args: string[]): ToolAnswer {
  const words = args.filter((a) => !/^-(4|j|json|p|pretty|br|brief|c|color|d|details)$/.test(a));
  const json = args.some((a) => a === '-j' || a === '-json');
  const [object = '', verb = 'show', ...rest] = words;
  if (/^a(d(d(r(e(s(s)?)?)?)?)?)?$/.test(object)) {
    if (!['show', 'list', 'ls', 'sh'].includes(verb)) return { stderr: `Command "${verb}" is unknown, try "ip address help".\n`, code: 255 };
    const dev = rest.includes('dev') ? rest[rest.indexOf('dev') + 1] : rest.find((w) => !['dev', 'up'].includes(w));
    const all = links(lab, vmid);
    const chosen = dev ? all.filter((l) => l.ifname === dev) : all;
    if (dev && dev !== 'lo' && chosen.length === 0) return { stderr: `Device "${dev}" does not exist.\n`, code: 1 };
    const withLo = !dev || dev === 'lo';
    if (json) return { stdout: `${JSON.stringify([...(withLo ? [LOOPBACK_JSON] : []), ...chosen.map(addrJson)])}\n`, code: 0 };
    return { stdout: `${withLo ? LOOPBACK_TEXT : ''}${chosen.map(addrText).join('')}`, code: 0 };
  }
  if (/^r(o(u(t(e)?)?)?)?$/.test(object)) {
    if (['add', 'replace', 'del', 'delete', 'change'].includes(verb)) return changeRoute(lab, vmid, verb === 'change' ? 'replace' : verb, rest);
    const table = routeTable(lab, { kind: 'guest', vmid });
    if (verb === 'get') {
      const target = rest.find((w) => isIpv4(w));
      const route = target ? lookup(table, target) : undefined;
      if (!target || !route) return { stderr: 'RTNETLINK answers: Network is unreachable\n', code: 2 };
      if (json) return { stdout: `${JSON.stringify([{ dst: target, ...(route.via ? { gateway: route.via } : {}), dev: route.dev, ...(route.src ? { prefsrc: route.src } : {}), flags: [], uid: 0, cache: [] }])}\n`, code: 0 };
      return { stdout: `${target}${route.via ? ` via ${route.via}` : ''} dev ${route.dev}${route.src ? ` src ${route.src}` : ''} uid 0 \n    cache \n`, code: 0 };
    }
    if (!['show', 'list', 'ls', 'sh'].includes(verb)) return { stderr: `Command "${verb}" is unknown, try "ip route help".\n`, code: 255 };
    const filter = rest[0];
    const shown = filter === 'default' ? table.filter((r) => r.to === 'default') : filter ? table.filter((r) => r.to === filter || (r.to !== 'default' && cidrHas(filter, r.to.split('/')[0]!))) : table;
    const sorted = [...shown].sort((a, b) => (a.to === 'default' ? -1 : b.to === 'default' ? 1 : 0));
    if (json) return { stdout: `${JSON.stringify(sorted.map(routeJson))}\n`, code: 0 };
    return { stdout: sorted.map((r) => `${routeText(r)} \n`).join(''), code: 0 };
  }
  return usage();
}
