// Proxmox VE value formats, as pure validators. The rules come from the API schema (the API viewer,
// https://pve.proxmox.com/pve-docs/api-viewer/) and the source behind its formats: pve-common PVE/JSONSchema.pm,
// pve-firewall PVE/Firewall.pm, pve-docs. Checkers return `null` when the value is valid, otherwise a short
// reason a user can act on; they never throw on bad input.

/** pve-tag: `^[a-z0-9_][a-z0-9_\-+.]*$`, case-insensitive. `=`, `:`, `/` and spaces are not allowed. */
export const TAG_PATTERN = /^[a-z0-9_][a-z0-9_\-+.]*$/i;

export function isValidTag(tag: string): boolean {
  return TAG_PATTERN.test(tag);
}

// ---------------------------------------------------------------- IP addresses and CIDRs

export interface Cidr {
  family: 4 | 6;
  /** Network address (host bits cleared) as an integer. */
  network: bigint;
  prefix: number;
}

function parseIpv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || (part.length > 1 && part.startsWith('0'))) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIpv6(text: string): bigint | null {
  if (!/^[0-9a-f:.]+$/i.test(text) || text.split('::').length > 2) return null;
  let tail = text;
  let embedded: bigint | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    embedded = parseIpv4(text.slice(lastColon + 1));
    if (embedded === null) return null;
    tail = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head = '', rest] = tail.split('::');
  const groupsOf = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groupsOf(head);
  const right = rest === undefined ? [] : groupsOf(rest);
  const missing = 8 - left.length - right.length;
  if (rest === undefined ? missing !== 0 : missing < 1) return null;
  const groups = [...left, ...Array<string>(rest === undefined ? 0 : missing).fill('0'), ...right];
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return null;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }
  if (embedded !== null) value = (value & ~0xffffffffn) | embedded;
  return value;
}

/** Parses an IPv4/IPv6 address into its family and integer value. */
export function parseIp(text: string): { family: 4 | 6; value: bigint } | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = text.includes(':') ? parseIpv6(text) : null;
  return v6 === null ? null : { family: 6, value: v6 };
}

const familyBits = (family: 4 | 6) => (family === 4 ? 32 : 128);

/** Parses `a.b.c.d/n`, `x::y/n` or a bare address (a /32 or /128). Host bits are cleared, as Proxmox does. */
export function parseCidr(value: string): Cidr | null {
  const [address = '', prefixText, extra] = value.trim().split('/');
  if (extra !== undefined) return null;
  const ip = parseIp(address);
  if (!ip) return null;
  const bits = familyBits(ip.family);
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return null;
  return { family: ip.family, network: ip.value & prefixMask(ip.family, prefix), prefix };
}

function prefixMask(family: 4 | 6, prefix: number): bigint {
  const bits = BigInt(familyBits(family));
  const all = (1n << bits) - 1n;
  return all ^ ((1n << (bits - BigInt(prefix))) - 1n);
}

/** First and last address of a CIDR. */
export function cidrRange(cidr: Cidr): [bigint, bigint] {
  const size = 1n << BigInt(familyBits(cidr.family) - cidr.prefix);
  return [cidr.network, cidr.network + size - 1n];
}

/** True when every address of `inner` is in `outer` (same family). Unparseable input is never contained. */
export function cidrContains(outer: string | Cidr, inner: string | Cidr): boolean {
  const a = typeof outer === 'string' ? parseCidr(outer) : outer;
  const b = typeof inner === 'string' ? parseCidr(inner) : inner;
  if (!a || !b || a.family !== b.family || a.prefix > b.prefix) return false;
  return (b.network & prefixMask(a.family, a.prefix)) === a.network;
}

export function formatCidr(cidr: Cidr): string {
  const bits = familyBits(cidr.family);
  if (cidr.family === 4) {
    const octets = [24n, 16n, 8n, 0n].map((shift) => String((cidr.network >> shift) & 255n));
    return `${octets.join('.')}/${cidr.prefix}`;
  }
  const groups: string[] = [];
  for (let shift = bits - 16; shift >= 0; shift -= 16) groups.push(((cidr.network >> BigInt(shift)) & 0xffffn).toString(16));
  return `${groups.join(':')}/${cidr.prefix}`;
}

// ---------------------------------------------------------------- firewall address specs

const FW_NAME = /^[A-Za-z][A-Za-z0-9\-_]+$/;

/** What a firewall `source`/`dest` value refers to. */
export type FwAddress =
  | { kind: 'ipset'; name: string; scope?: 'dc' | 'guest' | 'sdn' }
  | { kind: 'alias'; name: string; scope?: 'dc' | 'guest' }
  | { kind: 'addresses'; family: 4 | 6; ranges: Array<[bigint, bigint]> };

/** Parses a pve-fw-addr-spec; returns the reason when it is not one. */
export function parseFwAddrSpec(value: string): FwAddress | string {
  if (value.length === 0) return 'is empty';
  if (value.length > 512) return 'is longer than 512 characters';
  if (value.startsWith('+')) {
    const match = /^\+(?:(dc|guest|sdn)\/)?(.+)$/.exec(value);
    const name = match?.[2] ?? '';
    if (!FW_NAME.test(name) || name.length > 64) return `"${value}" is not an IP set reference (+name, +dc/name, +guest/name or +sdn/name)`;
    const scope = match?.[1] as 'dc' | 'guest' | 'sdn' | undefined;
    return scope ? { kind: 'ipset', name, scope } : { kind: 'ipset', name };
  }
  const aliasMatch = /^(?:(dc|guest)\/)?([A-Za-z][A-Za-z0-9\-_]+)$/.exec(value);
  if (aliasMatch && !value.includes(':') && aliasMatch[2]!.length <= 64) {
    const scope = aliasMatch[1] as 'dc' | 'guest' | undefined;
    return scope ? { kind: 'alias', name: aliasMatch[2]!, scope } : { kind: 'alias', name: aliasMatch[2]! };
  }
  if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(value) || /^\[[^\]]+\]:\d+$/.test(value)) {
    return `"${value}" has a port; ports go in dport/sport, the address must be an IP, CIDR, range, alias or +ipset`;
  }
  const dash = value.indexOf('-');
  if (dash > 0 && !value.includes(',')) {
    const from = parseIp(value.slice(0, dash));
    const to = parseIp(value.slice(dash + 1));
    if (!from || !to) return `"${value}" is not a range a.b.c.d-e.f.g.h`;
    if (from.family !== to.family) return `range "${value}" mixes IPv4 and IPv6`;
    if (from.value > to.value) return `range "${value}" ends before it starts`;
    return { kind: 'addresses', family: from.family, ranges: [[from.value, to.value]] };
  }
  const ranges: Array<[bigint, bigint]> = [];
  let family: 4 | 6 | undefined;
  for (const item of value.split(',')) {
    if (item.includes('-')) return `"${value}": a range cannot be part of a list`;
    const cidr = parseCidr(item);
    if (!cidr || item.trim() !== item) return `"${item}" is not an IP address or CIDR (ports are not allowed; use dport)`;
    if (family !== undefined && cidr.family !== family) return `"${value}" mixes IPv4 and IPv6 addresses`;
    family = cidr.family;
    ranges.push(cidrRange(cidr));
  }
  return { kind: 'addresses', family: family ?? 4, ranges };
}

/** null when `value` is a valid firewall source/dest (IP, CIDR, list of one family, range, alias, +ipset). */
export function checkFwAddrSpec(value: string): string | null {
  const parsed = parseFwAddrSpec(value);
  return typeof parsed === 'string' ? parsed : null;
}

// ---------------------------------------------------------------- firewall port specs

/** Service names Jarvis resolves itself (a subset of /etc/services); other names are refused as ambiguous. */
export const SERVICE_PORTS: Readonly<Record<string, number>> = {
  ssh: 22,
  http: 80,
  https: 443,
  domain: 53,
  ntp: 123,
  smtp: 25,
  submission: 587,
  imaps: 993,
  mqtt: 1883,
  nfs: 2049,
  'microsoft-ds': 445,
  rsync: 873,
  snmp: 161,
  bootps: 67,
  bootpc: 68,
};

/** Parses a dport/sport spec into inclusive port ranges, or returns the reason it is invalid. */
export function parseFwPortSpec(value: string): Array<[number, number]> | string {
  if (value.trim() === '') return 'is empty';
  const ranges: Array<[number, number]> = [];
  let numbers = 0;
  const port = (text: string): number | null => {
    if (/^\d+$/.test(text)) {
      const n = Number(text);
      return n <= 65535 ? n : null;
    }
    return SERVICE_PORTS[text.toLowerCase()] ?? null;
  };
  for (const item of value.split(',')) {
    const parts = item.trim().split(':');
    if (parts.length > 2) return `"${item}" is not a port or range lo:hi`;
    const lo = port(parts[0] ?? '');
    const hi = parts.length === 2 ? port(parts[1] ?? '') : lo;
    if (lo === null || hi === null) {
      if (/^\d+-\d+$/.test(item.trim())) return `"${item}": port ranges use a colon (lo:hi), not a dash`;
      return `"${item}" is not a port number 0-65535, a range lo:hi or a known service name (${Object.keys(SERVICE_PORTS).slice(0, 4).join(', ')}…)`;
    }
    if (lo > hi) return `range "${item}" ends before it starts`;
    numbers += parts.length;
    ranges.push([lo, hi]);
  }
  if (numbers > 15) return `has ${numbers} port numbers; Proxmox allows at most 15 (a range counts as 2)`;
  return ranges;
}

export function checkFwPortSpec(value: string): string | null {
  const parsed = parseFwPortSpec(value);
  return typeof parsed === 'string' ? parsed : null;
}

// ---------------------------------------------------------------- calendar events

const CALENDAR_SPECIAL = new Set([
  'minutely', 'hourly', 'daily', 'weekly', 'monthly', 'yearly', 'annually', 'quarterly', 'semiannually', 'semi-annually',
]);
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const WEEKDAY_FULL = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

function weekdayIndex(text: string): number {
  const short = WEEKDAYS.indexOf(text);
  return short >= 0 ? short : WEEKDAY_FULL.indexOf(text);
}

/** One calendar component: comma list of `*`, `N`, `N..M`, each optionally `/R`. */
function checkComponent(text: string, what: string, min: number, max: number): string | null {
  for (const item of text.split(',')) {
    const match = /^(\*|\d+(?:\.\.\d+)?)(?:\/(\d+))?$/.exec(item);
    if (!match) return `${what} "${item}" is not *, N, N..M or a repeat N/R`;
    if (match[2] !== undefined && Number(match[2]) === 0) return `${what} repeat "/${match[2]}" must be at least 1`;
    if (match[1] === '*') continue;
    const [lo, hi = lo] = match[1]!.split('..').map(Number) as [number, number?];
    if (lo < min || (hi ?? lo) > max) return `${what} "${item}" is outside ${min}..${max}`;
    if ((hi ?? lo) < lo) return `${what} range "${item}" ends before it starts`;
  }
  return null;
}

/**
 * A parser for the PVE calendar-event grammar (pve-docs "Calendar Events"):
 * `[WEEKDAY] [[YEARS-]MONTHS-DAYS] [HOURS:MINUTES[:SECONDS]]`, a bare value being minutes, or a special word.
 */
export function checkCalendarEvent(value: string): string | null {
  const text = value.trim().toLowerCase();
  if (text === '') return 'is empty';
  if (value.length > 128) return 'is longer than 128 characters';
  if (CALENDAR_SPECIAL.has(text)) return null;
  const tokens = text.split(/\s+/);
  let stage = 0; // 0 = weekday allowed, 1 = date allowed, 2 = time allowed, 3 = done
  for (const token of tokens) {
    if (stage === 0 && /^[a-z]/.test(token)) {
      for (const item of token.split(',')) {
        const [from = '', to, extra] = item.split('..');
        if (extra !== undefined || weekdayIndex(from) < 0 || (to !== undefined && weekdayIndex(to) < 0)) {
          return `"${item}" is not a weekday (mon..sun), list (mon,wed) or range (mon..fri)`;
        }
      }
      stage = 1;
      continue;
    }
    if (stage <= 1 && token.includes('-') && !token.includes(':')) {
      const parts = token.split('-');
      if (parts.length < 2 || parts.length > 3) return `date "${token}" is not [YEARS-]MONTHS-DAYS`;
      const [years, months, days] = parts.length === 3 ? parts : [undefined, parts[0], parts[1]];
      const why =
        (years === undefined ? null : checkComponent(years, 'year', 1970, 9999)) ??
        checkComponent(months ?? '', 'month', 1, 12) ??
        checkComponent(days ?? '', 'day', 1, 31);
      if (why) return why;
      stage = 2;
      continue;
    }
    if (stage <= 2) {
      const parts = token.split(':');
      if (parts.length > 3) return `time "${token}" is not HOURS:MINUTES[:SECONDS]`;
      const why =
        parts.length === 1
          ? checkComponent(parts[0]!, 'minute', 0, 59)
          : (checkComponent(parts[0]!, 'hour', 0, 23) ??
            checkComponent(parts[1]!, 'minute', 0, 59) ??
            (parts[2] === undefined ? null : checkComponent(parts[2], 'second', 0, 59)));
      if (why) return why;
      stage = 3;
      continue;
    }
    return `unexpected "${token}" after the time; the order is [WEEKDAY] [[YEARS-]MONTHS-DAYS] [HOURS:MINUTES]`;
  }
  return null;
}

// ---------------------------------------------------------------- prune-backups

export const PRUNE_KEYS = ['keep-all', 'keep-last', 'keep-hourly', 'keep-daily', 'keep-weekly', 'keep-monthly', 'keep-yearly'] as const;

/** Accepts the inline form (`keep-daily=7,keep-weekly=4`) or the object form Proxmox returns. */
export function checkPruneBackups(value: string | Record<string, unknown>): string | null {
  let entries: Array<[string, unknown]>;
  if (typeof value === 'string') {
    if (value.trim() === '') return 'is empty';
    const parsed = parsePropertyStringSafe(value);
    if (typeof parsed === 'string') return parsed;
    entries = Object.entries(parsed);
  } else {
    entries = Object.entries(value).filter(([, v]) => v !== undefined);
  }
  for (const [key, raw] of entries) {
    if (!(PRUNE_KEYS as readonly string[]).includes(key)) return `unknown key "${key}" (expected one of ${PRUNE_KEYS.join(', ')})`;
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(n) || n < 0) return `${key} must be an integer ≥ 0`;
    if (key === 'keep-all' && n > 1) return 'keep-all must be 0 or 1';
  }
  const keepAll = entries.find(([key]) => key === 'keep-all');
  if (keepAll && Number(keepAll[1]) === 1 && entries.some(([key, v]) => key !== 'keep-all' && Number(v) > 0)) {
    return 'keep-all=1 conflicts with the other keep-* options';
  }
  return null;
}

// ---------------------------------------------------------------- property strings

export type PropertyValue = string | number | boolean | undefined;

function parsePropertyStringSafe(value: string, defaultKey?: string): Record<string, string> | string {
  const result: Record<string, string> = {};
  if (value.trim() === '') return result;
  for (const item of value.split(',')) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? defaultKey : item.slice(0, eq).trim();
    const text = eq < 0 ? item.trim() : item.slice(eq + 1).trim();
    if (key === undefined) return `"${item}" has no key (expected key=value)`;
    if (key === '' || !/^[a-z][a-z0-9_-]*$/i.test(key)) return `"${item}" has an invalid key`;
    if (key in result) return `key "${key}" appears twice`;
    result[key] = text;
  }
  return result;
}

/**
 * Parses a Proxmox property string (`virtio=BC:24:11:AA:BB:CC,bridge=vmbr0`, `local-lvm:32,cache=none`). An item
 * without `=` is the value of `defaultKey` (`file` for disks, `model` for NICs). Throws on malformed input.
 */
export function parsePropertyString(value: string, defaultKey?: string): Record<string, string> {
  const parsed = parsePropertyStringSafe(value, defaultKey);
  if (typeof parsed === 'string') throw new Error(`invalid property string "${value}": ${parsed}`);
  return parsed;
}

/** The inverse: `{model:'virtio', bridge:'vmbr0', firewall:true}` → `virtio,bridge=vmbr0,firewall=1` (defaultKey first). */
export function formatPropertyString(obj: Record<string, PropertyValue>, defaultKey?: string): string {
  const text = (v: string | number | boolean) => (typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  const items: string[] = [];
  const head = defaultKey === undefined ? undefined : obj[defaultKey];
  if (head !== undefined) items.push(text(head));
  for (const [key, v] of Object.entries(obj)) {
    if (v === undefined || key === defaultKey) continue;
    items.push(`${key}=${text(v)}`);
  }
  return items.join(',');
}

export const NIC_MODELS = [
  'e1000', 'e1000-82540em', 'e1000-82544gc', 'e1000-82545em', 'e1000e', 'i82551', 'i82557b', 'i82559er',
  'ne2k_isa', 'ne2k_pci', 'pcnet', 'rtl8139', 'virtio', 'vmxnet3',
] as const;

/** Parses a `net[n]` value; each model name is also an alias key carrying the MAC (`virtio=BC:…`). */
export function parseNetProperty(value: string): Record<string, string> {
  const raw = parsePropertyString(value, 'model');
  const aliasModel = NIC_MODELS.find((model) => model in raw);
  if (!aliasModel) return raw;
  const { [aliasModel]: macaddr, ...rest } = raw;
  return { model: aliasModel, macaddr: macaddr!, ...rest };
}
