import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../../deploy/journal.ts';
import { registerSecret, Secret } from '../../lib/secret.ts';

const dirs: string[] = [];
function tempJournal(): { journal: Journal; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'jarvis-journal-'));
  dirs.push(dir);
  const path = join(dir, 'apply.db');
  return { journal: Journal.open(path), path };
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('journal', () => {
  it('keeps intent → UPID → outcome per planHash:actionId across a reopen', () => {
    const { journal, path } = tempJournal();
    journal.beginAction('h1', 'p1', 'vm.create:100');
    journal.stepIntent('h1', 'vm.create:100', 'request:0', { method: 'POST', path: '/nodes/proxmox/qemu' });
    journal.stepUpid('h1', 'vm.create:100', 'request:0', 'UPID:proxmox:1');
    journal.close();

    const reopened = Journal.open(path);
    const step = reopened.steps('h1', 'vm.create:100').get('request:0');
    expect(step).toMatchObject({ phase: 'upid', upid: 'UPID:proxmox:1' });
    expect(reopened.actionRecord('h1', 'vm.create:100')?.status).toBe('running');
    reopened.stepOutcome('h1', 'vm.create:100', 'request:0', 'done', 'OK');
    reopened.finishAction('h1', 'vm.create:100', 'done', 'created', 'digest-after');
    expect(reopened.actionRecord('h1', 'vm.create:100')).toMatchObject({ status: 'done', postFingerprint: '"digest-after"' });
    expect(reopened.actionRecord('h2', 'vm.create:100')).toBeUndefined();
    reopened.close();
  });

  it('chains audit entries and verifies an untouched chain', () => {
    const { journal } = tempJournal();
    journal.audit({ kind: 'plan.saved', planId: 'p1', planHash: 'h1', actor: 'discord:1', data: { phase: 'phase0' } });
    journal.audit({ kind: 'approval', planId: 'p1', planHash: 'h1', actor: 'discord:2', data: { risk: 'high' } });
    journal.audit({ kind: 'apply.finished', planId: 'p1', planHash: 'h1', data: { status: 'applied' } });
    const entries = journal.auditEntries({ planId: 'p1' });
    expect(entries.map((e) => e.kind)).toEqual(['plan.saved', 'approval', 'apply.finished']);
    expect(entries[1]?.prevHash).toBe(entries[0]?.hash);
    expect(journal.verifyAuditChain()).toEqual({ ok: true, entries: 3 });
  });

  it('detects an edited, a deleted and a truncated audit entry', () => {
    const edit = tempJournal().journal;
    for (const n of [1, 2, 3]) edit.audit({ kind: 'action.result', data: { n } });
    edit.db.prepare("UPDATE audit SET data = '{\"n\":20}' WHERE seq = 2").run();
    expect(edit.verifyAuditChain()).toMatchObject({ ok: false, brokenAt: 2, reason: expect.stringContaining('modified') });

    const removed = tempJournal().journal;
    for (const n of [1, 2, 3]) removed.audit({ kind: 'action.result', data: { n } });
    removed.db.prepare('DELETE FROM audit WHERE seq = 2').run();
    expect(removed.verifyAuditChain()).toMatchObject({ ok: false, brokenAt: 3 });

    const cut = tempJournal().journal;
    for (const n of [1, 2, 3]) cut.audit({ kind: 'action.result', data: { n } });
    cut.db.prepare('DELETE FROM audit WHERE seq = 3').run();
    expect(cut.verifyAuditChain()).toMatchObject({ ok: false, reason: expect.stringContaining('head') });
  });

  it('never writes a secret value, whatever field it arrives in', () => {
    const canary = registerSecret(new Secret('canary-journal-7f3a9c'));
    const { journal, path } = tempJournal();
    journal.beginAction('h', 'p', 'a');
    journal.stepIntent('h', 'a', 'request:0', { params: { password: 'plain-password-1', note: `x ${canary.reveal()} y`, secret: canary } });
    journal.stepOutcome('h', 'a', 'request:0', 'failed', `error mentioning ${canary.reveal()}`);
    journal.finishAction('h', 'a', 'failed', `failed with ${canary.reveal()}`);
    journal.audit({ kind: 'action.result', actor: `user ${canary.reveal()}`, data: { detail: canary.reveal(), token: 'tok-abc-123' } });
    journal.db.pragma('wal_checkpoint(TRUNCATE)');
    journal.close();
    const bytes = readFileSync(path).toString('latin1');
    expect(bytes).not.toContain('canary-journal-7f3a9c');
    expect(bytes).not.toContain('plain-password-1');
    expect(bytes).not.toContain('tok-abc-123');
    expect(bytes).toContain('[redacted]');
  });
});
