import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyDbPath } from '../../deploy/db.ts';
import { Journal } from '../../deploy/journal.ts';
import { acquireApplyLock, freeze } from '../../deploy/lock.ts';
import { readGates } from '../../monitor/gates.ts';

const NOW = Date.parse('2026-11-25T08:00:00Z');
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'jarvis-gates-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const plan = (id: string, createdAt: string, actions: number) => ({
  id,
  phase: 'phase0',
  createdAt,
  summary: { maxRisk: 'medium' },
  actions: Array.from({ length: actions }, (_, i) => ({ id: `a${i}` })),
});

describe('readGates', () => {
  it('reads nothing and creates nothing in an empty data dir', () => {
    expect(readGates(dir, NOW, 30)).toEqual({ pendingPlans: [] });
    expect(existsSync(applyDbPath(dir))).toBe(false);
  });

  it('reports the apply lock, the freeze and plans younger than the approval TTL that apply has not started', () => {
    mkdirSync(join(dir, 'plans'));
    writeFileSync(join(dir, 'plans', 'p-new.json'), JSON.stringify(plan('p-new', '2026-11-25T07:50:00Z', 2)));
    writeFileSync(join(dir, 'plans', 'p-old.json'), JSON.stringify(plan('p-old', '2026-11-25T06:00:00Z', 2)));
    writeFileSync(join(dir, 'plans', 'p-empty.json'), JSON.stringify(plan('p-empty', '2026-11-25T07:55:00Z', 0)));
    writeFileSync(join(dir, 'plans', 'p-started.json'), JSON.stringify(plan('p-started', '2026-11-25T07:56:00Z', 1)));
    writeFileSync(join(dir, 'plans', 'broken.json'), '{');
    const journal = Journal.open(applyDbPath(dir), () => NOW);
    freeze(journal, 'discord:1234567', 'holidays', () => NOW);
    journal.audit({ kind: 'apply.started', planId: 'p-started', actor: 'discord:1234567', data: {} });
    const attempt = acquireApplyLock(journal, { who: 'discord:1234567', planId: 'p-started', now: () => NOW });
    expect(attempt.acquired).toBe(true);

    const gates = readGates(dir, NOW, 30);
    expect(gates.pendingPlans).toEqual([{ id: 'p-new', phase: 'phase0', createdAt: '2026-11-25T07:50:00Z', actions: 2, maxRisk: 'medium' }]);
    expect(gates.freeze).toEqual({ by: 'discord:1234567', since: '2026-11-25T08:00:00.000Z', reason: 'holidays' });
    expect(gates.lock).toMatchObject({ holder: 'discord:1234567', since: '2026-11-25T08:00:00.000Z', reason: expect.stringContaining('applying plan p-started') });
    journal.close();
  });
});
