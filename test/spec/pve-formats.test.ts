import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  checkCalendarEvent,
  checkFwAddrSpec,
  checkFwPortSpec,
  checkPruneBackups,
  cidrContains,
  formatCidr,
  formatPropertyString,
  isValidTag,
  parseCidr,
  parseFwAddrSpec,
  parseNetProperty,
  parsePropertyString,
} from '../../lib/pve-formats.ts';

describe('isValidTag', () => {
  it.each(['env-lab', 'role-app-host', 'owner-loic', '_x', 'v1.2+b', 'TIER-LAN'])('accepts %s', (tag) => {
    expect(isValidTag(tag)).toBe(true);
  });
  it.each(['env=lab', '-lead', '+x', '.x', 'a b', 'a:b', 'a/b', ''])('refuses %j', (tag) => {
    expect(isValidTag(tag)).toBe(false);
  });
});

describe('parseCidr / cidrContains', () => {
  it('parses IPv4 and clears host bits', () => {
    expect(formatCidr(parseCidr('192.168.1.77/24')!)).toBe('192.168.1.0/24');
    expect(parseCidr('10.0.0.1')).toEqual({ family: 4, network: 0x0a000001n, prefix: 32 });
  });
  it('parses IPv6 forms', () => {
    expect(parseCidr('::/0')).toEqual({ family: 6, network: 0n, prefix: 0 });
    expect(formatCidr(parseCidr('fd00:1::5/64')!)).toBe('fd00:1:0:0:0:0:0:0/64');
    expect(parseCidr('::ffff:10.0.0.1')?.network).toBe(0xffff0a000001n);
  });
  it.each(['300.1.1.1', '10.0.0/8', '10.0.0.1/33', '1::2::3', '01.2.3.4', 'fe80::/129', '10.0.0.1/24/2', ''])('refuses %j', (v) => {
    expect(parseCidr(v)).toBeNull();
  });
  it('checks containment within one family', () => {
    expect(cidrContains('100.64.0.0/10', '100.100.1.2')).toBe(true);
    expect(cidrContains('192.168.1.0/24', '192.168.0.0/16')).toBe(false);
    expect(cidrContains('0.0.0.0/0', '192.168.1.0/24')).toBe(true);
    expect(cidrContains('::/0', '192.168.1.0/24')).toBe(false);
    expect(cidrContains('fd00::/8', 'fd12:3456::/32')).toBe(true);
    expect(cidrContains('not-a-cidr', '10.0.0.0/8')).toBe(false);
  });
});

describe('checkFwAddrSpec', () => {
  it.each(['192.168.1.0/24', '10.0.0.5', '10.0.0.1,10.0.0.2/31', '10.0.0.1-10.0.0.9', '+mgmt-admins', '+dc/mgmt', '+guest/x1',
    '+sdn/zone1', 'proxmox-host', 'dc/proxmox-host', 'guest/web1', 'fd00::/8', 'fd00::1,fd00::2'])('accepts %s', (v) => {
    expect(checkFwAddrSpec(v)).toBeNull();
  });
  it('refuses IP:port and says where the port goes', () => {
    expect(checkFwAddrSpec('10.0.0.5:22')).toMatch(/port.*dport/);
  });
  it.each([
    ['10.0.0.1,fd00::1', /mixes/],
    ['10.0.0.1-10.0.0.3,10.0.0.9', /range cannot be part of a list/],
    ['10.0.0.9-10.0.0.1', /ends before/],
    ['+', /IP set reference/],
    ['+foo/bar', /IP set reference/],
    ['sdn/x1', /not an IP/],
    ['', /empty/],
    ['999.1.1.1', /not an IP/],
  ])('refuses %j', (v, why) => {
    expect(checkFwAddrSpec(v)).toMatch(why);
  });
  it('classifies references', () => {
    expect(parseFwAddrSpec('+dc/mgmt')).toEqual({ kind: 'ipset', name: 'mgmt', scope: 'dc' });
    expect(parseFwAddrSpec('proxmox-host')).toEqual({ kind: 'alias', name: 'proxmox-host' });
  });
});

describe('checkFwPortSpec', () => {
  it.each(['22', '22,8006', '8000:8010', 'ssh,https', '0', '65535'])('accepts %s', (v) => {
    expect(checkFwPortSpec(v)).toBeNull();
  });
  it.each([
    ['8000-8010', /colon/],
    ['70000', /not a port/],
    ['10:5', /ends before/],
    ['nosuchservice', /service name/],
    ['1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16', /at most 15/],
  ])('refuses %j', (v, why) => {
    expect(checkFwPortSpec(v)).toMatch(why);
  });
  it('counts a range as two numbers', () => {
    expect(checkFwPortSpec('1:2,3:4,5:6,7:8,9')).toBeNull();
    expect(checkFwPortSpec('1:2,3:4,5:6,7:8,9:10,11:12,13:14,15:16')).toMatch(/16 port numbers/);
  });
});

describe('checkCalendarEvent', () => {
  it.each(['21:00', '02:30', 'mon..fri 22:30', 'sun 01:00', '*/30', 'sat *-1..7 15:00', 'daily', 'weekly', 'mon,wed 0/15:00',
    '2026-12-24 10:00', '8..17:0/15', '5', 'monday 03:00:30', 'semi-annually'])('accepts %s', (v) => {
    expect(checkCalendarEvent(v)).toBeNull();
  });
  it.each([
    ['25:00', /hour/],
    ['12:60', /minute/],
    ['funday 10:00', /weekday|minute/],
    ['10:00 mon', /unexpected|minute/],
    ['*-13-01', /month/],
    ['0/0', /repeat/],
    ['', /empty/],
    ['x'.repeat(129), /128/],
  ])('refuses %j', (v, why) => {
    expect(checkCalendarEvent(v)).toMatch(why);
  });
});

describe('checkPruneBackups', () => {
  it('accepts the inline and object forms', () => {
    expect(checkPruneBackups('keep-daily=7,keep-weekly=4,keep-monthly=6')).toBeNull();
    expect(checkPruneBackups({ 'keep-daily': 7, 'keep-weekly': 4 })).toBeNull();
    expect(checkPruneBackups('keep-all=1')).toBeNull();
  });
  it.each([
    ['keep-dayly=7', /unknown key/],
    ['keep-daily=-1', /integer/],
    ['keep-all=1,keep-daily=7', /conflicts/],
    ['keep-all=2', /0 or 1/],
    ['', /empty/],
  ])('refuses %j', (v, why) => {
    expect(checkPruneBackups(v)).toMatch(why);
  });
});

describe('property strings', () => {
  it('parses with a default key and formats back', () => {
    expect(parsePropertyString('local-lvm:32,cache=none,discard=on', 'file')).toEqual({ file: 'local-lvm:32', cache: 'none', discard: 'on' });
    expect(formatPropertyString({ model: 'virtio', bridge: 'vmbr0', firewall: true, mtu: undefined }, 'model')).toBe('virtio,bridge=vmbr0,firewall=1');
  });
  it('round-trips', () => {
    const text = 'file=local-lvm:vm-300-disk-0,cache=none,iothread=1,size=128G';
    expect(formatPropertyString(parsePropertyString(text))).toBe(text);
  });
  it('resolves the NIC model alias key', () => {
    expect(parseNetProperty('virtio=BC:24:11:AA:BB:CC,bridge=vmbr0,firewall=1')).toEqual({
      model: 'virtio', macaddr: 'BC:24:11:AA:BB:CC', bridge: 'vmbr0', firewall: '1',
    });
  });
  it('throws on malformed input', () => {
    expect(() => parsePropertyString('a=1,a=2')).toThrow(/twice/);
    expect(() => parsePropertyString('novalue')).toThrow(/no key/);
  });
});

describe('properties', () => {
  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
  const cidr4 = fc.tuple(ipv4, fc.integer({ min: 0, max: 32 })).map(([ip, p]) => `${ip}/${p}`);

  it('a CIDR contains itself and every longer prefix of its own network', () => {
    fc.assert(
      fc.property(cidr4, fc.integer({ min: 0, max: 32 }), (text, extra) => {
        const outer = parseCidr(text)!;
        const innerPrefix = Math.min(32, outer.prefix + extra);
        const inner = `${formatCidr(outer).split('/')[0]}/${innerPrefix}`;
        return cidrContains(text, text) && cidrContains(outer, inner) && (innerPrefix === outer.prefix || !cidrContains(inner, outer));
      }),
    );
  });

  it('formatPropertyString inverts parsePropertyString', () => {
    const key = fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/);
    const value = fc.stringMatching(/^[A-Za-z0-9:._/-]{1,12}$/);
    fc.assert(
      fc.property(fc.dictionary(key, value, { minKeys: 1 }), (obj) => {
        const text = formatPropertyString(obj);
        return JSON.stringify(parsePropertyString(text)) === JSON.stringify(obj);
      }),
    );
  });

  it('every generated IPv4 address or CIDR is a valid firewall source, and never with a port', () => {
    fc.assert(
      fc.property(cidr4, fc.integer({ min: 1, max: 65535 }), (text, port) => {
        const ip = text.split('/')[0]!;
        return checkFwAddrSpec(text) === null && checkFwAddrSpec(`${ip}:${port}`) !== null;
      }),
    );
  });
});
