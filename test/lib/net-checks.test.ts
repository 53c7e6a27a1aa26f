// The in-guest network checks: only the agreed commands, every value checked before it goes into one, and readings
// of their output as iproute2, getent and pve-firewall print it.
import { describe, expect, it } from 'vitest';
import { parseFirewallStatus } from '../../infra/facts/pve-firewall.ts';
import { parsePublishedSums } from '../../infra/facts/published-sums.ts';
import { parseAddresses, parseDefaultRoute, parseResolved, probeArgv } from '../../lib/net-checks.ts';

describe('probe commands', () => {
  it('are the agreed tools with fixed options', () => {
    expect(probeArgv({ kind: 'addresses' })).toEqual(['ip', '-j', 'addr', 'show']);
    expect(probeArgv({ kind: 'default-route' })).toEqual(['ip', '-j', 'route', 'show', 'default']);
    expect(probeArgv({ kind: 'ping', address: '10.10.20.1' })).toEqual(['ping', '-c', '1', '-W', '2', '10.10.20.1']);
    expect(probeArgv({ kind: 'resolve', name: 'deb.debian.org' })).toEqual(['getent', 'ahostsv4', 'deb.debian.org']);
    expect(probeArgv({ kind: 'connect', address: '192.168.1.10', port: 8006 })).toEqual(['nc', '-z', '-w', '3', '192.168.1.10', '8006']);
    expect(probeArgv({ kind: 'renew', iface: 'eth0' })).toEqual(['networkctl', 'renew', 'eth0']);
  });

  it('refuse anything that is not an address, a name, a port or an interface', () => {
    expect(() => probeArgv({ kind: 'ping', address: '10.10.20.1; reboot' })).toThrow('not an IPv4 address');
    expect(() => probeArgv({ kind: 'resolve', name: '-x evil' })).toThrow('not a DNS name');
    expect(() => probeArgv({ kind: 'connect', address: '10.0.0.1', port: 70000 })).toThrow('not a port');
    expect(() => probeArgv({ kind: 'renew', iface: 'eth0 --help' })).toThrow('not an interface name');
  });
});

describe('readings', () => {
  it('ip -j addr show: IPv4 addresses per interface', () => {
    const out = JSON.stringify([
      { ifindex: 1, ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
      { ifindex: 2, ifname: 'eth0', addr_info: [{ family: 'inet', local: '10.10.20.123', prefixlen: 24, dynamic: true }, { family: 'inet6', local: 'fe80::1', prefixlen: 64 }] },
    ]);
    expect(parseAddresses(out)).toEqual([
      { ifname: 'lo', ipv4: [{ address: '127.0.0.1', prefix: 8 }] },
      { ifname: 'eth0', ipv4: [{ address: '10.10.20.123', prefix: 24 }] },
    ]);
    expect(() => parseAddresses('{}')).toThrow('did not print a list');
  });

  it('ip -j route show default: the gateway, or none', () => {
    expect(parseDefaultRoute('[{"dst":"default","gateway":"10.10.20.1","dev":"eth0","protocol":"dhcp"}]')).toEqual({ gateway: '10.10.20.1', dev: 'eth0' });
    expect(parseDefaultRoute('[]')).toBeUndefined();
  });

  it('getent ahostsv4: the addresses, once each', () => {
    expect(parseResolved('198.51.100.7    STREAM deb.debian.org\n198.51.100.7    DGRAM\n198.51.100.7    RAW\n')).toEqual(['198.51.100.7']);
  });

  it('pve-firewall status, as pve_firewall.pm prints it', () => {
    expect(parseFirewallStatus('Status: enabled/running (pending changes)\n')).toEqual({ enabled: true, running: true, pending: true, line: 'Status: enabled/running (pending changes)' });
    expect(parseFirewallStatus('Status: disabled/stopped\n')).toMatchObject({ enabled: false, running: false, pending: false });
    expect(parseFirewallStatus('ipcc_send_rec[1] failed: Connection refused\n')).toBeUndefined();
  });

  it('published checksums in GNU and BSD formats (Debian SHA512SUMS, OPNsense checksums-amd64.sha256)', () => {
    const sha512 = 'a'.repeat(128);
    const sha256 = 'B'.repeat(64);
    expect(parsePublishedSums(`${sha512}  debian-13-genericcloud-amd64.qcow2\nSHA256 (OPNsense-25.7-dvd-amd64.iso.bz2) = ${sha256}\nSHA256 (short.iso) = abc\n`)).toEqual({
      'debian-13-genericcloud-amd64.qcow2': sha512,
      'OPNsense-25.7-dvd-amd64.iso.bz2': sha256.toLowerCase(),
    });
  });
});
