// Phase 2's bad input, located: segment addresses that do not fit or collide, a router without one NIC per segment,
// no LAN guest to check the router from, and moves whose services the spec does not describe.
import { describe, expect, it } from 'vitest';
import { edit, findingsOf, lineOf, REFERENCE } from './helpers.ts';

const SEGMENTS = ['firewall', 'segmentation', 'segments'];
const of = (text: string, id: string) => findingsOf(text, 'specs/x.yaml').filter((f) => f.ruleId === id);
const paths = (text: string, id: string) => of(text, id).map((f) => [f.path, f.message]);

describe('segment addresses (segmentation.addressing)', () => {
  it('the reference spec fits together', () => {
    expect(of(REFERENCE, 'segmentation.addressing')).toEqual([]);
  });

  it('refuses overlapping networks, a shared gateway and overlapping DHCP ranges, each at the later segment', () => {
    const text = edit(REFERENCE, [
      [[...SEGMENTS, 2, 'cidr'], '10.10.20.0/23'],
      [[...SEGMENTS, 2, 'gateway'], '10.10.20.1'],
      [[...SEGMENTS, 2, 'dhcp'], { from: '10.10.20.150', to: '10.10.21.10' }],
    ]);
    expect(paths(text, 'segmentation.addressing')).toEqual(
      expect.arrayContaining([
        ['firewall.segmentation.segments[2].cidr', '10.10.20.0/23 (IOT) overlaps 10.10.20.0/24 (SERVICES)'],
        ['firewall.segmentation.segments[2].gateway', "IOT's gateway 10.10.20.1 is also SERVICES's"],
        ['firewall.segmentation.segments[2].dhcp', 'the DHCP range 10.10.20.150–10.10.21.10 (IOT) overlaps 10.10.20.100–10.10.20.199 (SERVICES)'],
      ]),
    );
    const finding = of(text, 'segmentation.addressing').find((f) => f.path === 'firewall.segmentation.segments[2].cidr')!;
    expect(finding.line).toBe(lineOf(text, '10.10.20.0/23'));
  });

  it('refuses addresses outside their segment, a range that ends before it starts or holds the gateway', () => {
    expect(paths(edit(REFERENCE, [[[...SEGMENTS, 1, 'gateway'], '10.10.30.1']]), 'segmentation.addressing')).toContainEqual(['firewall.segmentation.segments[1].gateway', '10.10.30.1 is not in 10.10.20.0/24']);
    expect(paths(edit(REFERENCE, [[[...SEGMENTS, 1, 'gateway'], '10.10.20.0']]), 'segmentation.addressing')).toContainEqual(['firewall.segmentation.segments[1].gateway', '10.10.20.0 is the network or broadcast address of 10.10.20.0/24']);
    expect(paths(edit(REFERENCE, [[[...SEGMENTS, 1, 'dhcp'], { from: '10.10.20.199', to: '10.10.20.100' }]]), 'segmentation.addressing')).toContainEqual(['firewall.segmentation.segments[1].dhcp', 'the DHCP range 10.10.20.199–10.10.20.100 ends before it starts']);
    expect(paths(edit(REFERENCE, [[[...SEGMENTS, 1, 'dhcp'], { from: '10.10.20.1', to: '10.10.20.50' }]]), 'segmentation.addressing')).toContainEqual(['firewall.segmentation.segments[1].dhcp', 'the DHCP range 10.10.20.1–10.10.20.50 contains the gateway 10.10.20.1']);
  });

  it('needs a gateway and a DHCP range on SERVICES and IOT, and the router\'s own address on the LAN', () => {
    const text = edit(REFERENCE, [
      [[...SEGMENTS, 1, 'gateway'], undefined],
      [[...SEGMENTS, 2, 'dhcp'], undefined],
      [[...SEGMENTS, 0, 'router'], undefined],
    ]);
    const found = paths(text, 'segmentation.addressing').map(([path]) => path);
    expect(found).toEqual(expect.arrayContaining(['firewall.segmentation.segments[0]', 'firewall.segmentation.segments[1]', 'firewall.segmentation.segments[2]']));
    expect(paths(edit(REFERENCE, [[[...SEGMENTS, 0, 'router'], '192.168.1.10']]), 'segmentation.addressing')).toContainEqual(['firewall.segmentation.segments[0].router', "192.168.1.10 is already the node's address"]);
    expect(paths(edit(REFERENCE, [[[...SEGMENTS, 0, 'dhcp'], { from: '192.168.1.100', to: '192.168.1.150' }]]), 'segmentation.addressing').map(([p]) => p)).toContain('firewall.segmentation.segments[0].dhcp');
  });
});

describe('the router gate (segmentation.router)', () => {
  it('refuses a router without one NIC per segment, at its NIC list', () => {
    const two = edit(REFERENCE, [[['vms', 1, 'net', 2], undefined]]);
    expect(paths(two, 'segmentation.router').map(([p]) => p)).toContain('vms[1].net');
    const twice = edit(REFERENCE, [[['vms', 1, 'net', 2, 'bridge'], 'vmbr1']]);
    expect(paths(twice, 'segmentation.router')).toContainEqual(['vms[1].net', expect.stringContaining('vmbr1 twice')]);
  });

  it('refuses segmentation with no Debian guest on the LAN to check the router from', () => {
    const text = edit(REFERENCE, [[['vms', 0, 'agent'], false]]);
    expect(paths(text, 'segmentation.router')).toContainEqual(['firewall.segmentation', expect.stringContaining('no Debian guest with its guest agent stays on the LAN')]);
  });
});

describe('moves that cannot be checked (segmentation.move-check)', () => {
  it('warns when the moved guest has no agent', () => {
    const found = of(edit(REFERENCE, [[['vms', 3, 'agent'], false]]), 'segmentation.move-check');
    expect(found.map((f) => [f.severity, f.path])).toEqual([['warning', 'vms[3].overrides.phase2.net[0].bridge']]);
  });
  it('warns when the spec says nothing about what the moved guest serves: only its address, gateway and DNS can be checked', () => {
    const silent = edit(REFERENCE, [
      [['vms', 2, 'provision', 'docker', 'stacks', 0, 'ports'], []],
      [['vms', 2, 'provision', 'docker', 'stacks', 2, 'ports'], []],
      [['firewall', 'segmentation', 'allow', 4], undefined],
      [['firewall', 'segmentation', 'allow', 3], undefined],
    ]);
    const found = of(silent, 'segmentation.move-check');
    expect(found.map((f) => [f.severity, f.path, f.message])).toEqual([
      ['warning', 'vms[2].overrides.phase2.net[0].bridge', 'app-host moves to vmbr1, but the spec says nothing about what it serves: only its address, gateway and DNS are checked after the move'],
    ]);
  });
  it('is quiet for the reference spec: app-host and Home Assistant say what they serve', () => {
    expect(of(REFERENCE, 'segmentation.move-check')).toEqual([]);
  });
});

describe('os: opnsense', () => {
  it('refuses an installer URL without a checksum and one that is not an ISO', () => {
    const load = (image: unknown) => {
      try {
        findingsOf(edit(REFERENCE, [[['vms', 1, 'image'], image]]));
        return [];
      } catch (error) {
        return String(error).split('\n').slice(1);
      }
    };
    expect(load({ url: 'https://mirror.example/OPNsense-25.7-dvd-amd64.iso.bz2' })).toEqual([expect.stringMatching(/^input\.image-checksum vms\[1\]\.image\.url/)]);
    expect(load({ url: 'https://mirror.example/OPNsense-25.7-vga-amd64.img.bz2', sha256: 'a'.repeat(64) })).toEqual([expect.stringMatching(/^input\.image vms\[1\]\.image\.url/)]);
    expect(load({ url: 'https://mirror.example/OPNsense-25.7-dvd-amd64.iso', sha256: 'a'.repeat(64) })).toEqual([]);
  });
});
