// Segments and leases: vmbr0 is the home LAN (the home router's DHCP), vmbr1/vmbr2 are internal-only and have no
// DHCP server until the router VM is installed and configured; moving a NIC flaps its link (qemu-server), which
// makes systemd-networkd start DHCP afresh but not NetworkManager (HAOS keeps its lease until it reboots).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from 'undici';
import { OPNSENSE_ISO_BZ2_URL, OPNSENSE_ISO_NAME, OPNSENSE_SUMS_URL } from '../../sim/internet.ts';
import { guestAttachments } from '../../sim/net/segments.ts';
import { startSim, type RunningSim } from '../../sim/server.ts';
import { agentFor, call, IMAGE_TOKEN, waitTask } from './helpers.ts';

let sim: RunningSim;
let agent: Agent;

beforeAll(async () => {
  sim = await startSim({ scenario: 'phase0', taskSeconds: 0.05, tokens: IMAGE_TOKEN });
  agent = agentFor(sim);
  // The phase-2 bridges, made as the product makes them: internal-only (no port), applied.
  for (const iface of ['vmbr1', 'vmbr2']) expect((await call(sim, agent, 'POST', '/nodes/proxmox/network', { iface, type: 'bridge', autostart: '1' })).status).toBe(200);
  expect((await waitTask(sim, agent, (await call(sim, agent, 'PUT', '/nodes/proxmox/network')).body.data)).exitstatus).toBe('OK');
});
afterAll(async () => {
  await agent.close();
  await sim.close();
});

const addresses = (vmid: number): string[] => guestAttachments(sim.lab, vmid).map((a) => `${a.dev} ${a.ip}/${a.prefix} on ${a.segment}`);

async function agentInterfaces(vmid: number): Promise<Array<{ name: string; ipv4: string[] }>> {
  const res = await call(sim, agent, 'GET', `/nodes/proxmox/qemu/${vmid}/agent/network-get-interfaces`);
  const rows = (res.body.data as { result: Array<{ name: string; 'ip-addresses': Array<{ 'ip-address': string; 'ip-address-type': string }> }> }).result;
  return rows.map((r) => ({ name: r.name, ipv4: r['ip-addresses'].filter((a) => a['ip-address-type'] === 'ipv4').map((a) => a['ip-address']) }));
}

async function setNet0(vmid: number, bridge: string): Promise<void> {
  expect((await call(sim, agent, 'PUT', `/nodes/proxmox/qemu/${vmid}/config`, { net0: `virtio,bridge=${bridge},firewall=1` })).status).toBe(200);
}

describe('the home LAN on vmbr0', () => {
  it('gives the phase-0 guests their reserved addresses by DHCP; the agent reports them under the guest’s names', async () => {
    expect(addresses(100)).toEqual(['eth0 192.168.1.20/24 on vmbr0']);
    expect(addresses(300)).toEqual(['eth0 192.168.1.30/24 on vmbr0']);
    expect(addresses(400)).toEqual(['enp0s18 192.168.1.40/24 on vmbr0']);
    expect(await agentInterfaces(300)).toEqual([
      { name: 'lo', ipv4: ['127.0.0.1'] },
      { name: 'eth0', ipv4: ['192.168.1.30'] },
    ]);
    expect(sim.lab.netState.guests.get(300)!.leases.get('net0')).toMatchObject({ gateway: '192.168.1.1', dns: ['192.168.1.1'], server: '192.168.1.1' });
  });
});

describe('an internal-only bridge without the router', () => {
  it('a Debian guest moved to vmbr1 loses its LAN address at the link flap and gets no lease there', async () => {
    await setNet0(300, 'vmbr1');
    expect(addresses(300)).toEqual([]);
    expect(sim.lab.netState.guests.get(300)!.discovering.has('net0')).toBe(true);
    expect(await agentInterfaces(300)).toEqual([
      { name: 'lo', ipv4: ['127.0.0.1'] },
      { name: 'eth0', ipv4: [] },
    ]);
    // Back on the LAN, DHCP from the start: the home router hands the reserved address back.
    await setNet0(300, 'vmbr0');
    expect(sim.lab.netState.guests.get(300)!.leases.get('net0')?.ip).toBe('192.168.1.30');
    await expect.poll(() => addresses(300), { timeout: 5_000 }).toEqual(['eth0 192.168.1.30/24 on vmbr0']);
  });

  it('HAOS (NetworkManager) keeps its LAN lease across the flap, and has no address on vmbr2 after a reboot', async () => {
    await setNet0(400, 'vmbr2');
    expect(addresses(400)).toEqual(['enp0s18 192.168.1.40/24 on vmbr2']);
    expect((await waitTask(sim, agent, (await call(sim, agent, 'POST', '/nodes/proxmox/qemu/400/status/reboot')).body.data)).exitstatus).toBe('OK');
    await sim.lab.boots.drain();
    expect(addresses(400)).toEqual([]);
    await setNet0(400, 'vmbr0');
    expect((await waitTask(sim, agent, (await call(sim, agent, 'POST', '/nodes/proxmox/qemu/400/status/reboot')).body.data)).exitstatus).toBe('OK');
    await sim.lab.boots.drain();
    expect(addresses(400)).toEqual(['enp0s18 192.168.1.40/24 on vmbr0']);
  });

  it('the VM firewall option dhcp=0 keeps a firewalled NIC from getting a lease even on the LAN', async () => {
    // A link flap through qemu-server: the link goes down (link_down=1) and comes back.
    const flap = async (): Promise<void> => {
      expect((await call(sim, agent, 'PUT', '/nodes/proxmox/qemu/300/config', { net0: 'virtio,bridge=vmbr0,firewall=1,link_down=1' })).status).toBe(200);
      await setNet0(300, 'vmbr0');
    };
    expect((await call(sim, agent, 'PUT', '/nodes/proxmox/qemu/300/firewall/options', { enable: '1', dhcp: '0' })).status).toBe(200);
    expect((await call(sim, agent, 'PUT', '/cluster/firewall/options', { enable: '1' })).status).toBe(200);
    sim.lab.firewall.runCycle();
    await flap();
    expect(addresses(300)).toEqual([]);
    expect((await call(sim, agent, 'PUT', '/nodes/proxmox/qemu/300/firewall/options', { delete: 'dhcp' })).status).toBe(200);
    // Still the old ruleset until the next update cycle; then the client's next DISCOVER gets through.
    await flap();
    expect(addresses(300)).toEqual([]);
    sim.lab.firewall.runCycle();
    await flap();
    expect(sim.lab.netState.guests.get(300)!.leases.get('net0')?.ip).toBe('192.168.1.30');
    expect((await call(sim, agent, 'PUT', '/cluster/firewall/options', { enable: '0' })).status).toBe(200);
    sim.lab.firewall.runCycle();
  });
});

describe('the OPNsense installer on the node', () => {
  async function download(params: Record<string, string>): Promise<{ exitstatus?: string; log: string[] }> {
    const res = await call(sim, agent, 'POST', '/nodes/proxmox/storage/local/download-url', { content: 'iso', url: OPNSENSE_ISO_BZ2_URL, filename: OPNSENSE_ISO_NAME, ...params });
    if (res.status !== 200) return { exitstatus: `HTTP ${res.status} ${res.statusText} ${JSON.stringify(res.body.errors ?? {})}`, log: [] };
    const done = await waitTask(sim, agent, res.body.data);
    const log = (await call(sim, agent, 'GET', `/nodes/proxmox/tasks/${encodeURIComponent(String(res.body.data))}/log`)).body.data as Array<{ t: string }>;
    return { ...(done.exitstatus ? { exitstatus: done.exitstatus } : {}), log: log.map((l) => l.t) };
  }
  const publishedSum = (): string => /= ([0-9a-f]{64})/.exec(sim.lab.internet.get(OPNSENSE_SUMS_URL)!.body.toString())![1]!;

  it('is published as .iso.bz2 with a BSD-style SHA-256 line; download-url checks the .bz2 and decompresses it', async () => {
    expect(sim.lab.internet.get(OPNSENSE_SUMS_URL)!.body.toString()).toBe(`SHA256 (${OPNSENSE_ISO_NAME}.bz2) = ${publishedSum()}\n`);
    expect((await download({ compression: 'bz2', checksum: 'f'.repeat(64), 'checksum-algorithm': 'sha256' })).exitstatus).toMatch(/^checksum mismatch: got '[0-9a-f]{64}' != expect 'f{64}'$/);
    const done = await download({ compression: 'bz2', checksum: publishedSum(), 'checksum-algorithm': 'sha256' });
    expect(done.exitstatus).toBe('OK');
    expect(done.log.some((line) => line.startsWith('decompressing '))).toBe(true);
    const iso = sim.lab.nodeFiles.read(`/var/lib/vz/template/iso/${OPNSENSE_ISO_NAME}`)!;
    expect(iso.subarray(0x8001, 0x8006).toString()).toBe('CD001');
  });

  it('refuses decompression for other content and compressions PVE does not know', async () => {
    const res = await call(sim, agent, 'POST', '/nodes/proxmox/storage/local/download-url', { content: 'iso', url: OPNSENSE_ISO_BZ2_URL, filename: 'x.iso', compression: 'xz' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual({ compression: "value 'xz' does not have a value in the enumeration 'gz, lzo, zst, bz2'" });
    const imported = await call(sim, agent, 'POST', '/nodes/proxmox/storage/local/download-url', { content: 'import', url: OPNSENSE_ISO_BZ2_URL, filename: 'x.qcow2', compression: 'bz2' });
    expect((await waitTask(sim, agent, imported.body.data)).exitstatus).toBe('decompression not supported for import');
  });
});
