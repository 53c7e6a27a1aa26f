// The in-guest checks of the contract, run through the guest agent as the product runs them: ip -j addr/route,
// ping -c 1 -W 2, getent ahostsv4, nc -z -w 3 (netcat-openbsd, installed first), networkctl renew/reconfigure,
// netplan apply; all answered from the simulated topology, leases and firewalls.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from 'undici';
import { startSim, type RunningSim } from '../../sim/server.ts';
import { agentFor, call, waitTask } from './helpers.ts';

let sim: RunningSim;
let agent: Agent;

beforeAll(async () => {
  sim = await startSim({ scenario: 'phase0', taskSeconds: 0.05 });
  agent = agentFor(sim);
  for (const iface of ['vmbr1']) expect((await call(sim, agent, 'POST', '/nodes/proxmox/network', { iface, type: 'bridge', autostart: '1' })).status).toBe(200);
  expect((await waitTask(sim, agent, (await call(sim, agent, 'PUT', '/nodes/proxmox/network')).body.data)).exitstatus).toBe('OK');
});
afterAll(async () => {
  await agent.close();
  await sim.close();
});

interface Run {
  status: number;
  statusText: string;
  exitcode?: number;
  out: string;
  err: string;
}

/** POST agent/exec, then exec-status until it exits. */
async function inGuest(vmid: number, ...command: string[]): Promise<Run> {
  const started = await call(sim, agent, 'POST', `/nodes/proxmox/qemu/${vmid}/agent/exec`, { command });
  if (started.status !== 200) return { status: started.status, statusText: started.statusText, out: '', err: '' };
  const pid = (started.body.data as { pid: number }).pid;
  for (;;) {
    const status = (await call(sim, agent, 'GET', `/nodes/proxmox/qemu/${vmid}/agent/exec-status`, { pid: String(pid) })).body.data as Record<string, unknown>;
    if (status.exited) return { status: 200, statusText: 'OK', exitcode: status.exitcode as number, out: String(status['out-data'] ?? ''), err: String(status['err-data'] ?? '') };
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('a guest on the LAN', () => {
  it('ip -j addr show / ip -j route show default: its DHCP address and default route, as iproute2 prints them', async () => {
    const addr = JSON.parse((await inGuest(300, 'ip', '-j', 'addr', 'show')).out) as Array<{ ifname: string; operstate: string; addr_info: Array<Record<string, unknown>> }>;
    expect(addr.map((l) => l.ifname)).toEqual(['lo', 'eth0']);
    expect(addr[1]!.operstate).toBe('UP');
    expect(addr[1]!.addr_info[0]).toMatchObject({ family: 'inet', local: '192.168.1.30', prefixlen: 24, scope: 'global', dynamic: true, label: 'eth0' });
    const route = await inGuest(300, 'ip', '-j', 'route', 'show', 'default');
    expect(JSON.parse(route.out)).toEqual([{ dst: 'default', gateway: '192.168.1.1', dev: 'eth0', protocol: 'dhcp', prefsrc: '192.168.1.30', metric: 1024, flags: [] }]);
  });

  it('ping: the gateway answers; an address nobody has is unreachable; an unknown name does not resolve', async () => {
    const gateway = await inGuest(300, 'ping', '-c', '1', '-W', '2', '192.168.1.1');
    expect(gateway.exitcode).toBe(0);
    expect(gateway.out).toContain('64 bytes from 192.168.1.1: icmp_seq=1');
    expect(gateway.out).toContain('1 packets transmitted, 1 received, 0% packet loss');
    const nobody = await inGuest(300, 'ping', '-c', '1', '-W', '2', '192.168.1.77');
    expect(nobody.exitcode).toBe(1);
    expect(nobody.out).toContain('From 192.168.1.30 icmp_seq=1 Destination Host Unreachable');
    expect(await inGuest(300, 'ping', '-c', '1', '-W', '2', 'no-such-host.invalid')).toMatchObject({ exitcode: 2, err: 'ping: no-such-host.invalid: Name or service not known\n' });
  });

  it('getent ahostsv4 resolves through the DNS server DHCP gave (the home router)', async () => {
    const found = await inGuest(300, 'getent', 'ahostsv4', 'deb.debian.org');
    expect(found.exitcode).toBe(0);
    expect(found.out).toMatch(/^(\d+\.\d+\.\d+\.\d+) +STREAM deb\.debian\.org\n\1 +DGRAM  \n\1 +RAW    \n$/);
    expect((await inGuest(300, 'getent', 'ahostsv4', 'nothing.invalid')).exitcode).toBe(2);
  });

  it('nc is not in the cloud image: qemu-ga cannot spawn it until netcat-openbsd is installed', async () => {
    const missing = await inGuest(300, 'nc', '-z', '-w', '3', '192.168.1.1', '53');
    expect(missing.status).toBe(500);
    expect(missing.statusText).toContain('Failed to execute child process');
    expect((await inGuest(300, 'apt-get', 'install', '-y', 'netcat-openbsd')).exitcode).toBe(0);
    expect((await inGuest(300, 'nc', '-z', '-w', '3', '192.168.1.10', '8006')).exitcode).toBe(0);
    expect((await inGuest(300, 'nc', '-z', '-w', '3', '192.168.1.40', '8123')).exitcode).toBe(0);
    expect(await inGuest(300, 'nc', '-z', '-v', '-w', '3', '192.168.1.40', '8124')).toMatchObject({ exitcode: 1, err: 'nc: connect to 192.168.1.40 port 8124 (tcp) failed: Connection refused\n' });
    // Home Assistant OS has no netcat at all (busybox.config: no CONFIG_NC).
    expect((await inGuest(400, 'nc', '-z', '192.168.1.1', '53')).statusText).toContain('Failed to execute child process');
  });

  it('runs ip on HAOS with its own interface name; networkctl is Debian’s, pve-firewall the node’s', async () => {
    const addr = JSON.parse((await inGuest(400, 'ip', '-j', 'addr', 'show', 'dev', 'enp0s18')).out) as Array<{ addr_info: Array<{ local: string }> }>;
    expect(addr[0]!.addr_info[0]!.local).toBe('192.168.1.40');
    expect((await inGuest(400, 'networkctl', 'renew', 'enp0s18')).statusText).toContain('Failed to execute child process');
    expect(await inGuest(300, 'pve-firewall', 'status')).toMatchObject({ exitcode: 127, err: 'bash: pve-firewall: command not found\n' });
  });

  it('ip route add/del changes the run-time table; a gateway off-link is refused; a reboot forgets them', async () => {
    expect(await inGuest(100, 'ip', 'route', 'add', '10.10.20.0/24', 'via', '10.9.9.9')).toMatchObject({ exitcode: 2, err: 'Error: Nexthop has invalid gateway.\n' });
    expect((await inGuest(100, 'ip', 'route', 'add', '10.10.20.0/24', 'via', '192.168.1.2')).exitcode).toBe(0);
    expect((await inGuest(100, 'ip', 'route', 'add', '10.10.20.0/24', 'via', '192.168.1.2')).err).toBe('RTNETLINK answers: File exists\n');
    expect((await inGuest(100, 'ip', 'route', 'show')).out).toContain('10.10.20.0/24 via 192.168.1.2 dev eth0 proto boot');
    expect(JSON.parse((await inGuest(100, 'ip', '-j', 'route', 'get', '10.10.20.30')).out)[0]).toMatchObject({ dst: '10.10.20.30', gateway: '192.168.1.2', dev: 'eth0' });
    expect((await inGuest(100, 'ip', 'route', 'del', '10.10.20.0/24')).exitcode).toBe(0);
    expect((await inGuest(100, 'ip', 'route', 'del', '10.10.20.0/24')).err).toBe('RTNETLINK answers: No such process\n');
  });

  it('netplan apply takes a persistent route from /etc/netplan, and it survives a reboot', async () => {
    const yaml = 'network:\n  version: 2\n  ethernets:\n    eth0:\n      routes:\n        - to: 10.10.30.0/24\n          via: 192.168.1.2\n';
    expect((await inGuest(100, 'bash', '-c', `mkdir -p "$JARVIS_ROOT/etc/netplan" && printf '%s' '${yaml}' > "$JARVIS_ROOT/etc/netplan/90-jarvis-routes.yaml" && netplan apply`)).exitcode).toBe(0);
    const routes = async (): Promise<string> => (await inGuest(100, 'ip', 'route', 'show')).out;
    await expect.poll(routes, { timeout: 5_000 }).toContain('10.10.30.0/24 via 192.168.1.2 dev eth0 proto static');
    expect((await waitTask(sim, agent, (await call(sim, agent, 'POST', '/nodes/proxmox/qemu/100/status/reboot')).body.data)).exitstatus).toBe('OK');
    await sim.lab.boots.drain();
    expect(await routes()).toContain('10.10.30.0/24 via 192.168.1.2 dev eth0 proto static');
    expect(await routes()).toContain('default via 192.168.1.1 dev eth0 proto dhcp src 192.168.1.20 metric 1024');
  });
});

describe('a guest moved onto an internal-only bridge with no router', () => {
  it('has no address, no default route, no DNS and no internet: ping, getent, curl and apt-get fail as they would', async () => {
    expect((await call(sim, agent, 'PUT', '/nodes/proxmox/qemu/300/config', { net0: 'virtio,bridge=vmbr1,firewall=1' })).status).toBe(200);
    expect(JSON.parse((await inGuest(300, 'ip', '-j', 'route', 'show', 'default')).out)).toEqual([]);
    expect(await inGuest(300, 'ping', '-c', '1', '-W', '2', '10.10.20.1')).toMatchObject({ exitcode: 2, err: 'ping: connect: Network is unreachable\n' });
    expect((await inGuest(300, 'getent', 'ahostsv4', 'deb.debian.org')).exitcode).toBe(2);
    expect(await inGuest(300, 'curl', '-fsSL', 'https://pkgs.tailscale.com/stable/debian/trixie.noarmor.gpg')).toMatchObject({ exitcode: 6, err: 'curl: (6) Could not resolve host: pkgs.tailscale.com\n' });
    const apt = await inGuest(300, 'apt-get', 'install', '-y', 'jq');
    expect(apt.exitcode).toBe(100);
    expect(apt.err).toContain("E: Failed to fetch http://deb.debian.org/debian/pool/main/j/jq/jq_1.0_amd64.deb  Temporary failure resolving 'deb.debian.org'");
    const update = await inGuest(300, 'apt-get', 'update');
    expect(update.exitcode).toBe(0);
    expect(update.err).toContain('W: Some index files failed to download.');
    // networkctl: renew does nothing without a lease; reconfigure starts DHCP over, still without a server here.
    expect((await inGuest(300, 'networkctl', 'renew', 'eth0')).exitcode).toBe(0);
    expect((await inGuest(300, 'networkctl', 'reconfigure', 'eth0')).exitcode).toBe(0);
    expect(await inGuest(300, 'networkctl', 'renew', 'eth9')).toMatchObject({ exitcode: 1, err: 'Failed to resolve interface "eth9": No such device\n' });
    expect(JSON.parse((await inGuest(300, 'ip', '-j', 'addr', 'show', 'dev', 'eth0')).out)[0].addr_info.filter((a: { family: string }) => a.family === 'inet')).toEqual([]);
  });
});
