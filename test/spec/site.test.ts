// The site file: the owner's facts written once and read by the specs with `!site <name>`; placeholders are named by
// `jarvis check` and refuse the plans of the phase that needs them, and only those.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../planner/index.ts';
import { checkSpec } from '../../planner/spec/guardrails.ts';
import { loadSpec, parseSpecBytes, readSpecFile } from '../../planner/spec/load.ts';
import { parseSiteBytes } from '../../planner/spec/site.ts';
import { phase0State } from '../planner/fixtures.ts';
import { SIM_SITE, SIM_SITE_FILE } from '../support/site.ts';
import { lineOf, NAS, REFERENCE, ROOT } from './helpers.ts';

const SHIPPED = readFileSync(join(ROOT, 'specs/site.yaml'), 'utf8');
const shipped = (() => {
  const result = parseSiteBytes(Buffer.from(SHIPPED), 'specs/site.yaml');
  if (!result.ok) throw new Error('the shipped site must load');
  return result.loaded;
})();

function load(text: string, site = SIM_SITE) {
  const result = parseSpecBytes(Buffer.from(text), 'specs/x.yaml', site);
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('; '));
  return result.loaded;
}

describe('site values in the specs', () => {
  it('writes each fact once: the LAN, admin CIDRs, owner tag, disks and keys come from the site file', () => {
    const { spec } = load(REFERENCE);
    expect(spec.safetyGuards.managementAccessCidrs).toEqual(['192.168.1.0/24']);
    expect(spec.vms.every((vm) => vm.tags.includes('owner-loic'))).toBe(true);
    expect(spec.storage?.zfs?.pools[0]?.devices).toEqual(SIM_SITE.site.zfs.tankDisks);
    expect(spec.vms[0]?.cloudInit?.sshKeys).toEqual(SIM_SITE.site.sshKeys);
    expect(spec.backups?.jobs[0]?.schedule).toBe('02:30');
    for (const text of [REFERENCE, NAS]) expect(text).not.toMatch(/192\.168\.1\.0\/24|owner-loic|WDC_WD40/);
  });

  it('an edited site changes what the spec says and its sha256 (so earlier plans go stale)', () => {
    const site = parseSiteBytes(Buffer.from(readFileSync(SIM_SITE_FILE, 'utf8').replace('owner-loic', 'owner-ana')), 'site.yaml');
    if (!site.ok) throw new Error('must load');
    const before = load(NAS);
    const after = load(NAS, site.loaded);
    expect(after.spec.vms[0]?.tags).toContain('owner-ana');
    expect(after.source.sha256).not.toBe(before.source.sha256);
  });

  it('refuses an unknown name and a reference without a site, located in the spec', () => {
    const typo = NAS.replace('managementAccessCidrs: !site adminCidrs', 'managementAccessCidrs: !site adminCidr');
    const result = parseSpecBytes(Buffer.from(typo), 'specs/x.yaml', SIM_SITE);
    expect(result.ok ? [] : result.errors).toEqual([
      expect.objectContaining({ ruleId: 'site.reference', line: lineOf(typo, '!site adminCidr'), message: '!site adminCidr: no such site value', fix: expect.stringContaining('adminCidrs') }),
    ]);
    const none = parseSpecBytes(Buffer.from(NAS), 'specs/x.yaml');
    expect(none.ok ? [] : none.errors[0]).toMatchObject({ ruleId: 'site.reference', message: '!site adminCidrs, but the spec names no site file' });
  });

  it('reads the site file the spec names beside it, and refuses a missing one with what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jarvis-site-'));
    writeFileSync(join(dir, 'nas.yaml'), NAS);
    const missing = await readSpecFile(join(dir, 'nas.yaml'), 'nas.yaml');
    expect(missing.ok ? undefined : missing.errors[0]).toMatchObject({ ruleId: 'site.file', file: 'site.yaml', message: 'file not found', fix: expect.stringContaining('specs/site.yaml') });
    copyFileSync(SIM_SITE_FILE, join(dir, 'site.yaml'));
    expect((await readSpecFile(join(dir, 'nas.yaml'), 'nas.yaml')).ok).toBe(true);
    writeFileSync(join(dir, 'site.yaml'), readFileSync(SIM_SITE_FILE, 'utf8').replace('adminCidrs:\n  - 192.168.1.0/24', 'adminCidrs: 192.168.1.0/24'));
    const wrong = await readSpecFile(join(dir, 'nas.yaml'), 'nas.yaml');
    expect(wrong.ok ? undefined : wrong.errors[0]).toMatchObject({ ruleId: 'site.input', file: 'site.yaml', path: 'adminCidrs', line: 9 });
  });
});

describe('site.placeholder', () => {
  it('names each placeholder of the shipped site file the spec uses, located in the site file, with its phase', () => {
    const findings = checkSpec(load(REFERENCE, shipped)).filter((f) => f.ruleId === 'site.placeholder');
    expect(findings.map((f) => [f.path, f.file, f.line, f.fromPhase])).toEqual([
      ['sshKeys', 'specs/site.yaml', lineOf(SHIPPED, 'placeholder-REPLACE'), 0],
      ['zfs.tankDisks', 'specs/site.yaml', lineOf(SHIPPED, 'REPLACE-with-the-first-hdd'), 1],
    ]);
    // The bootstrap spec does not use the disks: only the keys are named.
    expect(checkSpec(load(NAS, shipped)).filter((f) => f.ruleId === 'site.placeholder').map((f) => f.path)).toEqual(['sshKeys']);
    expect(checkSpec(load(REFERENCE)).filter((f) => f.ruleId === 'site.placeholder')).toEqual([]);
  });

  it('refuses the plans of the phase that needs a placeholder, and no earlier phase', () => {
    const withKeys = parseSiteBytes(Buffer.from(SHIPPED.replace('placeholder-REPLACE-with-your-key', 'owner@laptop')), 'specs/site.yaml');
    if (!withKeys.ok) throw new Error('must load');
    const loaded = load(REFERENCE, withKeys.loaded);
    const plan = (phase: 'phase0' | 'phase1') =>
      buildPlan({ spec: loaded.spec, specPath: 'specs/x.yaml', specSha256: loaded.source.sha256, phase, state: phase0State(), specFindings: checkSpec(loaded), requestedBy: 't', now: new Date(0).toISOString(), id: 'p' });
    expect(plan('phase0').violations.filter((v) => v.ruleId === 'site.placeholder')).toEqual([]);
    expect(plan('phase1').violations).toContainEqual(expect.objectContaining({ ruleId: 'site.placeholder', location: `specs/site.yaml:${lineOf(SHIPPED, 'REPLACE-with-the-first-hdd')}:7` }));
  });

  it('JARVIS_SITE_FILE (the loader option) replaces the site the spec names', async () => {
    const loaded = await loadSpec(join(ROOT, 'specs/nas.desired.yaml'), { cwd: ROOT, site: SIM_SITE_FILE });
    expect(checkSpec(loaded).filter((f) => f.severity === 'error')).toEqual([]);
    const own = await loadSpec(join(ROOT, 'specs/nas.desired.yaml'), { cwd: ROOT });
    expect(checkSpec(own).map((f) => f.ruleId)).toContain('site.placeholder');
  });
});
