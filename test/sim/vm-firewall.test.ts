// pve-firewall on the VMs' NICs, between guests and segments: a firewalled NIC (firewall=1) of a VM whose firewall
// is enabled gets the VM's IN/OUT rules and policies on its tap, with the ruleset the last update cycle loaded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callInternal } from '../../sim/dispatch.ts';
import { ownerConfiguresRouter } from '../../sim/net/owner.ts';
import { probe } from '../../sim/net/path.ts';
import { nicMac, referenceRouterConfig } from '../../sim/scenario-router.ts';
import { DEBIAN_IMAGE_FILE, DRIVE_OPTIONS, VENDOR_DATA } from '../../sim/scenario-guests.ts';
import type { RunningSim } from '../../sim/server.ts';
import { addressesOf, guest, labWithRouterVm, moveNic, rebootGuest, routerMacs } from './net-helpers.ts';

let sim: RunningSim;
const later = (): number => Date.now() + 60_000;
const NODE = '/nodes/proxmox';

beforeAll(async () => {
  sim = await labWithRouterVm();
  // The owner's router, without its own IOT → SERVICES block, so only PVE's VM firewall stands in the way.
  const config = referenceRouterConfig(routerMacs(sim), {
    services: { [nicMac(sim.lab, 300, 'net0')]: '10.10.20.30' },
    iot: { [nicMac(sim.lab, 400, 'net0')]: '10.10.30.40' },
  });
  config.rules = config.rules.filter((r) => !(r.interface === 'IOT' && r.destination === 'SERVICES net'));
  ownerConfiguresRouter(sim.lab, 150, config);
  await sim.lab.boots.drain();
  await moveNic(sim, 300, 'vmbr1');
  await moveNic(sim, 400, 'vmbr2');
  await rebootGuest(sim, 400);
  // Another IOT device: a Debian guest on vmbr2 (its first boot installs the agent through the router's NAT).
  sim.lab.nodeFiles.write('/var/lib/vz/snippets/vendor-410.yaml', Buffer.from(VENDOR_DATA));
  await callInternal(sim.lab, 'POST', `${NODE}/qemu`, {
    vmid: '410', name: 'iot-device', memory: '1024', scsihw: 'virtio-scsi-single', agent: '1',
    scsi0: `local-lvm:0,import-from=local:import/${DEBIAN_IMAGE_FILE},${DRIVE_OPTIONS}`, ide2: 'local-lvm:cloudinit', boot: 'order=scsi0',
    ipconfig0: 'ip=dhcp', cicustom: 'vendor=local:snippets/vendor-410.yaml', net0: 'virtio,bridge=vmbr2,firewall=1', start: '1',
  });
  await sim.lab.boots.drain();
  for (const [name, cidr] of [['seg-services', '10.10.20.0/24'], ['seg-iot', '10.10.30.0/24']] as const) {
    await callInternal(sim.lab, 'POST', '/cluster/firewall/ipset', { name });
    await callInternal(sim.lab, 'POST', `/cluster/firewall/ipset/${name}`, { cidr });
  }
  await callInternal(sim.lab, 'PUT', '/cluster/firewall/options', { enable: '1' });
  sim.lab.firewall.runCycle();
});
afterAll(async () => {
  await sim.close();
});

describe('the guests of the test lab', () => {
  it('have their segment addresses from the router', () => {
    expect(addressesOf(sim, 300)).toEqual(['10.10.20.30/24 on vmbr1']);
    expect(addressesOf(sim, 400)).toEqual(['10.10.30.40/24 on vmbr2']);
    expect(addressesOf(sim, 410)[0]).toMatch(/^10\.10\.30\.1\d\d\/24 on vmbr2$/);
    expect(sim.lab.guestSystem.agentRunning(410)).toBe(true);
  });
});

describe("a VM's IN rules on its tap", () => {
  it('IOT reaches Home Assistant on 8123 only, once the cycle has loaded the rules (same segment, no router involved)', async () => {
    await callInternal(sim.lab, 'PUT', `${NODE}/qemu/400/firewall/options`, { enable: '1', policy_in: 'DROP' });
    for (const [pos, dport] of ['8123', '1883'].entries()) {
      await callInternal(sim.lab, 'POST', `${NODE}/qemu/400/firewall/rules`, { type: 'in', action: 'ACCEPT', enable: '1', source: '+seg-iot', proto: 'tcp', dport, pos: String(pos) });
    }
    // Written, not loaded: the Supervisor's observer (4357) still answers the IOT device.
    expect(probe(sim.lab, guest(410), '10.10.30.40', 'tcp', 4357, later()).kind).toBe('ok');
    sim.lab.firewall.runCycle();
    expect(probe(sim.lab, guest(410), '10.10.30.40', 'tcp', 8123, later()).kind).toBe('ok');
    expect(probe(sim.lab, guest(410), '10.10.30.40', 'tcp', 4357, later()).kind).toBe('timeout');
    // 1883 passes the firewall, but nothing listens until the owner installs the Mosquitto add-on.
    expect(probe(sim.lab, guest(410), '10.10.30.40', 'tcp', 1883, later()).kind).toBe('refused');
    expect(probe(sim.lab, guest(410), '10.10.30.40', 'icmp', undefined, later()).kind).toBe('timeout');
  });

  it('IOT → app-host is refused by app-host’s VM firewall while the LAN gets in; a NIC with firewall=0 has no chain', async () => {
    expect(probe(sim.lab, guest(410), '10.10.20.30', 'tcp', 22, later()).kind).toBe('ok');
    await callInternal(sim.lab, 'PUT', `${NODE}/qemu/300/firewall/options`, { enable: '1', policy_in: 'DROP' });
    await callInternal(sim.lab, 'POST', `${NODE}/qemu/300/firewall/rules`, { type: 'in', action: 'ACCEPT', enable: '1', source: '192.168.1.0/24', pos: '0' });
    await callInternal(sim.lab, 'POST', `${NODE}/qemu/300/firewall/rules`, { type: 'in', action: 'ACCEPT', enable: '1', source: '+seg-services', pos: '1' });
    sim.lab.firewall.runCycle();
    expect(probe(sim.lab, guest(410), '10.10.20.30', 'tcp', 22, later()).kind).toBe('timeout');
    sim.lab.netState.guests.get(100)!.runtimeRoutes.push({ to: '10.10.20.0/24', via: '192.168.1.2', dev: 'eth0' });
    expect(probe(sim.lab, guest(100), '10.10.20.30', 'tcp', 22, later()).kind).toBe('ok');
    // REJECT answers at once (tcp-reset), DROP lets the connection time out.
    await callInternal(sim.lab, 'PUT', `${NODE}/qemu/300/firewall/options`, { policy_in: 'REJECT' });
    sim.lab.firewall.runCycle();
    expect(probe(sim.lab, guest(410), '10.10.20.30', 'tcp', 22, later()).kind).toBe('refused');
    await moveNic(sim, 300, 'vmbr1', 0);
    sim.lab.firewall.runCycle();
    await sim.lab.boots.drain();
    expect(probe(sim.lab, guest(410), '10.10.20.30', 'tcp', 22, later()).kind).toBe('ok');
    await moveNic(sim, 300, 'vmbr1', 1);
    sim.lab.firewall.runCycle();
  });
});

describe("a VM's OUT rules", () => {
  it('a DROP out of the IOT device keeps it from its gateway; disabling the VM firewall lifts every rule', async () => {
    expect(probe(sim.lab, guest(410), '10.10.30.1', 'icmp', undefined, later()).kind).toBe('ok');
    await callInternal(sim.lab, 'PUT', `${NODE}/qemu/410/firewall/options`, { enable: '1' });
    await callInternal(sim.lab, 'POST', `${NODE}/qemu/410/firewall/rules`, { type: 'out', action: 'DROP', enable: '1', dest: '10.10.30.1' });
    sim.lab.firewall.runCycle();
    expect(probe(sim.lab, guest(410), '10.10.30.1', 'icmp', undefined, later()).kind).toBe('timeout');
    await callInternal(sim.lab, 'PUT', `${NODE}/qemu/410/firewall/options`, { enable: '0' });
    sim.lab.firewall.runCycle();
    expect(probe(sim.lab, guest(410), '10.10.30.1', 'icmp', undefined, later()).kind).toBe('ok');
  });
});
