// Addresses Jarvis is configured with. Loopback hosts (test servers may use plain http there). Listener addresses
// (JARVIS_WEBHOOK_LISTEN, SLACK_HTTP_LISTEN): HOST:PORT, [IPv6]:PORT. The host is normalised the
// way the socket layer reads it before Jarvis decides whether it names every address, because many spellings do:
// `0.0.0.0`, `0`, `0.0`, `0x0`, `000.000.000.000`, `::`, `[::0]`, `[0:0:0:0:0:0:0:0]`, `[::ffff:0.0.0.0]`, `*`, and
// an empty host. IPv4 literals follow inet_aton, as getaddrinfo does (the WHATWG URL host parser implements that).
import { InputError } from './errors.ts';

export interface ListenAddress {
  /** The host to bind, normalised (IPv6 without brackets). */
  host: string;
  port: number;
  /** The host binds every address of the machine. */
  wildcard: boolean;
}

/** Normalised hosts that bind every address: IPv4 any, IPv6 any, and IPv4 any mapped into IPv6. */
const EVERY_ADDRESS = new Set(['0.0.0.0', '::', '::ffff:0:0']);

/** The host as the socket layer will read it, or undefined when it is not a host at all. */
export function normaliseHost(raw: string): string | undefined {
  const host = raw.trim();
  if (host === '' || host === '*') return '0.0.0.0';
  const literal = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  try {
    const parsed = new URL(`http://${literal}/`);
    if (parsed.username || parsed.password || parsed.port || parsed.pathname !== '/' || parsed.search || parsed.hash) return undefined;
    return parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return undefined;
  }
}

/** True for this machine's loopback: 127.0.0.0/8, ::1 (any spelling), localhost. */
export function isLoopbackHost(raw: string): boolean {
  const host = normaliseHost(raw);
  return host !== undefined && (host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host));
}

/** True for any spelling of "every address" (after normaliseHost). */
export const isWildcardHost = (raw: string): boolean => EVERY_ADDRESS.has(normaliseHost(raw) ?? '');

/** What a bound socket reports as its address: `0.0.0.0` or `::` means it listens everywhere, whatever was asked. */
export const boundToEveryAddress = (address: string): boolean => EVERY_ADDRESS.has(address);

/**
 * Parses `HOST:PORT` (IPv6 in brackets, or unbracketed with the port after the last colon). A wildcard host is refused
 * unless `allowWildcard`; `variable` names the setting in every message.
 */
export function parseListenAddress(variable: string, value: string, options: { allowWildcard?: boolean; wildcardHint?: string } = {}): ListenAddress {
  const text = value.trim();
  const match = /^\[([^\]]*)\]:(\d{1,5})$/.exec(text) ?? /^(.*):(\d{1,5})$/.exec(text);
  if (!match) throw new InputError(`${variable}=${value}: must be HOST:PORT with a LAN or tailnet address (e.g. 192.168.1.20:8787, [fd7a::20]:8787)`);
  const port = Number(match[2]);
  if (port > 65535) throw new InputError(`${variable}=${value}: port ${port} is out of range`);
  const host = normaliseHost(match[1] as string);
  if (host === undefined) throw new InputError(`${variable}=${value}: "${match[1]}" is not a host name or IP address`);
  const wildcard = EVERY_ADDRESS.has(host);
  if (wildcard && !options.allowWildcard) {
    throw new InputError(`${variable}=${value}: refusing to listen on every address (${host}); name your LAN or tailnet address${options.wildcardHint ? ` ${options.wildcardHint}` : ''}`);
  }
  return { host, port, wildcard };
}
