// IPv4 arithmetic for the simulated network (addresses as unsigned 32-bit numbers).

export interface Ipv4Cidr {
  /** The address as written (host bits kept: an interface address). */
  ip: string;
  prefix: number;
}

export function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export const isIpv4 = (text: string): boolean => ipToInt(text) !== undefined;

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** `10.10.20.1/24` → { ip: '10.10.20.1', prefix: 24 }; a bare address is a /32. */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const [ip = '', prefixText, extra] = text.trim().split('/');
  if (extra !== undefined || !isIpv4(ip)) return undefined;
  const prefix = prefixText === undefined ? 32 : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) return undefined;
  return { ip, prefix };
}

const maskOf = (prefix: number): number => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

export function networkOf(ip: string, prefix: number): number {
  return ((ipToInt(ip) ?? 0) & maskOf(prefix)) >>> 0;
}

/** `10.10.20.1`, 24 → `10.10.20.0/24`. */
export function subnetText(ip: string, prefix: number): string {
  return `${intToIp(networkOf(ip, prefix))}/${prefix}`;
}

export function inSubnet(ip: string, net: string, prefix: number): boolean {
  const value = ipToInt(ip);
  return value !== undefined && ((value & maskOf(prefix)) >>> 0) === networkOf(net, prefix);
}

/** Does `cidr` (or a bare address) contain `ip`? */
export function cidrHas(cidr: string, ip: string): boolean {
  const parsed = parseIpv4Cidr(cidr);
  return !!parsed && inSubnet(ip, parsed.ip, parsed.prefix);
}

export function broadcastOf(ip: string, prefix: number): string {
  return intToIp((networkOf(ip, prefix) | (~maskOf(prefix) >>> 0)) >>> 0);
}

/** RFC 1918, CGNAT (Tailscale), loopback and link-local: addresses the internet does not route. */
export function isPrivate(ip: string): boolean {
  return ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16'].some((c) => cidrHas(c, ip));
}
