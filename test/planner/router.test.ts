// The router gate as the plan states it: what the owner enters in OPNsense, derived from the spec (interfaces by MAC,
// addresses, DHCP ranges, the matrix as router rules), and when Jarvis sees it done.
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../planner/artifact.ts';
import { OPNSENSE_INSTALLER } from '../../planner/boot-media.ts';
import type { RouterSetup } from '../../planner/plan.ts';
import { plannedMac } from '../../planner/router.ts';
import { known, unknown, type LiveState } from '../../planner/state.ts';
import { loadReference, phase0State } from './fixtures.ts';

const { spec, source } = await loadReference();
const plan = (state: LiveState) => buildPlan({ spec, specPath: 'specs/jarvis-homelab.desired.yaml', specSha256: source.sha256, phase: 'phase2', state, requestedBy: 'test', now: '2026-01-01T00:00:00Z', id: 'p' });

/** A phase-1 lab with bridges, and router 150 booted from its installer with the MACs PVE gave it. */
function routerPending(): LiveState {
  const state = phase0State();
  state.publishedSums = { [OPNSENSE_INSTALLER.sums]: known({ 'OPNsense-25.7-dvd-amd64.iso.bz2': 'a'.repeat(64) }) };
  state.network = known([
    { iface: 'vmbr0', type: 'bridge', active: true, autostart: true, bridge_ports: ['enp3s0'], cidr: '192.168.1.10/24', gateway: '192.168.1.1', comments: 'LAN (physical uplink)', pending: false },
    { iface: 'vmbr1', type: 'bridge', active: true, autostart: true, bridge_ports: [], comments: 'SERVICES internal-only', pending: false },
    { iface: 'vmbr2', type: 'bridge', active: true, autostart: true, bridge_ports: [], comments: 'IOT internal-only', pending: false },
  ]);
  state.vms[150] = {
    vmid: 150,
    node: 'proxmox',
    status: 'running',
    digest: 'digest-150',
    config: {
      name: 'firewall-router', ostype: 'other', cores: 2, sockets: 1, memory: '2048', scsihw: 'virtio-scsi-single', agent: '1', onboot: 1, hotplug: 'disk,network,usb',
      description: 'OPNsense router between LAN, SERVICES and IOT.', tags: 'env-lab;owner-loic;role-firewall-router;tier-lan',
      scsi0: 'local-lvm:vm-150-disk-0,cache=none,discard=on,iothread=1,size=16G,ssd=1',
      ide2: 'local:iso/OPNsense-25.7-dvd-amd64-aaaaaaaaaaaa.iso,media=cdrom', boot: 'order=scsi0;ide2',
      net0: 'virtio=BC:24:11:AA:00:00,bridge=vmbr0,firewall=0', net1: 'virtio=BC:24:11:AA:00:01,bridge=vmbr1,firewall=0', net2: 'virtio=BC:24:11:AA:00:02,bridge=vmbr2,firewall=0',
    },
  };
  return state;
}

const routerStep = (state: LiveState) => plan(state).actions.find((a) => a.id === 'manual.step:150:router');

describe('the router step', () => {
  it('names each interface by the MAC of the VM NIC, with the spec\'s addresses and DHCP ranges', () => {
    const step = routerStep(routerPending())!;
    const setup = (step.params as { router: RouterSetup }).router;
    expect(setup.interfaces).toEqual([
      { assign: 'WAN', name: 'WAN', netKey: 'net0', mac: 'BC:24:11:AA:00:00', bridge: 'vmbr0', address: '192.168.1.2/24', gateway: '192.168.1.1', blockPrivate: false },
      { assign: 'LAN', name: 'SERVICES', netKey: 'net1', mac: 'BC:24:11:AA:00:01', bridge: 'vmbr1', address: '10.10.20.1/24', dhcp: { from: '10.10.20.100', to: '10.10.20.199' } },
      { assign: 'OPT1', name: 'IOT', netKey: 'net2', mac: 'BC:24:11:AA:00:02', bridge: 'vmbr2', address: '10.10.30.1/24', dhcp: { from: '10.10.30.100', to: '10.10.30.199' } },
    ]);
    const text = (step.params as { instructions: string[] }).instructions.join('\n');
    expect(text).toContain('it boots the OPNsense installer from its CD-ROM (local:iso/OPNsense-25.7-dvd-amd64-aaaaaaaaaaaa.iso)');
    expect(text).toContain('WAN = BC:24:11:AA:00:00 (net0, vmbr0); LAN = BC:24:11:AA:00:01 (net1, vmbr1), description SERVICES; OPT1 = BC:24:11:AA:00:02 (net2, vmbr2), description IOT');
    expect(text).toContain('WAN upstream gateway 192.168.1.1');
    expect(text).toContain('untick "Block private networks"');
    expect(text).toContain('Services > DHCPv4 > IOT: enable, range 10.10.30.100 – 10.10.30.199');
    expect(text).toContain('until then the move of VM 300 (app-host), the move of VM 400 (home-assistant) wait');
  });

  it('turns the matrix into router rules: what may cross, then default deny, then the internet', () => {
    const setup = (routerStep(routerPending())!.params as { router: RouterSetup }).router;
    const line = (r: RouterSetup['rules'][number]) => `${r.interface} ${r.action} ${r.protocol} ${r.source} → ${r.destination}${r.port ? `:${r.port}` : ''}`;
    expect(setup.rules.map(line)).toEqual([
      'WAN pass icmp WAN net → SERVICES address',
      'WAN pass icmp WAN net → IOT address',
      'WAN pass tcp WAN net → IOT net:8123',
      'WAN pass tcp WAN net → SERVICES net:32400',
      'WAN pass tcp WAN net → SERVICES net:3000',
      'SERVICES pass tcp/udp SERVICES net → SERVICES address:53',
      'SERVICES pass icmp SERVICES net → SERVICES address',
      'SERVICES block any SERVICES net → WAN net',
      'SERVICES block any SERVICES net → IOT net',
      'SERVICES pass any SERVICES net → any',
      'IOT pass tcp/udp IOT net → IOT address:53',
      'IOT pass icmp IOT net → IOT address',
      'IOT block any IOT net → WAN net',
      'IOT block any IOT net → SERVICES net',
      'IOT pass any IOT net → any',
    ]);
  });

  it('plans the MACs of a router it creates, so the step can name them before the VM exists', () => {
    const state = phase0State();
    state.publishedSums = { [OPNSENSE_INSTALLER.sums]: known({ 'OPNsense-25.7-dvd-amd64.iso.bz2': 'a'.repeat(64) }) };
    const setup = (routerStep(state)!.params as { router: RouterSetup }).router;
    expect(setup.interfaces.map((i) => i.mac)).toEqual([0, 1, 2].map((i) => plannedMac(150, i)));
    expect(plannedMac(150, 0)).toMatch(/^BC:24:11(:[0-9A-F]{2}){3}$/);
    expect(new Set([0, 1, 2].map((i) => plannedMac(150, i))).size).toBe(3);
  });

  it('is not listed once the LAN guest sees the router route; stays listed, with a warning, when it cannot be checked', () => {
    const ready = routerPending();
    ready.routerGate = known({ ready: true, detail: 'from VM 100: 2 check(s) pass' });
    const readyPlan = plan(ready);
    expect(readyPlan.actions.map((a) => a.id)).not.toContain('manual.step:150:router');
    expect(readyPlan.actions.find((a) => a.id === 'vm.nic.reattach:300:net0')?.dependsOn).not.toContain('manual.step:150:router');
    const unseen = routerPending();
    unseen.routerGate = unknown('VM 100, which checks the router, is stopped');
    const unseenPlan = plan(unseen);
    expect(unseenPlan.actions.map((a) => a.id)).toContain('manual.step:150:router');
    expect(unseenPlan.warnings).toContainEqual(expect.objectContaining({ code: 'manual-step-unobservable', message: expect.stringContaining('VM 100, which checks the router, is stopped') }));
  });
});
