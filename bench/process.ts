// Process-level figures: start-up time of the demo (process start to "ready") and the idle RSS of the bot with the
// console adapter and the embedded simulated lab.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const READY = 'Jarvis is ready';

/** Node flags of `npm start`, so the figures are those of the process a user runs. */
function startFlags(): string[] {
  const start = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }).scripts.start;
  return start.split(/\s+/).filter((word) => word.startsWith('--'));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  return kb / 1024;
}

/** Starts the demo, waits for its ready line, optionally idles, then ends it by closing standard input. */
async function startOnce(idleMs: number): Promise<{ startupMs: number; rssMb?: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'jarvis-bench-demo-'));
  const started = performance.now();
  const child = spawn(process.execPath, [...startFlags(), 'bin/jarvis.js', 'demo'], {
    env: { ...process.env, JARVIS_DATA_DIR: dataDir, JARVIS_LOG_LEVEL: 'warn' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(READY)) resolve(performance.now() - started);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`demo exited with ${code} before ready:\n${output}`)));
    setTimeout(() => reject(new Error(`demo not ready within 30 s:\n${output}`)), 30_000).unref();
  });
  try {
    const startupMs = await ready;
    let rss: number | undefined;
    if (idleMs > 0) {
      await new Promise((r) => setTimeout(r, idleMs));
      rss = rssMb(child.pid!);
    }
    return { startupMs, rssMb: rss };
  } finally {
    child.stdin.end();
    const exited = new Promise((r) => child.once('exit', r));
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  }
}

export async function benchProcess(runs = 5): Promise<{ startupMs: number; idleRssMb: number; runs: number }> {
  const startups: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { startupMs, rssMb: r } = await startOnce(i < 3 ? 3_000 : 0);
    startups.push(startupMs);
    if (r !== undefined) rss.push(r);
  }
  return { startupMs: Math.round(median(startups)), idleRssMb: Math.round(median(rss) * 10) / 10, runs };
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('bench/process.ts')) {
  console.log(JSON.stringify(await benchProcess(), null, 2));
}
