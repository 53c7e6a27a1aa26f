// Faults against `jarvis sim` as a separate process: a task that fails stops the apply with its log tail and what to do
// next; random 5xx answers are retried on reads and never on writes, and re-running converges without a double write.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyDbPath } from '../../deploy/db.ts';
import { Journal } from '../../deploy/journal.ts';
import { readLockHolder } from '../../deploy/lock.ts';
import type { ApplyReport } from '../../deploy/types.ts';
import type { Plan } from '../../planner/plan.ts';
import { planAgainst, savePlan, startApply, startSimProcess } from './support/processes.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(faults: string[]) {
  const dataDir = mkdtempSync(join(tmpdir(), 'jarvis-faults-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const requestLog = join(dataDir, 'sim-requests.jsonl');
  const sim = await startSimProcess(['--scenario', 'phase1', '--task-seconds', '0.3', '--seed', '4', '--request-log', requestLog, ...faults.flatMap((f) => ['--fault', f])]);
  cleanups.push(() => sim.stop());
  return { sim, dataDir, requestLog };
}

const writes = (file: string): Array<{ method: string; path: string; params: Record<string, string>; status: number }> =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
    .filter((r) => r.method !== 'GET');

describe('jarvis apply under simulator faults', () => {
  it('stops at a failing task with its log tail, a rollback hint and the command to resume; the lock is released', async () => {
    const { sim, dataDir } = await setup(['task-fail:qmstart']);
    const plan = await planAgainst(sim.env, 'phase2', 'p2-taskfail');
    savePlan(dataDir, plan);
    const run = startApply([plan.id, '--yes', '--json'], sim.env, dataDir);
    expect((await run.exit).code).toBe(3);
    const report = JSON.parse(run.stdout()) as ApplyReport;
    const failed = report.actions.find((a) => a.outcome === 'failed');
    expect(failed?.actionId).toBe('vm.start:150');
    expect(failed?.logTail.length).toBeGreaterThan(0);
    expect(run.stderr()).toContain('✗ vm.start:150');
    expect(report.next).toContain(`resume after fixing the cause: jarvis apply ${plan.id} --yes (finished actions are skipped)`);
    expect(report.next.some((line) => line.startsWith('to undo vm.create:150: '))).toBe(true);
    const journal = Journal.open(applyDbPath(dataDir));
    cleanups.push(() => journal.close());
    expect(readLockHolder(journal)).toBeUndefined();
    expect(journal.verifyAuditChain().ok).toBe(true);
  }, 120_000);

  it('converges through random 5xx answers without ever sending a write twice', async () => {
    // Seed 4 fails, among others, the read-back of a step's result (its guest facts probe) after the step changed the
    // tailnet, and two later writes; faults are drawn per request, so this is the same on any machine.
    const { sim, dataDir, requestLog } = await setup(['5xx:0.04']);
    let plan: Plan | undefined;
    // Planning reads are retried by the client; a plan is still made in a few attempts at most.
    for (let attempt = 0; attempt < 5 && !plan; attempt++) plan = await planAgainst(sim.env, 'phase2', 'p2-5xx').catch(() => undefined);
    expect(plan).toBeDefined();
    savePlan(dataDir, plan!);
    const runs: Array<{ code: number | null; stdout: string; stderr: string }> = [];
    for (let attempt = 0; attempt < 15 && runs.at(-1)?.code !== 0; attempt++) {
      const run = startApply([plan!.id, '--yes'], sim.env, dataDir);
      runs.push({ code: (await run.exit).code, stdout: run.stdout(), stderr: run.stderr() });
    }
    expect(runs.at(-1)?.code).toBe(0);
    expect(runs.length).toBeGreaterThan(1);
    // Every stop is one injected 500 on a write (or on what a step reads back), named, with the way to resume; a
    // read that failed is never taken for a change: no run is refused as stale.
    for (const run of runs.slice(0, -1)) {
      expect(run.code, run.stderr).toBe(3);
      expect(run.stderr).toMatch(/^✗ \S+: .*simulated server error \(fault injection\)/m);
      expect(run.stdout).toContain(`resume after fixing the cause: jarvis apply ${plan!.id} --yes`);
    }
    for (const run of runs) expect(`${run.stdout}${run.stderr}`).not.toMatch(/stale/i);
    const accepted = writes(requestLog).filter((r) => r.status < 400);
    const seen = new Set<string>();
    // The guest agent's exec and ping are POSTs that also carry read-only probes (facts, health, waiting for a guest
    // to boot), which every scan, validation and agent wait sends again by design.
    for (const write of accepted.filter((r) => r.method === 'POST' && !r.path.endsWith('/vzdump') && !/\/agent\/(exec|ping)$/.test(r.path))) {
      const key = `${write.method} ${write.path} ${JSON.stringify(write.params)}`;
      expect(seen.has(key), `sent twice: ${key}`).toBe(false);
      seen.add(key);
    }
    expect(accepted.filter((r) => r.path === '/nodes/proxmox/qemu' && r.params.vmid === '150')).toHaveLength(1);
  }, 240_000);
});
