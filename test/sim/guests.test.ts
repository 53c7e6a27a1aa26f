// Guests boot what their disk holds: an empty disk boots nothing, the Debian cloud image boots Debian and runs the
// cloud-init data it was given, the agent answers only once a booted OS runs it and only after the boot delay, and it
// is gone from every stop, shutdown or reboot until the guest is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from 'undici';
import { BOOT_TASKS, FIRST_BOOT_TASKS } from '../../sim/guest-runtime.ts';
import { startSim, type RunningSim } from '../../sim/server.ts';
import { agentFor, call, IMAGE_TOKEN, debianVmParams, prepareDebianImage, waitForAgent, waitTask } from './helpers.ts';

const TASK_SECONDS = 0.1;
let sim: RunningSim;
let agent: Agent;

beforeAll(async () => {
  sim = await startSim({ scenario: 'fresh', taskSeconds: TASK_SECONDS, tokens: IMAGE_TOKEN });
  agent = agentFor(sim);
  await prepareDebianImage(sim, agent);
});
afterAll(async () => {
  await agent.close();
  await sim.close();
});

async function task(method: string, path: string, params: Record<string, string> = {}): Promise<{ status: string; exitstatus?: string }> {
  const res = await call(sim, agent, method, path, params);
  expect(res.status, `${method} ${path}: ${res.statusText}`).toBe(200);
  return waitTask(sim, agent, res.body.data);
}

const ping = async (vmid: number): Promise<string> => (await call(sim, agent, 'POST', `/nodes/proxmox/qemu/${vmid}/agent/ping`)).statusText;

async function exec(vmid: number, command: string[]): Promise<{ exitcode: number; 'out-data'?: string; 'err-data'?: string }> {
  const res = await call(sim, agent, 'POST', `/nodes/proxmox/qemu/${vmid}/agent/exec`, { command });
  expect(res.status, res.statusText).toBe(200);
  const pid = String((res.body.data as { pid: number }).pid);
  for (;;) {
    const status = (await call(sim, agent, 'GET', `/nodes/proxmox/qemu/${vmid}/agent/exec-status`, { pid })).body.data as { exited: boolean };
    if (status.exited) return status as never;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('what a VM boots', () => {
  it('an empty disk boots nothing: the start succeeds, the agent never answers', async () => {
    expect(await task('POST', '/nodes/proxmox/qemu', { vmid: '230', name: 'blank', memory: '1024', scsi0: 'local-lvm:8', boot: 'order=scsi0', agent: '1', start: '1' })).toMatchObject({ exitstatus: 'OK' });
    await sim.lab.boots.drain();
    expect(sim.lab.vms.get(230)!.status).toBe('running');
    expect(await ping(230)).toBe('QEMU guest agent is not running');
    // Nothing acts on the power button either: a shutdown times out unless forced.
    expect(await task('POST', '/nodes/proxmox/qemu/230/status/shutdown')).toMatchObject({ exitstatus: 'VM quit/powerdown failed - got timeout' });
    expect(await task('POST', '/nodes/proxmox/qemu/230/status/shutdown', { forceStop: '1' })).toMatchObject({ exitstatus: 'OK' });
  });

  it('the Debian image with vendor data that installs and starts qemu-guest-agent answers after the first-boot delay', async () => {
    expect(await task('POST', '/nodes/proxmox/qemu', debianVmParams(sim, 231))).toMatchObject({ exitstatus: 'OK' });
    expect(sim.lab.vms.get(231)!.config.scsi0).toBe('local-lvm:vm-231-disk-0,cache=none,size=3G');
    const before = Date.now();
    expect(await task('POST', '/nodes/proxmox/qemu/231/status/start')).toMatchObject({ exitstatus: 'OK' });
    const boot = { ...sim.lab.vms.get(231)!.boot! };
    expect(boot).toMatchObject({ os: 'debian-13', firstBoot: true, agentPort: true });
    expect(boot.readyAt - before).toBeGreaterThanOrEqual(FIRST_BOOT_TASKS * TASK_SECONDS * 1000);
    await waitForAgent(sim, agent, 231);
    // It answered no earlier than the boot's end.
    expect(Date.now()).toBeGreaterThanOrEqual(boot.readyAt);
    const os = await exec(231, ['/bin/sh', '-c', 'grep ^ID= "$JARVIS_ROOT/etc/os-release"; cloud-init status; cat "$JARVIS_ROOT/home/jarvis/.ssh/authorized_keys"']);
    expect(os['out-data']).toBe('ID=debian\nstatus: done\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHelperTestKeyOnly000000000000000000000000 jarvis@test\n');
  });

  it('the agent is gone from a reboot request until the guest is back, after the shorter later-boot delay', async () => {
    const reboot = await call(sim, agent, 'POST', '/nodes/proxmox/qemu/231/status/reboot');
    expect(await ping(231)).toBe('QEMU guest agent is not running');
    await waitTask(sim, agent, reboot.body.data);
    const boot = { ...sim.lab.vms.get(231)!.boot! };
    expect(boot).toMatchObject({ firstBoot: false });
    await waitForAgent(sim, agent, 231);
    expect(Date.now()).toBeGreaterThanOrEqual(boot.readyAt);
    expect(BOOT_TASKS).toBeLessThan(FIRST_BOOT_TASKS);

    await task('POST', '/nodes/proxmox/qemu/231/status/stop');
    expect(await ping(231)).toBe('VM 231 is not running');
    await task('POST', '/nodes/proxmox/qemu/231/status/start');
    expect(sim.lab.vms.get(231)!.boot!.ready).toBe(false);
    await waitForAgent(sim, agent, 231);
    const shutdown = await call(sim, agent, 'POST', '/nodes/proxmox/qemu/231/status/shutdown');
    expect(await ping(231)).toBe('QEMU guest agent is not running');
    expect(await waitTask(sim, agent, shutdown.body.data)).toMatchObject({ exitstatus: 'OK' });
  });

  it('the Debian image without vendor data runs cloud-init but has no guest agent', async () => {
    await task('POST', '/nodes/proxmox/qemu', { ...debianVmParams(sim, 232, { vendorData: null }), start: '1' });
    await sim.lab.boots.drain();
    expect(sim.lab.vms.get(232)!.boot).toMatchObject({ os: 'debian-13', ready: true });
    expect(await ping(232)).toBe('QEMU guest agent is not running');
  });

  it('vendor data that only installs the package: the static unit is not started until the next boot', async () => {
    await task('POST', '/nodes/proxmox/qemu', { ...debianVmParams(sim, 233, { vendorData: '#cloud-config\npackages: [qemu-guest-agent]\n' }), start: '1' });
    await sim.lab.boots.drain();
    expect(await ping(233)).toBe('QEMU guest agent is not running');
    await task('POST', '/nodes/proxmox/qemu/233/status/reboot');
    await waitForAgent(sim, agent, 233);
  });

  it('a vendor snippet that is not on the node fails the start', async () => {
    await task('POST', '/nodes/proxmox/qemu', { ...debianVmParams(sim, 234, { vendorData: null }), cicustom: 'vendor=local:snippets/missing.yaml' });
    expect(await task('POST', '/nodes/proxmox/qemu/234/status/start')).toMatchObject({ exitstatus: "can't find file 'local:snippets/missing.yaml'" });
    expect(sim.lab.vms.get(234)!.status).toBe('stopped');
  });

  it('refuses a cloud-init key that is not an SSH public key, as PVE validates it', async () => {
    const bad = await call(sim, agent, 'POST', '/nodes/proxmox/qemu', { ...debianVmParams(sim, 236), sshkeys: encodeURIComponent('ssh-ed25519 not-base64-of-a-key jarvis') });
    expect(bad).toMatchObject({ status: 500, statusText: 'SSH public key validation error' });
    expect(sim.lab.vms.has(236)).toBe(false);
  });

  it('a disk attached but not first in the boot order does not boot', async () => {
    await task('POST', '/nodes/proxmox/qemu', { ...debianVmParams(sim, 235), scsi1: 'local-lvm:4', boot: 'order=scsi1', start: '1' });
    await sim.lab.boots.drain();
    expect(sim.lab.vms.get(235)!.boot).toMatchObject({ ready: false });
    expect(sim.lab.vms.get(235)!.boot!.os).toBeUndefined();
    expect(await ping(235)).toBe('QEMU guest agent is not running');
  });
});

describe('Home Assistant OS', () => {
  let phase0: RunningSim;
  let phase0Agent: Agent;

  beforeAll(async () => {
    phase0 = await startSim({ scenario: 'phase0', taskSeconds: 0.05 });
    phase0Agent = agentFor(phase0);
  });
  afterAll(async () => {
    await phase0Agent.close();
    await phase0.close();
  });

  const haExec = async (command: string[]): Promise<{ status: number; statusText: string; result?: { exitcode: number; 'out-data'?: string; 'err-data'?: string } }> => {
    const res = await call(phase0, phase0Agent, 'POST', '/nodes/proxmox/qemu/400/agent/exec', { command });
    if (res.status !== 200) return { status: res.status, statusText: res.statusText };
    const pid = String((res.body.data as { pid: number }).pid);
    for (;;) {
      const status = (await call(phase0, phase0Agent, 'GET', '/nodes/proxmox/qemu/400/agent/exec-status', { pid })).body.data as { exited: boolean };
      if (status.exited) return { status: 200, statusText: 'OK', result: status as never };
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it('boots HAOS from its image with its own agent: its os-release, no apt, no Tailscale', async () => {
    const osinfo = (await call(phase0, phase0Agent, 'GET', '/nodes/proxmox/qemu/400/agent/get-osinfo')).body.data as { result: { id: string; 'pretty-name': string } };
    expect(osinfo.result).toMatchObject({ id: 'haos', 'pretty-name': 'Home Assistant OS 16.3' });
    expect((await haExec(['/bin/sh', '-c', 'cat "$JARVIS_ROOT/etc/os-release"'])).result!['out-data']).toContain('ID=haos\n');
    // qemu-ga spawns the program itself: there is no apt-get to spawn.
    expect(await haExec(['apt-get', 'update'])).toMatchObject({ status: 500, statusText: expect.stringContaining('Agent error: Failed to execute child process') });
    const viaShell = await haExec(['/bin/sh', '-c', 'apt-get install -y tailscale']);
    expect(viaShell.result!.exitcode).toBe(127);
    expect(viaShell.result!['err-data']).toMatch(/apt-get: .*not found/);
    expect((await haExec(['tailscale', 'status'])).status).toBe(500);
    // Tailscale on HAOS is the add-on the owner installed: the device is in the tailnet all the same.
    expect([...phase0.lab.tailnet.devices.values()].map((d) => d.hostname)).toContain('home-assistant');
  });

  it('Tailscale comes to HAOS as the add-on the owner installs, and only there', () => {
    for (const [key, device] of phase0.lab.tailnet.devices) if (device.hostname === 'home-assistant') phase0.lab.tailnet.devices.delete(key);
    expect(() => phase0.lab.ownerInstallsTailscaleAddon(100)).toThrow(/does not run Home Assistant OS/);
    phase0.lab.ownerInstallsTailscaleAddon(400);
    expect([...phase0.lab.tailnet.devices.values()].map((d) => d.hostname)).toContain('home-assistant');
  });

  it('the HAOS disk boots nothing without UEFI firmware', async () => {
    const shutdown = await call(phase0, phase0Agent, 'POST', '/nodes/proxmox/qemu/400/status/shutdown');
    await waitTask(phase0, phase0Agent, shutdown.body.data);
    expect((await call(phase0, phase0Agent, 'PUT', '/nodes/proxmox/qemu/400/config', { delete: 'bios' })).status).toBe(200);
    const start = await call(phase0, phase0Agent, 'POST', '/nodes/proxmox/qemu/400/status/start');
    expect(await waitTask(phase0, phase0Agent, start.body.data)).toMatchObject({ exitstatus: 'OK' });
    await phase0.lab.boots.drain();
    expect((await call(phase0, phase0Agent, 'POST', '/nodes/proxmox/qemu/400/agent/ping')).statusText).toBe('QEMU guest agent is not running');
  });
});
