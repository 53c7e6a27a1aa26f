// `jarvis check` of the canonical specs as a user runs it: the whole process (Node start-up, tsx, imports, checks),
// timed from spawn to exit. Runnable on its own: `node bin/run-ts.js bench/check.ts` prints the figures as JSON.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function benchCheck(runs = 15): Promise<{ checkWallMsMedian: number; runs: number }> {
  const times: number[] = [];
  // One unmeasured run warms tsx's transform cache, as any second invocation by a user would.
  for (let i = 0; i <= runs; i++) {
    const started = performance.now();
    // The simulated node's site: the shipped specs/site.yaml holds placeholders, which `check` names (exit 1).
    const result = spawnSync(process.execPath, ['bin/jarvis.js', 'check'], { cwd: root, encoding: 'utf8', env: { ...process.env, JARVIS_SITE_FILE: 'sim/site.yaml' } });
    const elapsed = performance.now() - started;
    if (result.status !== 0) throw new Error(`jarvis check exited ${result.status}: ${result.stdout}${result.stderr}`);
    if (i > 0) times.push(elapsed);
  }
  return { checkWallMsMedian: Math.round(median(times) * 10) / 10, runs };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(await benchCheck(), null, 2)}\n`);
}
