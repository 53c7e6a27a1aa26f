// Answers the client validates: lenient on what PVE varies (extra keys, numbers as strings, booleans), strict on
// what Jarvis relies on, with errors that name the endpoint and the field path.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PveResponseError } from '../../../infra/proxmox/errors.ts';
import { answer, startStub, type RunningStub } from './support/stub.ts';
import { testClient } from './support/clients.ts';

let stub: RunningStub;
let reply: (path: string) => unknown;

beforeAll(async () => {
  stub = await startStub((req, res) => answer(res, 200, reply(req.path)));
});
afterAll(async () => {
  await stub.close();
});
beforeEach(() => {
  stub.requests.length = 0;
});

describe('lenient where PVE varies', () => {
  it('coerces numbers sent as strings and booleans, and keeps unknown keys', async () => {
    reply = () => [
      { id: 'qemu/100', type: 'qemu', vmid: '100', maxmem: '2147483648', template: false, hastate: 'ignored', tags: 'a;b' },
      { id: 'storage/proxmox/local', type: 'storage', shared: true },
    ];
    const resources = await testClient(stub).clusterResources('vm');
    expect(resources[0]).toMatchObject({ vmid: 100, maxmem: 2147483648, template: 0, hastate: 'ignored', tags: 'a;b' });
    expect(resources[1]).toMatchObject({ shared: 1 });
    expect(stub.requests[0]?.query.get('type')).toBe('vm');
  });

  it('splits the digest off a VM config', async () => {
    reply = () => ({ name: 'edge-gateway', memory: '2048', cores: 2, agent: '1', digest: 'f00d' });
    await expect(testClient(stub).vmConfig(100)).resolves.toEqual({
      config: { name: 'edge-gateway', memory: '2048', cores: 2, agent: '1' },
      digest: 'f00d',
    });
  });

  it('renders prune-backups objects of storage definitions as property strings', async () => {
    reply = () => [
      { storage: 'local', type: 'dir', 'prune-backups': { 'keep-last': 3, 'keep-daily': '7' }, content: 'iso,backup' },
    ];
    const [local] = await testClient(stub).listStorage();
    expect(local?.['prune-backups']).toBe('keep-daily=7,keep-last=3');
  });

  it('returns a UPID or null for the asynchronous config update', async () => {
    reply = () => null;
    await expect(testClient(stub).updateVmConfig(100, { memory: 4096 })).resolves.toBeNull();
    reply = () => 'UPID:proxmox:00001234:00005678:6745A1B2:qmconfig:100:jarvis@pve!bot:';
    await expect(testClient(stub).updateVmConfig(100, { memory: 4096 })).resolves.toMatch(/^UPID:proxmox:/);
  });

  it('reads nested ZFS pool detail', async () => {
    reply = () => ({
      name: 'tank',
      state: 'ONLINE',
      children: [{ name: 'tank', state: 'ONLINE', children: [{ name: 'mirror-0', children: [{ name: 'sda' }] }] }],
    });
    const detail = await testClient(stub).zfsPoolDetail('tank');
    expect(detail.children?.[0]?.children?.[0]?.name).toBe('mirror-0');
    expect(stub.requests[0]?.path).toBe('/api2/json/nodes/proxmox/disks/zfs/tank');
  });
});

describe('strict on what Jarvis relies on', () => {
  async function rejection(promise: Promise<unknown>): Promise<PveResponseError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PveResponseError);
    return error as PveResponseError;
  }

  it('names the endpoint and the field path of a wrong field', async () => {
    reply = () => [{ id: 'qemu/100', type: 'qemu' }, { id: 'qemu/101', type: 'qemu', vmid: 'one-hundred' }];
    const error = await rejection(testClient(stub).clusterResources());
    expect(error.message).toContain('GET /cluster/resources');
    expect(error.message).toContain('data[1].vmid');
  });

  it('refuses a VM status outside running/stopped and a config without digest', async () => {
    reply = () => ({ vmid: 100, status: 'paused' });
    expect((await rejection(testClient(stub).vmStatus(100))).message).toContain('data.status');
    reply = () => ({ name: 'x' });
    expect((await rejection(testClient(stub).vmConfig(100))).message).toContain('digest');
  });

  it('refuses a task start that did not return a UPID', async () => {
    reply = () => ({ upid: 'not in an envelope like this' });
    const error = await rejection(testClient(stub).vmAction(100, 'start'));
    expect(error.message).toContain('POST /nodes/{node}/qemu/{vmid}/status/start');
  });

  it('refuses an answer that is not a JSON {data} envelope', async () => {
    stub.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>login</html>');
    });
    try {
      expect((await rejection(testClient(stub).version())).message).toMatch(/envelope/);
    } finally {
      stub.setHandler((req, res) => answer(res, 200, reply(req.path)));
    }
  });
});
