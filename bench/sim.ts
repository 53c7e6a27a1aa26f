// Benchmark: the simulator's throughput for `GET /cluster/resources` in the `large` scenario (1,000 extra VMs),
// over pinned HTTPS keep-alive connections from a few concurrent clients. Run directly to print JSON.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Pool } from 'undici';
import { startSim } from '../sim/server.ts';

export interface SimBenchResult {
  clusterResourcesLarge1000: { rps: number; medianMs: number; requests: number; concurrency: number; rows: number };
}

const REQUESTS = 300;
const CONCURRENCY = 4;

export async function benchSim(): Promise<SimBenchResult> {
  const sim = await startSim({ scenario: 'large', largeCount: 1000, taskSeconds: 0.05 });
  const pool = new Pool(sim.url, { connect: { ca: sim.caPem, servername: 'proxmox' }, connections: CONCURRENCY });
  const headers = { authorization: `PVEAPIToken=${sim.tokenId}=${sim.tokenSecret}` };
  const once = async (): Promise<{ ms: number; rows: number }> => {
    const started = performance.now();
    const res = await pool.request({ method: 'GET', path: '/api2/json/cluster/resources', headers });
    const body = (await res.body.json()) as { data: unknown[] };
    if (res.statusCode !== 200) throw new Error(`GET /cluster/resources answered ${res.statusCode}`);
    return { ms: performance.now() - started, rows: body.data.length };
  };
  try {
    for (let i = 0; i < 20; i++) await once(); // warm-up: TLS handshakes, JIT
    const times: number[] = [];
    let rows = 0;
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < REQUESTS) {
          const result = await once();
          times.push(result.ms);
          rows = result.rows;
        }
      }),
    );
    const elapsed = performance.now() - started;
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    return {
      clusterResourcesLarge1000: {
        rps: Math.round((REQUESTS / elapsed) * 1000 * 10) / 10,
        medianMs: Math.round(median * 100) / 100,
        requests: REQUESTS,
        concurrency: CONCURRENCY,
        rows,
      },
    };
  } finally {
    await pool.close();
    await sim.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${JSON.stringify(await benchSim(), null, 2)}\n`);
}
