// The Proxmox client against the simulated PVE node over real HTTPS: trust and auth, PVE's error answers, a
// whole VM lifecycle, task failure with its log tail, lists, and the agent shell on a running VM.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSim, type RunningSim } from '../../../sim/server.ts';
import { createAgentShell } from '../../../infra/proxmox/agent-shell.ts';
import { PveError } from '../../../infra/proxmox/errors.ts';
import { UnreachableError } from '../../../lib/errors.ts';
import { Secret } from '../../../lib/secret.ts';
import { testClient } from './support/clients.ts';
import { makeCert } from './support/stub.ts';

const ADMIN = { tokenId: 'jarvis@pve!bot', secret: '2b7e1516-28ae-42d2-a6ab-f7158809cf4f', privileges: 'admin' as const };
const READONLY = {
  tokenId: 'audit@pve!ro',
  secret: '6d0c8a3e-1f2b-4c5d-9e8f-0a1b2c3d4e5f',
  privileges: 'readonly' as const,
};

let sim: RunningSim;

beforeAll(async () => {
  sim = await startSim({ scenario: 'phase0', taskSeconds: 0.05, seed: 7, tokens: [ADMIN, READONLY] });
});
afterAll(async () => {
  await sim?.close();
});

// Every request the client sends must pass the simulator's schema check, except the ones a test sends on purpose.
let violationsBefore = 0;
let expectedViolations = 0;
beforeEach(() => {
  violationsBefore = sim.schemaViolations.length;
  expectedViolations = 0;
});
afterEach(() => {
  expect(sim.schemaViolations.slice(violationsBefore)).toHaveLength(expectedViolations);
});

function simClient(overrides: Parameters<typeof testClient>[1] = {}) {
  return testClient(
    { url: sim.url, fingerprint: sim.fingerprint },
    { tokenId: sim.tokenId, tokenSecret: new Secret(sim.tokenSecret), node: sim.node, ...overrides },
  );
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error)) throw new Error('expected the call to fail');
  return outcome;
}

describe('trust and auth against the simulator', () => {
  it('works with the pinned fingerprint and with the CA PEM', async () => {
    await expect(simClient().version()).resolves.toMatchObject({ version: expect.any(String) });
    await expect(simClient({ fingerprint: undefined, caPem: sim.caPem }).version()).resolves.toBeDefined();
  });

  it('refuses the simulator under a wrong pin, naming both fingerprints', async () => {
    const other = await makeCert();
    const error = await failure(simClient({ fingerprint: other.fingerprint }).version());
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error.message).toContain(sim.fingerprint);
    expect(error.message).toContain(other.fingerprint);
  });

  it('gets 401 for a wrong token secret', async () => {
    const wrong = simClient({ tokenSecret: new Secret('00000000-0000-4000-8000-000000000000') });
    const error = (await failure(wrong.version())) as PveError;
    expect(error).toBeInstanceOf(PveError);
    expect(error.status).toBe(401);
  });

  it('gets 403 when a read-only token writes', async () => {
    const readonly = simClient({ tokenId: READONLY.tokenId, tokenSecret: new Secret(READONLY.secret) });
    await expect(readonly.clusterResources('vm')).resolves.toBeInstanceOf(Array);
    const error = (await failure(readonly.vmAction(100, 'start'))) as PveError;
    expect(error.status).toBe(403);
  });

  it('gets 400 with per-field errors for a value the schema rejects', async () => {
    expectedViolations = 1;
    const error = (await failure(
      simClient().createVm({ vmid: 151, name: 'bad-nic', net0: 'virtio2,bridge=vmbr0' }),
    )) as PveError;
    expect(error.status).toBe(400);
    expect(Object.keys(error.errors)).toContain('net0');
  });
});

describe('a VM lifecycle through the client', () => {
  const vmid = 150;

  it('creates, updates, starts, snapshots, adds a NIC, stops and deletes a VM', async () => {
    const pve = simClient();
    const created = await pve.waitForTask(
      await pve.createVm({
        vmid,
        name: 'client-test',
        ostype: 'l26',
        memory: 1024,
        cores: 1,
        scsihw: 'virtio-scsi-single',
        scsi0: 'local-lvm:8,cache=none,iothread=1,discard=on',
        net0: 'virtio,bridge=vmbr0,firewall=1',
        agent: 'enabled=1',
        tags: 'env-lab;role-test',
      }),
    );
    expect(created).toMatchObject({ ok: true, exitstatus: 'OK' });

    const before = await pve.vmConfig(vmid);
    expect(before.config).toMatchObject({ name: 'client-test', tags: 'env-lab;role-test', scsihw: 'virtio-scsi-single' });
    await pve.setVmConfig(vmid, { memory: 2048, digest: before.digest });
    const stale = (await failure(pve.setVmConfig(vmid, { memory: 4096, digest: before.digest }))) as PveError;
    expect(stale).toBeInstanceOf(PveError);
    expect(stale.message).toMatch(/digest|modified/i);
    expect((await pve.vmConfig(vmid)).config.memory).toEqual(expect.stringMatching(/^2048$/));

    expect((await pve.waitForTask(await pve.vmAction(vmid, 'start'))).ok).toBe(true);
    expect(await pve.vmStatus(vmid)).toMatchObject({ vmid, status: 'running' });

    expect((await pve.waitForTask(await pve.createSnapshot(vmid, 'before-nic', 'client test'))).ok).toBe(true);
    const snapshots = await pve.listSnapshots(vmid);
    expect(snapshots.map((s) => s.name)).toEqual(expect.arrayContaining(['before-nic', 'current']));

    const nic = await pve.updateVmConfig(vmid, { net1: 'virtio,bridge=vmbr0,tag=20' });
    if (nic !== null) expect((await pve.waitForTask(nic)).ok).toBe(true);
    expect((await pve.vmConfig(vmid)).config.net1).toMatch(/^virtio=[0-9A-F:]{17},bridge=vmbr0,tag=20$/);

    expect((await pve.waitForTask(await pve.vmAction(vmid, 'stop'))).ok).toBe(true);
    expect((await pve.waitForTask(await pve.deleteVm(vmid, { purge: true }))).ok).toBe(true);
    const gone = (await failure(pve.vmConfig(vmid))) as PveError;
    expect(gone.status).toBe(500);
    expect(gone.message).toContain(String(vmid));
    expect(pve.stats().perCall).toMatchObject({
      'POST /nodes/{node}/qemu': 1,
      'POST /nodes/{node}/qemu/{vmid}/status/start': 1,
      'POST /nodes/{node}/qemu/{vmid}/status/stop': 1,
      'DELETE /nodes/{node}/qemu/{vmid}': 1,
    });
  });

  it('reports a failed task with its exit status and log tail', async () => {
    const pve = simClient();
    await pve.waitForTask(await pve.createVm({ vmid: 152, name: 'fails-to-start', memory: 512 }));
    sim.lab.failNextTask('qmstart');
    const result = await pve.waitForTask(await pve.vmAction(152, 'start'));
    expect(result.ok).toBe(false);
    expect(result.exitstatus).not.toBe('OK');
    expect(result.logTail.at(-1)).toBe(`TASK ERROR: ${result.exitstatus}`);
  });
});

describe('lists and the agent shell', () => {
  it('lists tasks with filters, storages and node storage status', async () => {
    const pve = simClient();
    const storages = await pve.listStorage();
    expect(storages.map((s) => s.storage)).toEqual(expect.arrayContaining(['local', 'local-lvm']));
    const status = await pve.nodeStorageStatus();
    expect(status.find((s) => s.storage === 'local-lvm')).toMatchObject({ type: 'lvmthin' });
    await pve.waitForTask(await pve.createVm({ vmid: 153, name: 'listed', memory: 512 }));
    const creates = await pve.listTasks({ typefilter: 'qmcreate', vmid: 153 });
    expect(creates).toEqual([expect.objectContaining({ type: 'qmcreate', id: '153', status: 'OK' })]);
    const resources = await pve.clusterResources();
    expect(resources.some((r) => r.type === 'node' && r.node === sim.node)).toBe(true);
  });

  it('runs a command in a running guest through the agent, with stdin', async () => {
    const pve = simClient();
    const running = (await pve.clusterResources('vm')).filter((r) => r.status === 'running' && r.vmid !== undefined);
    let target: number | undefined;
    for (const vm of running) {
      const config = (await pve.vmConfig(vm.vmid!)).config;
      if (/^(enabled=)?1/.test(String(config.agent ?? ''))) target = vm.vmid;
    }
    expect(target).toBeDefined();
    const calls: Array<{ argv: string[]; input?: string }> = [];
    const previous = sim.lab.guestExec;
    sim.lab.guestExec = async (_vmid, argv, input) => {
      calls.push({ argv, input });
      return { exitcode: 4, out: `ran ${argv.at(-1)}\n`, err: 'warn\n' };
    };
    try {
      const shell = createAgentShell(pve, target!, 'guest', { initialPollMs: 5 });
      const result = await shell.exec('cat > /etc/x', { stdin: new Secret('token-value-123'), timeoutSec: 20 });
      expect(result).toEqual({ code: 4, stdout: 'ran cat > /etc/x\n', stderr: 'warn\n' });
      expect(calls).toEqual([
        { argv: ['timeout', '--kill-after=5', '20', '/bin/sh', '-c', 'cat > /etc/x'], input: 'token-value-123' },
      ]);
    } finally {
      sim.lab.guestExec = previous;
    }
  });
});

describe('injected faults', () => {
  let faulty: RunningSim;
  beforeAll(async () => {
    faulty = await startSim({
      scenario: 'fresh',
      seed: 11,
      tokens: [ADMIN],
      faults: ['596:/nodes/*/storage', 'timeout:/nodes/*/disks/list'],
    });
  });
  afterAll(async () => {
    await faulty?.close();
  });
  const faultyClient = (overrides: Parameters<typeof testClient>[1] = {}) =>
    testClient(
      { url: faulty.url, fingerprint: faulty.fingerprint },
      { tokenId: ADMIN.tokenId, tokenSecret: new Secret(ADMIN.secret), ...overrides },
    );

  it('retries a GET answered 596 and then reports it', async () => {
    const error = (await failure(faultyClient({ retries: 2 }).nodeStorageStatus())) as PveError;
    expect(error.status).toBe(596);
    expect(faulty.requests.filter((r) => r.path === '/nodes/proxmox/storage')).toHaveLength(3);
  });

  it('times out a GET the node never answers', async () => {
    const error = await failure(faultyClient({ timeoutMs: 300, retries: 0 }).listDisks());
    expect(error).toBeInstanceOf(UnreachableError);
    expect((error as UnreachableError).code).toBe('pve-timeout');
  });
});

describe('a firewall change that drops new connections', () => {
  let locked: RunningSim;
  beforeAll(async () => {
    locked = await startSim({ scenario: 'phase0', seed: 13, taskSeconds: 0.3, tokens: [ADMIN] });
    // Like pve-firewall, the sim always lets the LAN's `management` IP set reach 22/8006; Jarvis here sits outside
    // it (a tailnet address), so a DROP policy without an explicit ACCEPT cuts it off.
    locked.lab.setClientSource('100.101.102.7');
  });
  afterAll(async () => {
    await locked?.close();
  });
  const lockedClient = (overrides: Parameters<typeof testClient>[1] = {}) =>
    testClient(
      { url: locked.url, fingerprint: locked.fingerprint },
      { tokenId: ADMIN.tokenId, tokenSecret: new Secret(ADMIN.secret), ...overrides },
    );

  it('keeps the established connection usable, so the change can be reverted over it', async () => {
    const held = lockedClient({ maxConcurrency: 1, keepAliveMs: 60_000 });
    await held.version();
    await held.setFirewallOptions({ level: 'cluster' }, { enable: 1, policy_in: 'DROP' });
    // pve-firewall loads the change on its next update cycle.
    await locked.lab.firewall.nextCycle();

    const probe = await failure(lockedClient({ retries: 0 }).version());
    expect(probe).toBeInstanceOf(UnreachableError);
    expect(probe.message).toContain(locked.url);

    await held.setFirewallOptions({ level: 'cluster' }, { enable: 0 });
    await locked.lab.firewall.nextCycle();
    await expect(lockedClient({ retries: 0 }).version()).resolves.toBeDefined();
  });
});
