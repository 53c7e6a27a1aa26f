// Benchmark: `jarvis status` against the simulator at 20 ms latency (backup-failures scenario): median wall of a
// snapshot with a fresh client (TLS handshake included, as a CLI run pays it) and with a warm one, and the number of
// Proxmox requests one snapshot makes (counted by the monitor and checked against the simulator's request log).
// Run directly to print JSON.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { createProxmoxClient } from '../infra/proxmox/client.ts';
import { createTailnetClient } from '../infra/tailscale/client.ts';
import { Secret } from '../lib/secret.ts';
import { collect, type MonitorPorts } from '../monitor/collect.ts';
import { buildStatus, renderStatusText } from '../monitor/status.ts';
import { historyHours } from '../monitor/watch.ts';
import { startSim } from '../sim/server.ts';

export interface StatusBenchResult {
  /** Median wall of one snapshot (new client + collect + build + render), ms. */
  statusWallMs: number;
  /** Same with a connection kept open between snapshots, ms. */
  statusWarmWallMs: number;
  /** Proxmox requests of one snapshot. */
  statusProxmoxRequests: number;
  latencyMs: number;
  runs: number;
}

const THRESHOLDS = { backupWarnHours: 26, backupCritHours: 50, snapshotMaxAgeHours: 26, storageWarnPercent: 80, keyExpiryWarnDays: 14 };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function benchStatus(opts: { runs?: number; latencyMs?: number } = {}): Promise<StatusBenchResult> {
  const runs = opts.runs ?? 15;
  const latencyMs = opts.latencyMs ?? 20;
  const sim = await startSim({ scenario: 'backup-failures', latencyMs });
  const connect = () => {
    const proxmox = createProxmoxClient({ url: sim.url, node: sim.node, tokenId: sim.tokenId, tokenSecret: new Secret(sim.tokenSecret), fingerprint: sim.fingerprint });
    const tailnet = createTailnetClient({ baseUrl: sim.tailscaleUrl, tailnet: '-', apiKey: new Secret(sim.tailscaleApiKey) });
    return { ports: { proxmox, tailnet } satisfies MonitorPorts, close: () => Promise.all([proxmox.close(), tailnet.close()]) };
  };
  const snapshot = async (ports: MonitorPorts) => {
    const now = Date.now();
    const collected = await collect(ports, { now, historyHours: historyHours(THRESHOLDS) });
    if (collected.unreadable) throw new Error(collected.unreadable.reason);
    renderStatusText(buildStatus(collected, { now, thresholds: THRESHOLDS }));
    return collected.proxmoxRequests;
  };
  try {
    const cold: number[] = [];
    let requests = 0;
    for (let i = 0; i < runs + 1; i++) {
      const before = sim.requests.length;
      const started = performance.now();
      const connection = connect();
      requests = await snapshot(connection.ports);
      const wall = performance.now() - started;
      await connection.close();
      const seen = sim.requests.length - before;
      if (seen !== requests) throw new Error(`the monitor counted ${requests} requests, the simulator saw ${seen}`);
      if (i > 0) cold.push(wall); // the first run also warms the JIT
    }
    const warm: number[] = [];
    const connection = connect();
    await snapshot(connection.ports);
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      await snapshot(connection.ports);
      warm.push(performance.now() - started);
    }
    await connection.close();
    const round = (ms: number) => Math.round(ms * 10) / 10;
    return { statusWallMs: round(median(cold)), statusWarmWallMs: round(median(warm)), statusProxmoxRequests: requests, latencyMs, runs };
  } finally {
    await sim.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${JSON.stringify(await benchStatus(), null, 2)}\n`);
}
