// Labs for the network tests: phase 0 with the two internal-only bridges and the router VM booted from its
// installer, built through the simulator's own handlers as the product would build them.
import { callInternal } from '../../sim/dispatch.ts';
import { guestAttachments } from '../../sim/net/segments.ts';
import { buildRouterVm, nicMac } from '../../sim/scenario-router.ts';
import { startSim, type RunningSim, type SimOptions } from '../../sim/server.ts';

export async function labWithRouterVm(faults: SimOptions['faults'] = []): Promise<RunningSim> {
  const sim = await startSim({ scenario: 'phase0', taskSeconds: 0.05, faults });
  for (const iface of ['vmbr1', 'vmbr2']) await callInternal(sim.lab, 'POST', '/nodes/proxmox/network', { iface, type: 'bridge', autostart: '1' });
  await callInternal(sim.lab, 'PUT', '/nodes/proxmox/network', {});
  await buildRouterVm(sim.lab);
  await sim.lab.boots.drain();
  return sim;
}

/** The router VM's NICs by role, for the owner's configuration. */
export const routerMacs = (sim: RunningSim) => ({ wan: nicMac(sim.lab, 150, 'net0'), services: nicMac(sim.lab, 150, 'net1'), iot: nicMac(sim.lab, 150, 'net2') });

/** A guest's addresses once its DHCP exchanges are over. */
export const addressesOf = (sim: RunningSim, vmid: number): string[] => guestAttachments(sim.lab, vmid, Number.MAX_SAFE_INTEGER).map((a) => `${a.ip}/${a.prefix} on ${a.segment}`);

export async function moveNic(sim: RunningSim, vmid: number, bridge: string, firewall = 1): Promise<void> {
  await callInternal(sim.lab, 'PUT', `/nodes/proxmox/qemu/${vmid}/config`, { net0: `virtio,bridge=${bridge},firewall=${firewall}` });
}

export async function rebootGuest(sim: RunningSim, vmid: number): Promise<void> {
  await callInternal(sim.lab, 'POST', `/nodes/proxmox/qemu/${vmid}/status/reboot`);
  await sim.lab.boots.drain();
}

export const guest = (vmid: number) => ({ kind: 'guest' as const, vmid });
