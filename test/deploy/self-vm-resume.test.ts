// Jarvis's own VM rebooting under a running apply: the plan says Jarvis goes offline, the apply process dies with its
// VM (kill -9 while the reboot task runs), and a new process on the same data directory resumes from the journal:
// the reboot is followed by its UPID and the guest waited for, not rebooted twice, and the rest of the plan runs.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApplyReport } from '../../deploy/types.ts';
import { planAgainst, savePlan, startApply, startSimProcess, waitForJournal } from './support/processes.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('an apply that reboots Jarvis’s own VM', () => {
  it('is marked in the plan, and resumes in a new process after the reboot killed the old one', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'jarvis-self-vm-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const requestLog = join(dataDir, 'sim-requests.jsonl');
    // drifted: VM 300's memory was changed by hand; putting it back needs a reboot. Jarvis runs in 300 here.
    const sim = await startSimProcess(['--scenario', 'drifted', '--task-seconds', '0.4', '--request-log', requestLog]);
    cleanups.push(() => sim.stop());
    const env = { ...sim.env, JARVIS_SELF_VMID: '300' };
    const plan = await planAgainst(env, 'phase0', 'self-reboot', 'specs/nas.desired.yaml', { selfVmid: 300 });
    expect(plan.actions.map((a) => a.id)).toContain('vm.reboot:300');
    expect(plan.warnings.find((w) => w.code === 'jarvis-offline')?.message).toBe(
      'vm.reboot:300: Jarvis itself goes offline for ~30 s (its VM restarts: VM 300 is where Jarvis runs); the apply resumes from the journal after restart',
    );
    savePlan(dataDir, plan);

    // The reboot task is running (its UPID journaled) when Jarvis's process goes down with its VM.
    const first = startApply([plan.id, '--yes'], env, dataDir);
    await waitForJournal(dataDir, (j) => j.steps(plan.planHash, 'vm.reboot:300').get('request:0')?.phase === 'upid');
    first.child.kill('SIGKILL');
    expect((await first.exit).signal).toBe('SIGKILL');

    // Jarvis is back: the same data directory, a new process.
    const second = startApply([plan.id, '--yes', '--json'], env, dataDir);
    const { code } = await second.exit;
    expect(second.stderr()).toContain('recovered the apply lock');
    expect(code).toBe(0);
    const report = JSON.parse(second.stdout()) as ApplyReport;
    expect(report.status).toBe('applied');
    const reboot = report.actions.find((a) => a.actionId === 'vm.reboot:300');
    expect(reboot?.outcome).toBe('done');
    expect(reboot?.detail).toMatch(/guest agent answers/);
    const reboots = readFileSync(requestLog, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { method: string; path: string })
      .filter((r) => r.method === 'POST' && r.path === '/nodes/proxmox/qemu/300/status/reboot');
    expect(reboots).toHaveLength(1);
  }, 120_000);
});
