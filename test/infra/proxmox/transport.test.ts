// The client's HTTP behaviour against a small HTTPS stub: TLS trust, auth, error mapping, timeouts, retries,
// encoding, concurrency and request counts.
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UnreachableError } from '../../../lib/errors.ts';
import { PveError } from '../../../infra/proxmox/errors.ts';
import { answer, makeCert, startStub, type RunningStub, type StubCert } from './support/stub.ts';
import { testClient, TOKEN_ID, TOKEN_SECRET } from './support/clients.ts';

const VERSION = { version: '9.1.1', release: '9.1', repoid: 'abcdef12' };

let stub: RunningStub;
let otherCert: StubCert;

beforeAll(async () => {
  stub = await startStub((_req, res) => answer(res, 200, VERSION));
  otherCert = await makeCert('not-the-node');
});
afterAll(async () => {
  await stub.close();
});
beforeEach(() => {
  stub.requests.length = 0;
  stub.maxInFlight = 0;
  stub.setHandler((_req, res) => answer(res, 200, VERSION));
});

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

describe('TLS trust', () => {
  it('talks to a node whose certificate matches the pin and sends the API token', async () => {
    const client = testClient(stub);
    await expect(client.version()).resolves.toEqual(VERSION);
    expect(stub.requests[0]?.headers.authorization).toBe(`PVEAPIToken=${TOKEN_ID}=${TOKEN_SECRET}`);
    expect(stub.requests[0]?.path).toBe('/api2/json/version');
  });

  it('accepts the pin in lower case without colons', async () => {
    const client = testClient({ url: stub.url, fingerprint: stub.fingerprint.replace(/:/g, '').toLowerCase() });
    await expect(client.version()).resolves.toEqual(VERSION);
  });

  it('refuses a certificate that does not match the pin, naming expected and seen fingerprints', async () => {
    const client = testClient({ url: stub.url, fingerprint: otherCert.fingerprint });
    const error = await failure(client.version());
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error.message).toContain(stub.url);
    expect(error.message).toContain(otherCert.fingerprint);
    expect(error.message).toContain(stub.fingerprint);
    expect((error as UnreachableError).code).toBe('tls-pin-mismatch');
    expect(stub.requests).toHaveLength(0);
  });

  it('trusts a node certificate signed by the given CA file without a pin', async () => {
    const client = testClient({ url: stub.url }, { caPem: stub.certPem });
    await expect(client.version()).resolves.toEqual(VERSION);
  });

  it('refuses a node certificate the given CA did not sign', async () => {
    const client = testClient({ url: stub.url }, { caPem: otherCert.certPem });
    const error = await failure(client.version());
    expect(error).toBeInstanceOf(UnreachableError);
    expect((error as UnreachableError).code).toBe('tls-untrusted');
    expect(stub.requests).toHaveLength(0);
  });

  it('checks both CA and pin when both are given', async () => {
    const wrongPin = testClient({ url: stub.url, fingerprint: otherCert.fingerprint }, { caPem: stub.certPem });
    expect((await failure(wrongPin.version())).message).toContain('fingerprint mismatch');
    const right = testClient(stub, { caPem: stub.certPem });
    await expect(right.version()).resolves.toEqual(VERSION);
  });

  it('uses default verification without pin or CA, so a self-signed node is refused', async () => {
    const client = testClient({ url: stub.url });
    const error = await failure(client.version());
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error.message).toMatch(/self-signed/);
  });

  it('rejects a malformed pin before connecting', () => {
    expect(() => testClient({ url: stub.url, fingerprint: 'AB:CD' })).toThrow(/SHA-256/);
  });

  it('rejects plain http URLs and malformed token ids', () => {
    expect(() => testClient({ url: 'http://127.0.0.1:8006', fingerprint: stub.fingerprint })).toThrow(/https/);
    expect(() => testClient(stub, { tokenId: 'jarvis-without-realm' })).toThrow(/USER@REALM!TOKENNAME/);
  });
});

describe('error answers', () => {
  it('maps a wrong token (401) to a PveError without the secret in the message', async () => {
    stub.setHandler((req, res) =>
      req.headers.authorization === `PVEAPIToken=${TOKEN_ID}=${TOKEN_SECRET}`
        ? answer(res, 200, VERSION)
        : answer(res, 401, null, { reason: 'invalid token value!' }),
    );
    const wrong = testClient(stub, { tokenId: 'jarvis@pve!other' });
    const error = await failure(wrong.version());
    expect(error).toBeInstanceOf(PveError);
    expect((error as PveError).status).toBe(401);
    expect(error.message).toContain('invalid token value!');
    expect(error.message).not.toContain(TOKEN_SECRET);
    expect(JSON.stringify(error)).not.toContain(TOKEN_SECRET);
    expect(stub.requests).toHaveLength(1);
    await expect(testClient(stub).version()).resolves.toEqual(VERSION);
  });

  it('keeps the per-field errors of a 400 and never repeats the write', async () => {
    stub.setHandler((_req, res) =>
      answer(res, 400, null, {
        reason: 'Parameter verification failed.',
        errors: { net0: 'invalid format - format error\nnet0.model: value does not match the regex pattern\n' },
      }),
    );
    const error = await failure(testClient(stub).createVm({ vmid: 120, net0: 'virtio2,bridge=vmbr0' }));
    expect(error).toBeInstanceOf(PveError);
    const pve = error as PveError;
    expect(pve.status).toBe(400);
    expect(pve.pveMessage).toBe('Parameter verification failed.');
    expect(pve.errors.net0).toMatch(/invalid format/);
    expect(pve.message).toContain('POST /nodes/{node}/qemu');
    expect(stub.requests).toHaveLength(1);
  });

  it('prefers the body message over the reason phrase (403)', async () => {
    stub.setHandler((_req, res) =>
      answer(res, 403, null, { reason: 'Forbidden', message: 'Permission check failed (/vms/100, VM.PowerMgmt)\n' }),
    );
    const error = (await failure(testClient(stub).vmAction(100, 'start'))) as PveError;
    expect(error.status).toBe(403);
    expect(error.pveMessage).toContain('VM.PowerMgmt');
  });

  it('retries a GET that got 500 and reports the last answer', async () => {
    stub.setHandler((_req, res) => answer(res, 500, null, { reason: 'VM 100 not running' }));
    const client = testClient(stub, { retries: 2 });
    const error = (await failure(client.vmStatus(100))) as PveError;
    expect(error.status).toBe(500);
    expect(error.pveMessage).toBe('VM 100 not running');
    expect(stub.requests).toHaveLength(3);
    expect(client.stats()).toMatchObject({ total: 3, retries: 2 });
  });

  it('recovers when a retried GET succeeds', async () => {
    let calls = 0;
    stub.setHandler((_req, res) =>
      ++calls === 1 ? answer(res, 596, null, { reason: 'Connection timed out' }) : answer(res, 200, VERSION),
    );
    await expect(testClient(stub).version()).resolves.toEqual(VERSION);
    expect(stub.requests).toHaveLength(2);
  });

  it('gives up on 596 after the retries with the reason phrase as message', async () => {
    stub.setHandler((_req, res) => answer(res, 596, null, { reason: 'Connection timed out' }));
    const error = (await failure(testClient(stub, { retries: 1 }).listStorage())) as PveError;
    expect(error.status).toBe(596);
    expect(error.pveMessage).toBe('Connection timed out');
    expect(stub.requests).toHaveLength(2);
  });

  it('does not repeat a GET answered 501 (method not implemented)', async () => {
    stub.setHandler((_req, res) => answer(res, 501, null, { reason: "Method 'GET /nodes/proxmox/foo' not implemented" }));
    const error = (await failure(testClient(stub).request('GET', '/nodes/proxmox/foo'))) as PveError;
    expect(error.status).toBe(501);
    expect(stub.requests).toHaveLength(1);
  });

  it('never repeats a POST that got 500', async () => {
    stub.setHandler((_req, res) => answer(res, 500, null, { message: "VM 100 already running\n" }));
    const error = (await failure(testClient(stub, { retries: 3 }).vmAction(100, 'start'))) as PveError;
    expect(error.status).toBe(500);
    expect(stub.requests).toHaveLength(1);
  });
});

describe('timeouts and broken connections', () => {
  it('times out a GET whose answer never starts, retrying it, and never repeats the POST', async () => {
    stub.setHandler(() => {
      /* never answers */
    });
    const client = testClient(stub, { timeoutMs: 150, retries: 1 });
    const error = await failure(client.version());
    expect(error).toBeInstanceOf(UnreachableError);
    expect((error as UnreachableError).code).toBe('pve-timeout');
    expect(error.message).toContain('150 ms');
    expect(stub.requests).toHaveLength(2);

    stub.requests.length = 0;
    const write = await failure(client.createSnapshot(100, 'before-upgrade'));
    expect(write.message).toContain('may or may not have been made');
    expect(stub.requests).toHaveLength(1);
  });

  it('times out an answer whose body stalls after the headers', async () => {
    stub.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"data":{"version":"9.1');
    });
    const error = await failure(testClient(stub, { timeoutMs: 200, retries: 0 }).version());
    expect((error as UnreachableError).code).toBe('pve-timeout');
  });

  it('retries a GET whose connection was reset, then reports the node unreachable', async () => {
    stub.setHandler((_req, res) => {
      res.socket?.destroy();
    });
    const error = await failure(testClient(stub, { retries: 2 }).version());
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error.message).toContain(stub.url);
    expect(stub.requests).toHaveLength(3);
  });

  it('reports a closed port as unreachable, naming the URL', async () => {
    const closed = await startStub((_req, res) => answer(res, 200, VERSION));
    const { url, fingerprint } = closed;
    await closed.close();
    const error = await failure(testClient({ url, fingerprint }, { retries: 1 }).version());
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error.message).toContain(url);
    expect(error.message).toMatch(/ECONNREFUSED/);
  });
});

describe('request encoding', () => {
  it('form-encodes POST bodies: ; and , inside values, booleans as 0/1, arrays as repeated keys', async () => {
    stub.setHandler((_req, res) => answer(res, 200, { pid: 42 }));
    const client = testClient(stub);
    await client.agentExec(100, ['/bin/sh', '-c', 'echo a;b'], 'in put');
    await client.request('POST', '/nodes/proxmox/qemu', {
      vmid: 120,
      tags: 'env-lab;role-app',
      net0: 'virtio,bridge=vmbr0',
      start: true,
      onboot: false,
      skipped: undefined,
    });
    const [exec, create] = stub.requests;
    expect(exec?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(exec?.body).toBe('command=%2Fbin%2Fsh&command=-c&command=echo+a%3Bb&input-data=in+put');
    expect(create?.body).toBe('vmid=120&tags=env-lab%3Brole-app&net0=virtio%2Cbridge%3Dvmbr0&start=1&onboot=0');
    expect(create?.path).toBe('/api2/json/nodes/proxmox/qemu');
  });

  it('sends GET and DELETE parameters in the query string and no body', async () => {
    const upid = 'UPID:proxmox:0001:0002:0003:qmdestroy:120:jarvis@pve!bot:';
    stub.setHandler((req, res) => answer(res, 200, req.method === 'GET' ? [] : upid));
    const client = testClient(stub);
    await client.listTasks({ typefilter: 'vzdump', errors: true, since: 1700000000 });
    await client.deleteVm(120, { purge: true });
    const [list, del] = stub.requests;
    expect(list?.path).toBe('/api2/json/nodes/proxmox/tasks');
    expect(Object.fromEntries(list!.query)).toEqual({ typefilter: 'vzdump', errors: '1', since: '1700000000' });
    expect(del?.method).toBe('DELETE');
    expect(del?.path).toBe('/api2/json/nodes/proxmox/qemu/120');
    expect(del?.query.get('purge')).toBe('1');
    expect(del?.body).toBe('');
  });

  it('percent-encodes UPIDs as one path segment and asks the node named in the UPID', async () => {
    const upid = 'UPID:pve2:0000A1B2:0012D687:6745A1B2:qmstart:100:jarvis@pve!bot:';
    stub.setHandler((_req, res) =>
      answer(res, 200, { upid, status: 'running', type: 'qmstart', starttime: 1732600000, node: 'pve2' }),
    );
    await testClient(stub).taskStatus(upid);
    expect(stub.requests[0]?.path).toBe(`/api2/json/nodes/pve2/tasks/${encodeURIComponent(upid)}/status`);
  });

  it('refuses path segments that could change the target, before sending anything', async () => {
    const client = testClient(stub);
    for (const name of ['..', '.', '', 'a/b', 'x?y=1', 'x#y', 'a\nb']) {
      await expect(client.deleteSnapshot(100, name)).rejects.toThrow(/Invalid snapname/);
    }
    await expect(client.vmConfig(99)).rejects.toThrow(/Invalid VM id/);
    await expect(client.vmConfig(1.5)).rejects.toThrow(/Invalid VM id/);
    await expect(client.request('GET', '/nodes/proxmox/../../access/users')).rejects.toThrow(/"\.\."/);
    await expect(client.request('GET', '/nodes/proxmox/qemu?x=1')).rejects.toThrow(/"\?"/);
    await expect(client.request('GET', 'nodes/proxmox')).rejects.toThrow(/must start with/);
    await expect(client.taskStatus('UPID:../x:')).rejects.toThrow(/Invalid task id/);
    expect(stub.requests).toHaveLength(0);
  });

  it('keeps an encoded slash inside its segment in raw plan paths', async () => {
    stub.setHandler((_req, res) => answer(res, 200, null));
    await testClient(stub).request('DELETE', '/cluster/firewall/ipset/lan/192.168.1.0%2F24');
    expect(stub.requests[0]?.path).toBe('/api2/json/cluster/firewall/ipset/lan/192.168.1.0%2F24');
  });
});

describe('concurrency and counts', () => {
  it('keeps at most maxConcurrency requests in flight', async () => {
    // Answers are held until two requests wait (or the last one arrived), so the limit is reached on any machine
    // speed; a client that sent only one at a time gets its answer after a second, and the count below fails.
    let held: ServerResponse[] = [];
    let arrived = 0;
    stub.setHandler((_req, res) => {
      arrived += 1;
      held.push(res);
      const release = () => {
        for (const waiting of held) answer(waiting, 200, VERSION);
        held = [];
      };
      // One turn of the event loop first: a third request already sent (a broken limit) arrives and is counted.
      if (held.length >= 2 || arrived === 7) setImmediate(release);
      else setTimeout(() => held.includes(res) && release(), 1_000).unref();
    });
    const client = testClient(stub, { maxConcurrency: 2 });
    await Promise.all(Array.from({ length: 7 }, () => client.version()));
    expect(stub.requests).toHaveLength(7);
    expect(stub.maxInFlight).toBe(2);
  });

  it('counts requests per call template and in total', async () => {
    stub.setHandler((req, res) => answer(res, 200, req.path.endsWith('/version') ? VERSION : []));
    const client = testClient(stub);
    await client.version();
    await client.listSnapshots(100);
    await client.listSnapshots(101);
    await client.request('GET', '/nodes/proxmox/qemu/102/snapshot');
    expect(client.stats()).toEqual({
      total: 4,
      retries: 0,
      perCall: { 'GET /version': 1, 'GET /nodes/{node}/qemu/{vmid}/snapshot': 3 },
    });
  });
});
