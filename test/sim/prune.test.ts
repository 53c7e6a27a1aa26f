import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from 'undici';
import type { SimVolume } from '../../sim/lab.ts';
import { backupsToPrune } from '../../sim/prune.ts';
import { startSim, type RunningSim } from '../../sim/server.ts';
import { agentFor, call, waitTask } from './helpers.ts';

const HOUR = 3600;
const volume = (ctime: number): SimVolume => ({ volid: `local:backup/vzdump-qemu-100-${ctime}.vma.zst`, vmid: 100, size: 1, format: 'vma.zst', content: 'backup', ctime });

describe('backupsToPrune', () => {
  // Local noon: retention periods follow the node's local calendar.
  const base = new Date(2026, 10, 20, 12).getTime() / 1000;
  const group = [0, 1, 24, 25, 48, 72, 96].map((hours) => volume(base - hours * HOUR));

  it('keeps everything with keep-all or without options', () => {
    expect(backupsToPrune(group, { 'keep-all': 1 })).toEqual([]);
    expect(backupsToPrune(group, {})).toEqual([]);
  });

  it('keeps the newest N with keep-last', () => {
    expect(backupsToPrune(group, { 'keep-last': 2 }).map((v) => v.ctime)).toEqual(group.slice(2).map((v) => v.ctime));
  });

  it('keeps the newest backup of each of the last N days', () => {
    const removed = backupsToPrune(group, { 'keep-daily': 3 });
    // Days: today (0h, 1h), yesterday (24h, 25h), two days ago (48h): the newest of each stays.
    expect(removed.map((v) => (base - v.ctime) / HOUR)).toEqual([1, 25, 72, 96]);
  });

  it('does not spend a daily slot on a day keep-last already covers', () => {
    const removed = backupsToPrune(group, { 'keep-last': 1, 'keep-daily': 2 });
    expect(removed.map((v) => (base - v.ctime) / HOUR)).toEqual([1, 25, 72, 96]);
  });
});

describe('vzdump retention', () => {
  let sim: RunningSim;
  let agent: Agent;
  beforeAll(async () => {
    sim = await startSim({ scenario: 'phase0', taskSeconds: 0.02 });
    agent = agentFor(sim);
  });
  afterAll(async () => {
    await agent.close();
    await sim.close();
  });

  it('prunes the VM\'s older archives on the target storage after a run', async () => {
    for (let i = 0; i < 3; i++) {
      const run = await call(sim, agent, 'POST', '/nodes/proxmox/vzdump', { vmid: '100', storage: 'local', compress: 'zstd', 'prune-backups': 'keep-last=2' });
      expect(await waitTask(sim, agent, run.body.data)).toMatchObject({ exitstatus: 'OK' });
    }
    const archives = sim.lab.volumes.filter((v) => v.content === 'backup' && v.vmid === 100);
    expect(archives).toHaveLength(2);
    const last = sim.lab.tasks.tasks.filter((t) => t.type === 'vzdump').at(-1)!;
    expect(last.log).toContain('INFO: pruned 1 backup(s) not covered by keep-retention policy');
  });
});
