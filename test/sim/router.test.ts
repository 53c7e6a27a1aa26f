// The router VM: created with the OPNsense installer attached, it routes nothing until the owner has installed and
// configured OPNsense (sim/net/owner.ts); then it hands out addresses on SERVICES and IOT, is their gateway and DNS,
// routes and NATs to the LAN, and filters with the owner's rules. Faults make an installed router that does not
// route, or has no DHCP on a segment.
import { afterEach, describe, expect, it } from 'vitest';
import { callInternal } from '../../sim/dispatch.ts';
import { ownerConfiguresRouter } from '../../sim/net/owner.ts';
import { probe } from '../../sim/net/path.ts';
import { nicMac, referenceRouterConfig } from '../../sim/scenario-router.ts';
import { startSim, type RunningSim } from '../../sim/server.ts';
import { tailnetReaches } from '../../sim/net/tailnet-routes.ts';
import { guestAttachments } from '../../sim/net/segments.ts';
import { addressesOf as addressesFor, guest, labWithRouterVm, moveNic, rebootGuest, routerMacs } from './net-helpers.ts';

let sim: RunningSim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const macs = routerMacs;
const addressesOf = addressesFor;
const move = (s: RunningSim, vmid: number, bridge: string): Promise<void> => moveNic(s, vmid, bridge);
const reboot = rebootGuest;
const from = guest;
const guestAttachmentsNow = (s: RunningSim, vmid: number): string[] => guestAttachments(s.lab, vmid).map((a) => `${a.ip}/${a.prefix}`);

describe('the router VM before the owner’s step', () => {
  it('boots the OPNsense installer from its CD-ROM and serves nothing: a guest moved to vmbr1 gets no address', async () => {
    sim = await labWithRouterVm();
    expect(sim.lab.vm(150).boot).toMatchObject({ os: 'opnsense-installer', ready: true });
    await move(sim, 300, 'vmbr1');
    expect(addressesOf(sim, 300)).toEqual([]);
    expect(probe(sim.lab, from(300), '10.10.20.1', 'icmp')).toEqual({ kind: 'net-unreachable' });
  });

  it('cannot be configured without the installer, and refuses a configuration that does not fit the VM', async () => {
    sim = await labWithRouterVm();
    await callInternal(sim.lab, 'POST', '/nodes/proxmox/qemu', { vmid: '151', name: 'blank', memory: '1024', scsi0: 'local-lvm:8', net0: 'virtio,bridge=vmbr0', start: '1' });
    await sim.lab.boots.drain();
    expect(() => ownerConfiguresRouter(sim!.lab, 151, referenceRouterConfig(macs(sim!)))).toThrow('VM 151 booted nothing: attach the OPNsense installer ISO as a CD-ROM and boot from it');
    const config = referenceRouterConfig(macs(sim));
    expect(() => ownerConfiguresRouter(sim!.lab, 150, { ...config, interfaces: [{ ...config.interfaces[0]!, mac: 'BC:24:11:00:00:01' }, ...config.interfaces.slice(1)] })).toThrow(/interfaces\[0\] \(WAN\): MAC BC:24:11:00:00:01 is none of the VM's NICs/);
    const outside = structuredClone(config);
    outside.interfaces[2]!.dhcp = { from: '10.10.20.100', to: '10.10.20.199' };
    expect(() => ownerConfiguresRouter(sim!.lab, 150, outside)).toThrow('interfaces[2] (IOT): DHCP range end 10.10.20.100 is not in 10.10.30.0/24');
    const overlapping = structuredClone(config);
    overlapping.interfaces[2]!.address = '10.10.20.254/24';
    overlapping.interfaces[2]!.dhcp = undefined;
    expect(() => ownerConfiguresRouter(sim!.lab, 150, overlapping)).toThrow('interfaces[2] (IOT): 10.10.20.0/24 overlaps SERVICES (10.10.20.0/24)');
    expect(() => ownerConfiguresRouter(sim!.lab, 150, { ...config, rules: [{ interface: 'DMZ', action: 'pass' }] })).toThrow('rules[0]: no interface named DMZ');
    expect(sim.lab.netState.router).toBeUndefined();
  });
});

describe('a guest moved before the router was ready', () => {
  it('gets its segment address at its next DISCOVER once the router serves, or at once with networkctl reconfigure', async () => {
    sim = await labWithRouterVm();
    await move(sim, 300, 'vmbr1');
    await move(sim, 100, 'vmbr1');
    expect(addressesOf(sim, 300)).toEqual([]);
    ownerConfiguresRouter(sim.lab, 150, referenceRouterConfig(macs(sim), { services: { [nicMac(sim.lab, 300, 'net0')]: '10.10.20.30' } }));
    await sim.lab.boots.drain();
    // VM 300 waits for its DHCP client's retransmission (scaled 10 s); VM 100 restarts DHCP now.
    expect((await sim.lab.guestExec(100, ['networkctl', 'reconfigure', 'eth0'])).exitcode).toBe(0);
    const retryAt = sim.lab.netState.guests.get(300)!.leases.get('net0')!.boundAt;
    const reconfiguredAt = sim.lab.netState.guests.get(100)!.leases.get('net0')!.boundAt;
    expect(retryAt).toBeGreaterThan(reconfiguredAt);
    await expect.poll(() => guestAttachmentsNow(sim!, 300), { timeout: 5_000 }).toEqual(['10.10.20.30/24']);
    await expect.poll(() => guestAttachmentsNow(sim!, 100), { timeout: 5_000 }).toEqual([expect.stringMatching(/^10\.10\.20\.1\d\d\/24$/)]);
  });
});

describe('the router installed and configured by the owner', () => {
  it('gives a moved guest an address in its segment, is its gateway and DNS, and routes and NATs to the LAN and the internet', async () => {
    sim = await labWithRouterVm();
    ownerConfiguresRouter(sim.lab, 150, referenceRouterConfig(macs(sim), { services: { [nicMac(sim.lab, 300, 'net0')]: '10.10.20.30' } }));
    // The installer's reboot: the disk is first in the boot order, so OPNsense boots from it.
    expect(sim.lab.vm(150).boot?.ready).toBe(false);
    await sim.lab.boots.drain();
    expect(sim.lab.vm(150).boot?.os).toBe('opnsense');
    await move(sim, 300, 'vmbr1');
    expect(addressesOf(sim, 300)).toEqual(['10.10.20.30/24 on vmbr1']);
    const now = Date.now() + 60_000;
    expect(probe(sim.lab, from(300), '10.10.20.1', 'icmp', undefined, now).kind).toBe('ok');
    expect(probe(sim.lab, from(300), '10.10.20.1', 'udp', 53, now).kind).toBe('ok');
    // Routed out of WAN (and NATed there: the home router has no route back to 10.10.20.0/24).
    expect(probe(sim.lab, from(300), '192.168.1.1', 'udp', 53, now)).toEqual({ kind: 'ok', src: '10.10.20.30' });
    expect(probe(sim.lab, from(300), '198.41.0.4', 'udp', 53, now).kind).toBe('ok');
    // The owner's rules: SERVICES is kept off the node's management and off IOT.
    expect(probe(sim.lab, from(300), '192.168.1.10', 'tcp', 8006, now).kind).toBe('timeout');
    // The LAN reaches SERVICES only with a route via the router's WAN address.
    expect(probe(sim.lab, from(100), '10.10.20.30', 'tcp', 32400, now).kind).toBe('timeout');
    sim.lab.netState.guests.get(100)!.runtimeRoutes.push({ to: '10.10.20.0/24', via: '192.168.1.2', dev: 'eth0' });
    expect(probe(sim.lab, from(100), '10.10.20.30', 'tcp', 32400, now).kind).toBe('ok');
  });

  it('does not route when the CD-ROM stays first in the boot order: the installer boots again', async () => {
    sim = await labWithRouterVm();
    await callInternal(sim.lab, 'POST', '/nodes/proxmox/qemu/150/status/stop');
    await callInternal(sim.lab, 'PUT', '/nodes/proxmox/qemu/150/config', { boot: 'order=ide2;scsi0' });
    await callInternal(sim.lab, 'POST', '/nodes/proxmox/qemu/150/status/start');
    await sim.lab.boots.drain();
    ownerConfiguresRouter(sim.lab, 150, referenceRouterConfig(macs(sim)));
    await sim.lab.boots.drain();
    expect(sim.lab.vm(150).boot?.os).toBe('opnsense-installer');
    await move(sim, 300, 'vmbr1');
    expect(addressesOf(sim, 300)).toEqual([]);
  });

  it('without "Block private networks" switched off, its WAN drops the LAN (OPNsense default)', async () => {
    sim = await labWithRouterVm();
    const config = referenceRouterConfig(macs(sim), { services: { [nicMac(sim.lab, 300, 'net0')]: '10.10.20.30' } });
    delete config.interfaces[0]!.blockPrivate;
    ownerConfiguresRouter(sim.lab, 150, config);
    await sim.lab.boots.drain();
    await move(sim, 300, 'vmbr1');
    sim.lab.netState.guests.get(100)!.runtimeRoutes.push({ to: '10.10.20.0/24', via: '192.168.1.2', dev: 'eth0' });
    expect(probe(sim.lab, from(100), '10.10.20.30', 'tcp', 22, Date.now() + 60_000).kind).toBe('timeout');
  });

  it('the node firewall alone does not keep SERVICES off management: the router NATs it to its LAN address', async () => {
    sim = await labWithRouterVm();
    const config = referenceRouterConfig(macs(sim));
    config.rules = config.rules.filter((r) => r.description !== 'SERVICES must not reach Proxmox management');
    ownerConfiguresRouter(sim.lab, 150, config);
    await sim.lab.boots.drain();
    await callInternal(sim.lab, 'POST', '/cluster/firewall/ipset', { name: 'seg-services' });
    await callInternal(sim.lab, 'POST', '/cluster/firewall/ipset/seg-services', { cidr: '10.10.20.0/24' });
    await callInternal(sim.lab, 'POST', '/cluster/firewall/rules', { type: 'in', action: 'DROP', enable: '1', source: '+seg-services', proto: 'tcp', dport: '22,8006' });
    await callInternal(sim.lab, 'PUT', '/cluster/firewall/options', { enable: '1', policy_in: 'DROP' });
    sim.lab.firewall.runCycle();
    await move(sim, 300, 'vmbr1');
    expect(probe(sim.lab, from(300), '192.168.1.10', 'tcp', 8006, Date.now() + 60_000).kind).toBe('ok');
  });
});

describe('router faults', () => {
  it('router:no-routing — leases and its own services, but nothing forwarded between interfaces', async () => {
    sim = await labWithRouterVm(['router:no-routing']);
    ownerConfiguresRouter(sim.lab, 150, referenceRouterConfig(macs(sim)));
    await sim.lab.boots.drain();
    await move(sim, 300, 'vmbr1');
    const now = Date.now() + 60_000;
    expect(addressesOf(sim, 300)[0]).toMatch(/^10\.10\.20\.1\d\d\/24 on vmbr1$/);
    expect(probe(sim.lab, from(300), '10.10.20.1', 'icmp', undefined, now).kind).toBe('ok');
    expect(probe(sim.lab, from(300), '192.168.1.1', 'icmp', undefined, now).kind).toBe('timeout');
  });

  it('router:no-dhcp:vmbr2 — no lease on IOT, even after a reboot', async () => {
    sim = await labWithRouterVm(['router:no-dhcp:vmbr2']);
    ownerConfiguresRouter(sim.lab, 150, referenceRouterConfig(macs(sim)));
    await sim.lab.boots.drain();
    await move(sim, 400, 'vmbr2');
    await reboot(sim, 400);
    expect(addressesOf(sim, 400)).toEqual([]);
    await move(sim, 300, 'vmbr1');
    expect(addressesOf(sim, 300)[0]).toMatch(/ on vmbr1$/);
  });
});

describe('the phase2 scenario with a router that does not route', () => {
  it('app-host keeps its SERVICES lease and reaches its gateway, but nothing beyond it, and the tailnet route is dead', async () => {
    sim = await startSim({ scenario: 'phase2', taskSeconds: 0.05, faults: ['router:no-routing'] });
    const run = (...argv: string[]) => sim!.lab.guestExec(300, argv);
    expect((await run('ping', '-c', '1', '-W', '2', '10.10.20.1')).exitcode).toBe(0);
    const lan = await run('ping', '-c', '1', '-W', '2', '192.168.1.1');
    expect(lan.exitcode).toBe(1);
    expect(lan.out).toContain('1 packets transmitted, 0 received, 100% packet loss');
    // Unbound on the router still resolves (it asks from the router itself), but nothing gets through the router.
    expect((await run('getent', 'ahostsv4', 'deb.debian.org')).exitcode).toBe(0);
    expect(await run('curl', '-fsS', 'https://pkgs.tailscale.com/stable/debian/trixie.noarmor.gpg')).toMatchObject({ exitcode: 28 });
    expect(tailnetReaches(sim.lab, '10.10.20.30', 'tcp', 32400)).toMatchObject({ kind: 'timeout', device: 'edge-gateway' });
  });
});
