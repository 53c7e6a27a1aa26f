// A third-party Proxmox client, unchanged, against the simulator: the `proxmox-api` npm package (a dev dependency
// used only here) creates a VM to the build standards, updates it, starts it, snapshots it, adds a NIC, lists tasks
// and storages, stops and deletes it. Trust is the simulator's own certificate (no TLS switch-off).
import proxmoxApi from 'proxmox-api';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type RunningSim } from '../../sim/server.ts';

let sim: RunningSim;
let agent: Agent;

beforeAll(async () => {
  sim = await startSim({ scenario: 'phase0', taskSeconds: 0.05, seed: 7 });
  agent = new Agent({ connect: { ca: sim.caPem } });
});
afterAll(async () => {
  await agent?.close();
  await sim?.close();
});

describe('proxmox-api (third-party client) against jarvis sim', () => {
  it('runs a VM through its life cycle with requests the official schema accepts', async () => {
    const url = new URL(sim.url);
    const pve = proxmoxApi({
      host: url.hostname,
      port: Number(url.port),
      tokenID: sim.tokenId,
      tokenSecret: sim.tokenSecret,
      fetch: ((input: string | URL, init?: object) => undiciFetch(input, { ...init, dispatcher: agent })) as never,
    });
    const node = pve.nodes.$(sim.node);
    const vm = node.qemu.$(901);
    const waitFor = async (upid: string): Promise<string> => {
      for (let i = 0; i < 200; i++) {
        const status = await node.tasks.$(upid).status.$get();
        if (status.status === 'stopped') return String(status.exitstatus);
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`task ${upid} did not finish`);
    };

    const created = await node.qemu.$post({
      vmid: 901,
      name: 'third-party',
      memory: '1024',
      cores: 1,
      scsihw: 'virtio-scsi-single',
      scsi0: 'local-lvm:8,cache=none,discard=on,iothread=1',
      net0: 'virtio,bridge=vmbr0,firewall=1',
      agent: '1',
      tags: 'env-lab;owner-loic',
    } as never);
    expect(await waitFor(created)).toBe('OK');

    await vm.config.$put({ memory: '2048', description: 'updated by a third-party client' } as never);
    let config = (await vm.config.$get()) as Record<string, unknown>;
    expect(String(config.memory)).toBe('2048');
    expect(String(config.scsi0)).toContain('cache=none');
    expect(String(config.net0)).toMatch(/^virtio=[0-9A-F:]{17},bridge=vmbr0,firewall=1$/);
    expect(config.tags).toBe('env-lab;owner-loic');

    expect(await waitFor(await vm.status.start.$post())).toBe('OK');
    expect((await vm.status.current.$get()).status).toBe('running');

    expect(await waitFor(await vm.snapshot.$post({ snapname: 'before-nic' }))).toBe('OK');
    expect((await vm.snapshot.$get()).map((s: { name: string }) => s.name)).toContain('before-nic');

    const nic = await vm.config.$post({ net1: 'virtio,bridge=vmbr0' } as never);
    if (typeof nic === 'string' && nic.startsWith('UPID:')) expect(await waitFor(nic)).toBe('OK');
    config = (await vm.config.$get()) as Record<string, unknown>;
    expect(String(config.net1)).toMatch(/^virtio=[0-9A-F:]{17},bridge=vmbr0$/);

    const tasks = await node.tasks.$get({ vmid: 901 });
    expect(tasks.map((t: { type: string }) => t.type)).toEqual(expect.arrayContaining(['qmcreate', 'qmstart', 'qmsnapshot']));
    expect((await pve.storage.$get()).map((s: { storage: string }) => s.storage)).toEqual(expect.arrayContaining(['local', 'local-lvm']));
    expect((await node.storage.$get()).length).toBeGreaterThan(0);

    expect(await waitFor(await vm.status.stop.$post())).toBe('OK');
    expect(await waitFor(await vm.$delete({ purge: true } as never))).toBe('OK');
    const left = await pve.cluster.resources.$get({ type: 'vm' });
    expect(left.some((r: { vmid?: number }) => r.vmid === 901)).toBe(false);

    expect(sim.schemaViolations).toEqual([]);
  });
});
