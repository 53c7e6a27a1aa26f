// Phase 2 that cannot strand a guest, against the simulator in this process (its guests, router and firewall timing
// answering from the simulated topology): with the router not installed yet no NIC moves; once the owner has done
// exactly what the manual step says, 300 and 400 move and the in-guest checks pass; with a router that answers on its
// own addresses but forwards nothing, the move is reverted within the window and the guest is back on its network.
import { afterEach, describe, expect, it } from 'vitest';
import { routesFile } from '../../deploy/steps/network.ts';
import type { Plan, RouterSetup } from '../../planner/plan.ts';
import { ownerConfiguresRouter } from '../../sim/net/owner.ts';
import type { RouterConfig } from '../../sim/net/router-config.ts';
import { guestAttachments } from '../../sim/net/segments.ts';
import type { ScenarioName } from '../../sim/server.ts';
import { applyOnSim, planFor, simLab as simLabIn, type Cleanups, type SimLabHandle, type TestSpec } from './support/sim-lab.ts';

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const simLab = (scenario: ScenarioName) => simLabIn(scenario, cleanups);
const planPhase2 = (ports: SimLabHandle['lab'], id: string) => planFor(ports, 'phase2', id);
const apply = (handle: SimLabHandle, loaded: TestSpec, plan: Plan, confirmWindowMs = 8_000) => applyOnSim(handle, loaded, plan, confirmWindowMs, cleanups);

/** The owner does what the manual step says, in OPNsense's words (the simulator's owner helper). */
function ownerFollows(setup: RouterSetup): RouterConfig {
  return {
    interfaces: setup.interfaces.map((i) => ({ mac: i.mac, assign: i.assign, name: i.name, address: i.address, ...(i.gateway ? { gateway: i.gateway } : {}), ...(i.dhcp ? { dhcp: i.dhcp } : {}), ...(i.blockPrivate !== undefined ? { blockPrivate: i.blockPrivate } : {}) })),
    rules: setup.rules.map((r) => ({ interface: r.interface, action: r.action, protocol: r.protocol, source: r.source, destination: r.destination, ...(r.port ? { port: r.port } : {}), description: r.description })),
  };
}

const bridgeOf = (handle: SimLabHandle, vmid: number) => /bridge=(\w+)/.exec(handle.sim.lab.vm(vmid).config.net0 ?? '')?.[1];
const addressesOf = (handle: SimLabHandle, vmid: number) => guestAttachments(handle.sim.lab, vmid).map((a) => a.ip);

/**
 * From the router pending its owner (scenario phase2-router-pending, where the product's first phase-2 apply stopped):
 * edge-gateway's routes to the segments as that apply's step leaves them, then the owner follows the manual step.
 */
async function routerReady(handle: SimLabHandle): Promise<void> {
  const routes = await handle.sim.lab.guestExec(100, ['bash', '-c', [
    'mkdir -p "$JARVIS_ROOT/etc/netplan"',
    `printf '%s' '${routesFile('eth0', [{ to: '10.10.20.0/24', via: '192.168.1.2' }, { to: '10.10.30.0/24', via: '192.168.1.2' }])}' > "$JARVIS_ROOT/etc/netplan/60-jarvis-routes.yaml"`,
    'ip route replace 10.10.20.0/24 via 192.168.1.2 dev eth0',
    'ip route replace 10.10.30.0/24 via 192.168.1.2 dev eth0',
  ].join(' && ')]);
  expect(routes.exitcode).toBe(0);
  const { plan } = await planPhase2(handle.lab, 'p2-router-step');
  const step = plan.actions.find((a) => a.id === 'manual.step:150:router');
  expect(step?.params.channel).toBe('owner');
  const setup = (step!.params as { router?: RouterSetup }).router!;
  ownerConfiguresRouter(handle.sim.lab, 150, ownerFollows(setup));
  await handle.sim.lab.boots.drain();
}

describe('phase 2 with the router gate', () => {
  it('moves no NIC while the router is not installed: the moves are blocked by the owner\'s step, nothing is stranded', async () => {
    const handle = await simLab('phase1');
    const { loaded, plan } = await planPhase2(handle.lab, 'p2-not-ready');
    expect(plan.violations).toEqual([]);
    const moves = ['vm.nic.reattach:300:net0', 'vm.nic.reattach:400:net0'];
    expect(plan.actions.map((a) => a.id)).toEqual(expect.arrayContaining(['vm.create:150', 'manual.step:150:router', ...moves]));
    const { report } = await apply(handle, loaded, plan);
    expect(report.status).toBe('waiting-for-owner');
    expect(report.actions.find((a) => a.actionId === 'manual.step:150:router')).toMatchObject({ outcome: 'waiting', detail: expect.stringContaining('the router does not route yet') });
    for (const id of moves) expect(report.actions.find((a) => a.actionId === id)).toMatchObject({ outcome: 'not-run', detail: 'blocked: waits for manual.step:150:router (vm/150 (firewall-router) — by the owner)', achieved: false });
    expect(report.validation?.blocked?.map((b) => b.actionId)).toEqual(expect.arrayContaining(moves));
    expect(report.validation?.remaining).toEqual([]);
    expect(report.next.join('\n')).toContain('blocked until manual.step:150:router is done: vm.nic.reattach:300:net0');
    expect([bridgeOf(handle, 300), bridgeOf(handle, 400)]).toEqual(['vmbr0', 'vmbr0']);
    expect(addressesOf(handle, 300)).toEqual([expect.stringMatching(/^192\.168\.1\./)]);
    // The router was built with its installer and boots it; the owner's instructions name its NICs by MAC.
    expect(handle.sim.lab.vm(150).config).toMatchObject({ ide2: expect.stringMatching(/^local:iso\/OPNsense-25\.7-dvd-amd64-[0-9a-f]{12}\.iso,media=cdrom$/), boot: 'order=scsi0;ide2' });
    expect(handle.sim.lab.vm(150).boot).toMatchObject({ os: 'opnsense-installer' });
    const again = await planPhase2(handle.lab, 'p2-still-waiting');
    // Still listed, all behind the router: the moves, the tags that say where the guests live, the routes advertised.
    expect(again.plan.actions.map((a) => a.id).sort()).toEqual(['manual.step:150:router', ...moves, 'vm.tags:300', 'vm.tags:400', 'guest.tailscale.routes:100', 'tailnet.routes.approve:edge-gateway'].sort());
  }, 300_000);

  it('with the router as the manual step says, moves 300 and 400 and the in-guest checks pass', async () => {
    const handle = await simLab('phase2-router-pending');
    await routerReady(handle);
    const { loaded, plan } = await planPhase2(handle.lab, 'p2-ready');
    expect(plan.actions.map((a) => a.id)).not.toContain('manual.step:150:router');
    const { report, events } = await apply(handle, loaded, plan);
    expect(report.actions.filter((a) => a.outcome !== 'done').map((a) => [a.actionId, a.outcome, a.detail])).toEqual([]);
    expect(report.status).toBe('applied');
    expect(report.actions.find((a) => a.actionId === 'vm.nic.reattach:300:net0')?.detail).toMatch(/VM 300 is on services with 10\.10\.20\.\d+, reaches 10\.10\.20\.1, resolves deb\.debian\.org and reaches it through the router/);
    expect(report.actions.find((a) => a.actionId === 'vm.nic.reattach:400:net0')?.detail).toMatch(/VM 400 is on iot with 10\.10\.30\.\d+/);
    expect(report.actions.find((a) => a.actionId === 'tailnet.routes.approve:edge-gateway')?.detail).toContain('read back from the tailnet: approved routes 10.10.20.0/24, 10.10.30.0/24');
    expect([bridgeOf(handle, 300), bridgeOf(handle, 400)]).toEqual(['vmbr1', 'vmbr2']);
    expect(addressesOf(handle, 300)).toEqual([expect.stringMatching(/^10\.10\.20\./)]);
    expect(addressesOf(handle, 400)).toEqual([expect.stringMatching(/^10\.10\.30\./)]);
    // Validation looked from inside: what must succeed does, what must fail (SERVICES to Proxmox management) fails.
    const inGuest = (report.validation?.probes ?? []).filter((p) => / in (SERVICES|IOT): /.test(p.name));
    expect(inGuest.map((p) => [p.name, p.ok])).toEqual(
      expect.arrayContaining([
        ['vm/300 in SERVICES: reaches its gateway 10.10.20.1', true],
        ['vm/300 in SERVICES: resolves deb.debian.org', true],
        ['vm/300 in SERVICES: cannot reach Proxmox 192.168.1.10:8006', true],
        ['vm/300 in SERVICES: cannot reach Proxmox 192.168.1.10:22', true],
        ['vm/400 in IOT: reaches its gateway 10.10.30.1', true],
      ]),
    );
    expect(events.some((e) => e.type === 'confirm.probe' && e.actionId === 'vm.nic.reattach:300:net0' && e.ok)).toBe(true);
    expect((await planPhase2(handle.lab, 'p2-after')).plan.actions.map((a) => a.id)).toEqual([]);
  }, 300_000);

  it('reverts the move within the window when the router does not forward: 300 is back on its network, 400 never moved', async () => {
    const handle = await simLab('phase2-router-pending');
    await routerReady(handle);
    const before = addressesOf(handle, 300);
    // OPNsense answers DHCP, DNS and pings on its own addresses, but forwards nothing (sim fault router:no-routing).
    handle.sim.lab.netState.faults.routerNotRouting = true;
    const { loaded, plan } = await planPhase2(handle.lab, 'p2-no-routing');
    expect(plan.actions.map((a) => a.id)).not.toContain('manual.step:150:router');
    const started = Date.now();
    const { report } = await apply(handle, loaded, plan, 4_000);
    const move = report.actions.find((a) => a.actionId === 'vm.nic.reattach:300:net0')!;
    expect(move).toMatchObject({ outcome: 'reverted' });
    expect(move.detail).toMatch(/^moved back: VM 300 did not come up on services within 4 s: .*does not reach the internet through the router/);
    expect(move.detail).toContain(`VM 300 is back on vmbr0 with its old address ${before[0]}`);
    expect(Date.now() - started).toBeLessThan(120_000);
    expect(report.status).toBe('failed');
    expect(report.actions.find((a) => a.actionId === 'vm.nic.reattach:400:net0')?.outcome).toBe('not-run');
    expect([bridgeOf(handle, 300), bridgeOf(handle, 400)]).toEqual(['vmbr0', 'vmbr0']);
    expect(addressesOf(handle, 300)).toEqual(before);
    expect(report.next.join('\n')).toContain('vm.nic.reattach:300:net0: moved back');
  }, 300_000);
});
