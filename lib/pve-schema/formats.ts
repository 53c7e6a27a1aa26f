// Checkers for PVE's named formats (the schema gives only the name; the rules live in pve-common, pve-firewall and
// qemu-server). Each returns null when the value is fine, else PVE's reason. The rules Jarvis specs also need
// (tags, firewall address/port specs, calendar events, prune-backups, CIDRs) come from lib/pve-formats.ts.
import { isIPv4, isIPv6 } from 'node:net';
import {
  checkCalendarEvent,
  checkFwAddrSpec,
  checkFwPortSpec,
  checkPruneBackups,
  isValidTag,
  parseCidr,
} from '../pve-formats.ts';

type Checker = (value: string) => string | null;

const ALIAS_NAME = /^[A-Za-z][A-Za-z0-9\-_]+$/;

function byRegex(regex: RegExp, message: string): Checker {
  return (value) => (regex.test(value) ? null : message);
}

function checkCidr(value: string, family?: 4 | 6): string | null {
  const cidr = parseCidr(value);
  if (!cidr || !value.includes('/')) return `invalid CIDR '${value}'`;
  if (family === 4 && !isIPv4(value.split('/')[0] ?? '')) return `value does not look like a valid IPv4 network configuration`;
  if (family === 6 && !isIPv6(value.split('/')[0] ?? '')) return `value does not look like a valid IPv6 network configuration`;
  return null;
}

const checkIp: Checker = (value) => (isIPv4(value) || isIPv6(value) ? null : 'value does not look like a valid IP address');
const checkIpOrCidr: Checker = (value) => (value.includes('/') ? checkCidr(value) : checkIp(value));

const NAMED: Record<string, Checker> = {
  'pve-node': byRegex(/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/, 'value does not look like a valid node name'),
  'pve-vmid': byRegex(/^[1-9][0-9]{2,8}$/, 'value does not look like a valid VM ID'),
  'pve-configid': (value) => (/^[a-z][a-z0-9_-]+$/i.test(value) ? null : `invalid configuration ID '${value}'`),
  'pve-storage-id': (value) => (/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(value) ? null : `storage ID '${value}' contains illegal characters`),
  'pve-poolid': byRegex(/^[A-Za-z0-9_][A-Za-z0-9_\-]*$/, 'value does not look like a valid pool ID'),
  'dns-name': byRegex(
    /^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)(\.([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?))*$/,
    'value does not look like a valid DNS name',
  ),
  'mac-addr': byRegex(/^[a-f0-9][02468ace](:[a-f0-9]{2}){5}$/i, 'value does not look like a valid unicast MAC address'),
  'pve-iface': (value) => (/^[a-z][a-z0-9_]{1,20}([:.]\d+)?$/i.test(value) ? null : `invalid network interface name '${value}'`),
  'pve-bridge-id': (value) => (/^[-_.\w]+$/.test(value) ? null : `invalid bridge ID '${value}'`),
  'pve-vlan-id-or-range': (value) => {
    const match = /^(\d+)(?:-(\d+))?$/.exec(value);
    const ok = match && [match[1], match[2] ?? match[1]].every((n) => Number(n) >= 1 && Number(n) <= 4094);
    return ok ? null : `invalid VLAN tag or range '${value}'`;
  },
  'pve-storage-content': byRegex(/^(images|rootdir|vztmpl|iso|backup|snippets|import|none)$/, 'invalid content type'),
  'pve-volume-id': (value) => (/^[a-z][a-z0-9\-_.]*[a-z0-9]:.+$/i.test(value) ? null : `unable to parse volume ID '${value}'`),
  'pve-volume-id-or-qm-path': (value) =>
    /^[a-z][a-z0-9\-_.]*[a-z0-9]:.+$/i.test(value) || value.startsWith('/') || value === 'none' || value === 'cdrom'
      ? null
      : `unable to parse volume ID '${value}'`,
  'pve-userid': byRegex(/^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+$/, 'value does not look like a valid user name'),
  'pve-tokenid': byRegex(/^[A-Za-z][A-Za-z0-9.\-_]+$/, 'value does not look like a valid token ID'),
  email: byRegex(/^[^\s@]+@[^\s@]+$/, 'value does not look like a valid email address'),
  urlencoded: byRegex(/^(?:[A-Za-z0-9\-_.!~*'()]|%[0-9A-Fa-f]{2})*$/, 'value must be URL-encoded'),
  ipv4: (value) => (isIPv4(value) ? null : 'value does not look like a valid IPv4 address'),
  ipv6: (value) => (isIPv6(value) ? null : 'value does not look like a valid IPv6 address'),
  ip: checkIp,
  address: checkIp,
  CIDR: (value) => checkCidr(value),
  CIDRv4: (value) => checkCidr(value, 4),
  CIDRv6: (value) => checkCidr(value, 6),
  IPorCIDR: checkIpOrCidr,
  IPorCIDRorAlias: (value) => (ALIAS_NAME.test(value) ? null : checkIpOrCidr(value)),
  'pve-tag': (value) => (isValidTag(value) ? null : `invalid characters in tag '${value}'`),
  'pve-fw-addr-spec': (value) => checkFwAddrSpec(value),
  'pve-fw-dport-spec': (value) => checkFwPortSpec(value),
  'pve-fw-sport-spec': (value) => checkFwPortSpec(value),
  'pve-calendar-event': (value) => checkCalendarEvent(value),
  'prune-backups': (value) => checkPruneBackups(value),
  string: () => null,
};

/** Formats whose rules are not implemented; values are accepted and the name is recorded here. */
export const uncheckedFormats = new Set<string>();

/** Checks a value against a named format; `-list` formats are split on `,`, `;` and whitespace (pve-common). */
export function checkNamedFormat(format: string, value: string): string | null {
  const direct = NAMED[format];
  if (direct) return direct(value);
  if (format.endsWith('-list')) {
    const item = NAMED[format.slice(0, -'-list'.length)];
    if (item) {
      for (const part of value.split(/[,;\s]+/).filter((p) => p !== '')) {
        const error = item(part);
        if (error) return error;
      }
      return null;
    }
  }
  uncheckedFormats.add(format);
  return null;
}
