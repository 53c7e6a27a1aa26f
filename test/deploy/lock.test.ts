import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { Journal } from '../../deploy/journal.ts';
import { acquireApplyLock, freeze, freezeState, readLockHolder, unfreeze } from '../../deploy/lock.ts';

const now = () => Date.parse('2026-11-26T01:00:00Z');

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('apply lock', () => {
  it('refuses a second apply and names the holder, the plan and since when', () => {
    const journal = Journal.open(':memory:');
    const first = acquireApplyLock(journal, { who: 'discord:owner', planId: 'plan-a', now });
    expect(first.acquired).toBe(true);
    const second = acquireApplyLock(journal, { who: 'cli:admin', planId: 'plan-b', now });
    expect(second.acquired).toBe(false);
    if (second.acquired) return;
    expect(second.message).toContain('discord:owner');
    expect(second.message).toContain('plan-a');
    expect(second.message).toContain('2026-11-26T01:00:00.000Z');
    expect(second.message).toContain(`pid ${process.pid}`);
    if (first.acquired) first.lock.release();
    expect(readLockHolder(journal)).toBeUndefined();
    expect(acquireApplyLock(journal, { who: 'cli:admin', planId: 'plan-b', now }).acquired).toBe(true);
  });

  it('recovers a lock whose holder process is dead, and audits it', () => {
    const journal = Journal.open(':memory:');
    const pid = deadPid();
    journal.db
      .prepare('INSERT INTO apply_lock (id, pid, host, who, plan_id, since, proc_start) VALUES (1, ?, ?, ?, ?, ?, NULL)')
      .run(pid, hostname(), 'cli:crashed', 'plan-old', '2026-11-25T00:00:00.000Z');
    const attempt = acquireApplyLock(journal, { who: 'cli:admin', planId: 'plan-new', now });
    expect(attempt.acquired).toBe(true);
    if (!attempt.acquired) return;
    expect(attempt.recoveredFrom).toMatchObject({ pid, planId: 'plan-old' });
    expect(readLockHolder(journal)).toMatchObject({ pid: process.pid, planId: 'plan-new' });
    expect(journal.auditEntries().map((e) => e.kind)).toContain('lock.recovered');
  });

  it('does not mistake a reused pid for the holder', () => {
    const journal = Journal.open(':memory:');
    journal.db
      .prepare('INSERT INTO apply_lock (id, pid, host, who, plan_id, since, proc_start) VALUES (1, ?, ?, ?, ?, ?, ?)')
      .run(process.pid, hostname(), 'cli:old', 'plan-old', '2026-11-25T00:00:00.000Z', 'not-this-start-time');
    expect(acquireApplyLock(journal, { who: 'cli:admin', planId: 'plan-new', now }).acquired).toBe(true);
  });

  it('keeps a lock held on another host (its pid cannot be checked from here)', () => {
    const journal = Journal.open(':memory:');
    journal.db
      .prepare('INSERT INTO apply_lock (id, pid, host, who, plan_id, since, proc_start) VALUES (1, 1, ?, ?, ?, ?, NULL)')
      .run('other-host.invalid', 'chat:bot', 'plan-x', '2026-11-25T00:00:00.000Z');
    const attempt = acquireApplyLock(journal, { who: 'cli:admin', planId: 'plan-new', now });
    expect(attempt.acquired).toBe(false);
    if (!attempt.acquired) expect(attempt.message).toContain('other-host.invalid');
  });

  it('freezes and unfreezes with who and why, audited', () => {
    const journal = Journal.open(':memory:');
    expect(freezeState(journal)).toBeUndefined();
    freeze(journal, 'discord:owner', 'holiday', now);
    expect(freezeState(journal)).toMatchObject({ who: 'discord:owner', why: 'holiday' });
    expect(unfreeze(journal, 'discord:owner')?.why).toBe('holiday');
    expect(freezeState(journal)).toBeUndefined();
    expect(journal.auditEntries().map((e) => e.kind)).toEqual(['freeze.on', 'freeze.off']);
    expect(journal.verifyAuditChain().ok).toBe(true);
  });
});
