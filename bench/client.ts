// Benchmark: what the Proxmox client adds per call over loopback (auth, encoding, concurrency slot, envelope and
// zod validation, counting), measured as the median client call time minus the median time of a raw undici request
// for the same endpoint over the same kind of pinned TLS connection. Run directly to print JSON.
import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { generate } from 'selfsigned';
import { Pool } from 'undici';
import { createProxmoxClient } from '../infra/proxmox/client.ts';
import { Secret } from '../lib/secret.ts';

export interface ClientBenchResult {
  /** `GET /version`: median client call minus median raw request, ms. */
  clientOverheadPerCallMsMedian: number;
  rawVersionMsMedian: number;
  clientVersionMsMedian: number;
  /** `GET /cluster/resources` with `resourceRows` VM rows (validation cost grows with the rows). */
  resourceRows: number;
  clientOverheadResourcesMsMedian: number;
  rawResourcesMsMedian: number;
  clientResourcesMsMedian: number;
  callsPerSeries: number;
}

const TOKEN_ID = 'jarvis@pve!bench';
const TOKEN_SECRET = '0f0e0d0c-0b0a-4908-8706-050403020100';

function resourceRows(count: number): unknown[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `qemu/${100 + i}`,
    type: 'qemu',
    node: 'proxmox',
    vmid: 100 + i,
    name: `vm-${100 + i}`,
    status: i % 3 === 0 ? 'stopped' : 'running',
    tags: 'env-lab;role-app',
    template: 0,
    uptime: 86_400 + i,
    cpu: 0.02,
    maxcpu: 2,
    mem: 1_073_741_824,
    maxmem: 2_147_483_648,
    disk: 0,
    maxdisk: 34_359_738_368,
    diskread: 1234,
    diskwrite: 5678,
    netin: 100,
    netout: 200,
  }));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

export async function benchClient(opts: { calls?: number; rows?: number } = {}): Promise<ClientBenchResult> {
  const calls = Math.max(200, opts.calls ?? 400);
  const rows = opts.rows ?? 200;
  const pems = await generate([{ name: 'commonName', value: 'proxmox' }], { keySize: 2048 });
  const fingerprint = new X509Certificate(pems.cert).fingerprint256;
  const bodies: Record<string, string> = {
    '/api2/json/version': JSON.stringify({ data: { version: '9.1.1', release: '9.1', repoid: 'abcdef12' } }),
    '/api2/json/cluster/resources': JSON.stringify({ data: resourceRows(rows) }),
  };
  const server = createServer({ cert: pems.cert, key: pems.private }, (req, res) => {
    const body = bodies[(req.url ?? '').split('?')[0] ?? ''];
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    res.end(body ?? '{"data":null}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const client = createProxmoxClient({ url, tokenId: TOKEN_ID, tokenSecret: new Secret(TOKEN_SECRET), fingerprint });
  // The raw baseline: one connection trusted through the same certificate, no client logic at all.
  const raw = new Pool(url, { connections: 1, connect: { ca: pems.cert, checkServerIdentity: () => undefined } });
  const rawGet = async (path: string): Promise<unknown> => {
    const response = await raw.request({
      method: 'GET',
      path,
      headers: { authorization: `PVEAPIToken=${TOKEN_ID}=${TOKEN_SECRET}` },
    });
    return JSON.parse(await response.body.text());
  };

  async function series(clientCall: () => Promise<unknown>, rawCall: () => Promise<unknown>) {
    for (let i = 0; i < 30; i++) {
      await clientCall();
      await rawCall();
    }
    const clientTimes: number[] = [];
    const rawTimes: number[] = [];
    // Interleaved so that drift (GC, other processes on the machine) hits both sides alike.
    for (let i = 0; i < calls; i++) {
      let start = performance.now();
      await rawCall();
      rawTimes.push(performance.now() - start);
      start = performance.now();
      await clientCall();
      clientTimes.push(performance.now() - start);
    }
    return { client: median(clientTimes), raw: median(rawTimes) };
  }

  try {
    const version = await series(() => client.version(), () => rawGet('/api2/json/version'));
    const resources = await series(
      () => client.clusterResources('vm'),
      () => rawGet('/api2/json/cluster/resources?type=vm'),
    );
    return {
      clientOverheadPerCallMsMedian: round(version.client - version.raw),
      rawVersionMsMedian: round(version.raw),
      clientVersionMsMedian: round(version.client),
      resourceRows: rows,
      clientOverheadResourcesMsMedian: round(resources.client - resources.raw),
      rawResourcesMsMedian: round(resources.raw),
      clientResourcesMsMedian: round(resources.client),
      callsPerSeries: calls,
    };
  } finally {
    await client.close();
    await raw.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await benchClient(), null, 2));
}
