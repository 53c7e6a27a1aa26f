// Tailscale routes to SERVICES and IOT lead somewhere only when the subnet router (edge-gateway) forwards and has a
// path there: a route via the router VM's WAN address. Advertising alone does nothing for a remote device until the
// tailnet approves the route, and approval is read back from the tailnet's API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callInternal } from '../../sim/dispatch.ts';
import { ownerConfiguresRouter } from '../../sim/net/owner.ts';
import { tailnetReaches } from '../../sim/net/tailnet-routes.ts';
import { nicMac, referenceRouterConfig } from '../../sim/scenario-router.ts';
import type { RunningSim } from '../../sim/server.ts';
import { labWithRouterVm, moveNic, rebootGuest, routerMacs } from './net-helpers.ts';

let sim: RunningSim;
const later = (): number => Date.now() + 60_000;
const ROUTES = ['10.10.20.0/24', '10.10.30.0/24'];

beforeAll(async () => {
  sim = await labWithRouterVm();
  ownerConfiguresRouter(sim.lab, 150, referenceRouterConfig(routerMacs(sim), {
    services: { [nicMac(sim.lab, 300, 'net0')]: '10.10.20.30' },
    iot: { [nicMac(sim.lab, 400, 'net0')]: '10.10.30.40' },
  }));
  await sim.lab.boots.drain();
  await moveNic(sim, 300, 'vmbr1');
  await moveNic(sim, 400, 'vmbr2');
  await rebootGuest(sim, 400);
});
afterAll(async () => {
  await sim.close();
});

async function tailnetApi(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${sim.tailscaleUrl}/api/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${sim.tailscaleApiKey}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return res.json();
}

const edgeId = (): string => [...sim.lab.tailnet.devices.values()].find((d) => d.hostname === 'edge-gateway')!.id;

describe('routes advertised from edge-gateway', () => {
  it('advertising warns without IP forwarding, and a route not yet approved gives remote devices no way in', async () => {
    const set = await sim.lab.guestExec(100, ['tailscale', 'set', `--advertise-routes=${ROUTES.join(',')}`]);
    expect(set.exitcode).toBe(0);
    expect(set.err).toBe('Warning: IP forwarding is disabled, subnet routing/exit nodes will not work.\nSee https://tailscale.com/s/ip-forwarding\n');
    expect(await tailnetApi('GET', `/device/${edgeId()}/routes`)).toEqual({ advertisedRoutes: ROUTES, enabledRoutes: [] });
    expect(tailnetReaches(sim.lab, '10.10.20.30', 'tcp', 32400, later())).toEqual({ kind: 'no-route' });
  });

  it('approved, it still leads nowhere while edge-gateway does not forward', async () => {
    expect(await tailnetApi('POST', `/device/${edgeId()}/routes`, { routes: ROUTES })).toEqual({ advertisedRoutes: ROUTES, enabledRoutes: ROUTES });
    expect(tailnetReaches(sim.lab, '10.10.20.30', 'tcp', 32400, later())).toEqual({ kind: 'not-forwarding', device: 'edge-gateway' });
  });

  it('forwarding, but with no route to the segments, the traffic goes to the home router and is lost', async () => {
    const conf = await sim.lab.guestExec(100, ['bash', '-c', 'mkdir -p "$JARVIS_ROOT/etc/sysctl.d" && echo net.ipv4.ip_forward=1 > "$JARVIS_ROOT/etc/sysctl.d/99-tailscale.conf" && sysctl -p "$JARVIS_ROOT/etc/sysctl.d/99-tailscale.conf"']);
    expect(conf.exitcode).toBe(0);
    expect(tailnetReaches(sim.lab, '10.10.20.30', 'tcp', 32400, later())).toMatchObject({ kind: 'timeout', device: 'edge-gateway' });
  });

  it('with a persistent route via the router’s WAN address, SERVICES and Home Assistant answer as the router allows', async () => {
    const yaml = 'network:\n  version: 2\n  ethernets:\n    eth0:\n      routes:\n        - to: 10.10.20.0/24\n          via: 192.168.1.2\n        - to: 10.10.30.0/24\n          via: 192.168.1.2\n';
    const applied = await sim.lab.guestExec(100, ['bash', '-c', `mkdir -p "$JARVIS_ROOT/etc/netplan" && printf '%s' '${yaml}' > "$JARVIS_ROOT/etc/netplan/90-jarvis-routes.yaml" && netplan apply`]);
    expect(applied.exitcode).toBe(0);
    expect(tailnetReaches(sim.lab, '10.10.20.30', 'tcp', 32400, later())).toMatchObject({ kind: 'ok', device: 'edge-gateway', src: '192.168.1.20' });
    expect(tailnetReaches(sim.lab, '10.10.30.40', 'tcp', 8123, later())).toMatchObject({ kind: 'ok', device: 'edge-gateway' });
    // The owner's WAN rules let the LAN (and so the tailnet through edge-gateway) into IOT on 8123 only.
    expect(tailnetReaches(sim.lab, '10.10.30.40', 'tcp', 4357, later())).toMatchObject({ kind: 'timeout', device: 'edge-gateway' });
    // A subnet nobody advertises stays outside the tailnet.
    expect(tailnetReaches(sim.lab, '10.10.40.5', 'icmp', undefined, later())).toEqual({ kind: 'no-route' });
  });

  it('leads nowhere while edge-gateway is down', async () => {
    await callInternal(sim.lab, 'POST', '/nodes/proxmox/qemu/100/status/stop');
    expect(tailnetReaches(sim.lab, '10.10.20.30', 'tcp', 32400, later())).toEqual({ kind: 'router-offline', device: 'edge-gateway' });
  });
});
