import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../cli/commands/apply.ts';
import { main } from '../../cli/main.ts';
import { loadPlanById, loadPlanFile, parsePlan, planPath, planReference, TamperedPlanError } from '../../deploy/plan-file.ts';
import { computePlanHash } from '../../planner/artifact.ts';
import type { ApplyReport } from '../../deploy/types.ts';
import { InputError } from '../../lib/errors.ts';
import type { Plan } from '../../planner/plan.ts';
import { action, plan, vmCreateAction } from './support/plans.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function sealed(p: Plan): Plan {
  return { ...p, planHash: computePlanHash(p) };
}

describe('plan files', () => {
  const good = sealed(plan([vmCreateAction(100), action('vm.start:100', { targetKey: 'vm/100', dependsOn: ['vm.create:100'] })]));

  it('loads a plan by id from the data dir and by file path', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'jarvis-plans-'));
    dirs.push(dataDir);
    mkdirSync(join(dataDir, 'plans'));
    writeFileSync(join(dataDir, 'plans', `${good.id}.json`), JSON.stringify(good));
    expect((await loadPlanById(good.id, dataDir)).actions).toHaveLength(2);
    expect((await loadPlanFile(join(dataDir, 'plans', `${good.id}.json`))).id).toBe(good.id);
    await expect(loadPlanById('no-such-plan', dataDir)).rejects.toThrow(/cannot read plan .*no-such-plan\.json: no such plan/);
    // A file saved under another plan's name is not that plan.
    writeFileSync(join(dataDir, 'plans', 'other.json'), JSON.stringify(good));
    await expect(loadPlanById('other', dataDir)).rejects.toThrow(/holds plan .*, not other/);
  });

  it('never turns a plan id into a path: dots, slashes and .json are not ids', async () => {
    expect(() => planPath('..', '/data')).toThrow(InputError);
    expect(planPath('p-1', '/data')).toBe('/data/plans/p-1.json');
    const cwd = mkdtempSync(join(tmpdir(), 'jarvis-cwd-'));
    dirs.push(cwd);
    // A plan file in the working directory, named like an id + .json: chat must not find it.
    writeFileSync(join(cwd, 'p-1.json'), JSON.stringify(good));
    const previous = process.cwd();
    process.chdir(cwd);
    try {
      await expect(loadPlanById('p-1.json', '/nonexistent-data')).rejects.toThrow(/"p-1\.json" is not a plan id/);
      await expect(loadPlanById('../p-1', '/nonexistent-data')).rejects.toThrow(InputError);
    } finally {
      process.chdir(previous);
    }
    expect(planReference('plan-20261126-1a2b3c4d')).toEqual({ id: 'plan-20261126-1a2b3c4d' });
    expect(planReference('p-1.json')).toEqual({ file: 'p-1.json' });
    expect(planReference('./p-1')).toEqual({ file: './p-1' });
    expect(() => planReference('p 1')).toThrow(/neither a plan id .* nor a \.json file/);
  });

  it('reads only regular files, with a hard byte limit (/dev/zero is refused at once)', async () => {
    await expect(loadPlanFile('/dev/zero')).rejects.toThrow(/cannot read plan \/dev\/zero: is a character device/);
    await expect(loadPlanFile('/proc/self')).rejects.toThrow(/is a directory/);
    const dir = mkdtempSync(join(tmpdir(), 'jarvis-big-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'big.json'), Buffer.alloc(10 * 1024 * 1024 + 1, 0x20));
    await expect(loadPlanFile(join(dir, 'big.json'))).rejects.toThrow(/larger than 10 MB/);
  });

  it('refuses garbled JSON and a wrong shape, naming the field', () => {
    expect(() => parsePlan('{"id": ', 'x.json')).toThrow(/x\.json: not a plan: the JSON does not parse/);
    const wrong = { ...good, actions: [{ ...good.actions[0], params: { channel: 'pve', requests: [{ method: 'GET', path: '/x', params: {}, async: false }] } }] };
    expect(() => parsePlan(JSON.stringify(wrong), 'x.json')).toThrow(/actions\.0\.params\.requests\.0\.method/);
  });

  it('hashes what decides approval and apply: stripped violations or a lowered max risk no longer match', () => {
    const refused = sealed({ ...good, violations: [{ ruleId: 'firewall.lockout', message: 'cuts management off', actionId: 'vm.create:100' }] });
    const stripped = { ...refused, violations: [] };
    expect(() => parsePlan(JSON.stringify(stripped), 's.json')).toThrow(TamperedPlanError);
    const lowered = { ...good, summary: { ...good.summary, maxRisk: 'none' } };
    expect(() => parsePlan(JSON.stringify(lowered), 'l.json')).toThrow(TamperedPlanError);
    const quieter = { ...good, warnings: [...good.warnings, { code: 'x', message: 'added after' }] };
    expect(() => parsePlan(JSON.stringify(quieter), 'w.json')).toThrow(TamperedPlanError);
    // Id, time and requester are not in planHash (same spec + same lab = same hash); the approval store binds them.
    expect(parsePlan(JSON.stringify({ ...good, requestedBy: 'discord:1' }), 'r.json').planHash).toBe(good.planHash);
  });

  it('refuses a plan whose content no longer matches its hash', () => {
    expect(parsePlan(JSON.stringify(good), 'ok.json').planHash).toBe(good.planHash);
    const tampered = { ...good, actions: [{ ...good.actions[0], params: { channel: 'pve', requests: [{ method: 'DELETE', path: '/nodes/proxmox/qemu/100', params: {}, async: true }] } }, good.actions[1]] };
    expect(() => parsePlan(JSON.stringify(tampered), 't.json')).toThrow(TamperedPlanError);
    expect(() => parsePlan(JSON.stringify(tampered), 't.json')).toThrow(/changed after it was made/);
  });
});

describe('jarvis apply command line', () => {
  const io = () => {
    const out = { stdout: '', stderr: '' };
    return { out, io: { stdout: (t: string) => (out.stdout += t), stderr: (t: string) => (out.stderr += t), env: { JARVIS_DATA_DIR: '/nonexistent-jarvis' }, cwd: process.cwd() } };
  };

  it('prints help, and refuses unknown options and a missing plan with exit 2', async () => {
    const help = io();
    expect(await main(['apply', '--help'], help.io)).toBe(0);
    expect(help.out.stdout).toContain('--dry-run');
    const unknown = io();
    expect(await main(['apply', 'p1', '--force'], unknown.io)).toBe(2);
    expect(unknown.out.stderr).toContain('unknown option "--force"');
    const missing = io();
    expect(await main(['apply', 'p1', '--yes'], missing.io)).toBe(2);
    expect(missing.out.stderr).toContain('no such plan');
    const device = io();
    expect(await main(['apply', '/dev/zero', '--yes'], device.io)).toBe(2);
    expect(device.out.stderr).toContain('is a character device');
  });

  it('maps report statuses to the documented exit codes', () => {
    const base: ApplyReport = { planId: 'p', planHash: 'h', status: 'applied', actions: [], snapshots: [], next: [] };
    expect(exitCodeOf(base)).toBe(0);
    expect(exitCodeOf({ ...base, status: 'refused' })).toBe(1);
    expect(exitCodeOf({ ...base, status: 'failed' })).toBe(3);
    expect(exitCodeOf({ ...base, status: 'unreachable' })).toBe(4);
    expect(exitCodeOf({ ...base, status: 'dry-run', dryRun: { actions: [], schemaErrors: 0 } })).toBe(0);
    expect(exitCodeOf({ ...base, status: 'dry-run', dryRun: { actions: [], schemaErrors: 2 } })).toBe(1);
  });
});
