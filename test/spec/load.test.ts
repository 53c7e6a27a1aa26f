import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../lib/errors.ts';
import { formatDiagnostic } from '../../planner/spec/diagnostic.ts';
import { loadSpec, MAX_SPEC_BYTES, parseSpecBytes, readSpecFile } from '../../planner/spec/load.ts';
import { lineOf, NAS, REFERENCE } from './helpers.ts';
import { SIM_SITE, SIM_SITE_FILE } from '../support/site.ts';

const dir = mkdtempSync(join(tmpdir(), 'jarvis-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const errorsOf = (text: string) => {
  const result = parseSpecBytes(Buffer.from(text), 'bad.yaml', SIM_SITE);
  if (result.ok) throw new Error('expected the spec to be refused');
  return result.errors;
};

describe('readSpecFile', () => {
  it('loads a canonical spec with its hash and a locator', async () => {
    writeFileSync(join(dir, 'nas.yaml'), NAS);
    copyFileSync(SIM_SITE_FILE, join(dir, 'site.yaml'));
    const ok = await readSpecFile(join(dir, 'nas.yaml'), 'nas.yaml');
    if (!ok.ok) throw new Error('nas spec must load');
    expect(ok.loaded.spec.vms.map((vm) => vm.vmid)).toEqual([100, 300, 400]);
    expect(ok.loaded.source.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(ok.loaded.source.locate(['vms', 1, 'memory']).line).toBe(lineOf(NAS, 'memory: 8192'));
  });
  it.each([
    ['a missing file', 'missing.yaml', undefined, /file not found/],
    ['an empty file', 'empty.yaml', '', /file is empty/],
    ['a comments-only file', 'comments.yaml', '# nothing yet\n', /file is empty/],
    ['a binary file', 'binary.yaml', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]), /binary/],
    ['invalid UTF-8', 'latin1.yaml', Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]), /UTF-8/],
    ['a directory', 'adir', 'dir', /directory/],
  ])('refuses %s with a located message', async (_what, name, content, why) => {
    const path = join(dir, name);
    if (content === 'dir') (await import('node:fs')).mkdirSync(path);
    else if (content !== undefined) writeFileSync(path, content);
    const result = await readSpecFile(path, name);
    if (result.ok) throw new Error('must be refused');
    expect(result.errors[0]!.message).toMatch(why);
    expect(formatDiagnostic(result.errors[0]!)).toMatch(new RegExp(`^${name}:1:1: error \\[input\\.\\w+\\] `));
  });
  it('refuses a file of 5 MB or more without parsing it', async () => {
    const path = join(dir, 'huge.yaml');
    writeFileSync(path, Buffer.alloc(MAX_SPEC_BYTES, 0x20));
    const result = await readSpecFile(path, 'huge.yaml');
    expect(result.ok ? '' : result.errors[0]!.message).toMatch(/5 MB or more.*smaller than 5 MB/);
  });
  it.each([
    ['/dev/zero', /character device/],
    ['/dev/null', /character device/],
    ['/proc/self', /directory/],
  ])('refuses %s at once: only regular files are specs, read with a hard byte limit', async (path, why) => {
    const result = await readSpecFile(path);
    expect(result.ok ? '' : result.errors[0]!.message).toMatch(why);
  });
  it('refuses a named pipe without waiting for a writer', async () => {
    const fifo = join(dir, 'pipe.yaml');
    execFileSync('mkfifo', [fifo]);
    const result = await readSpecFile(fifo, 'pipe.yaml');
    expect(result.ok ? '' : result.errors[0]!.message).toMatch(/named pipe/);
  });
});

describe('parseSpecBytes', () => {
  it('locates YAML syntax errors', () => {
    const text = REFERENCE.replace('maxPhase: 2', 'maxPhase: [2');
    const [error] = errorsOf(text);
    expect(error!.ruleId).toBe('input.yaml');
    expect(error!.line).toBeGreaterThanOrEqual(lineOf(REFERENCE, 'maxPhase: 2'));
  });
  it('refuses duplicate keys at the second key', () => {
    const text = NAS.replace('    cores: 4\n', '    cores: 4\n    cores: 6\n');
    const [error] = errorsOf(text);
    expect(error).toMatchObject({ ruleId: 'input.duplicate-key', line: lineOf(text, 'cores: 6') });
  });
  it('names a misspelled key, its line and the likely fix', () => {
    const text = NAS.replace('    memory: 8192', '    memroy: 8192');
    const errors = errorsOf(text);
    const unknown = errors.find((e) => e.ruleId === 'input.unknown-key')!;
    expect(unknown).toMatchObject({ path: 'vms[1].memroy', line: lineOf(text, 'memroy'), col: 5 });
    expect(unknown.fix).toMatch(/did you mean "memory"/);
    expect(errors.find((e) => e.ruleId === 'input.missing')?.path).toBe('vms[1].memory');
  });
  it('names wrong types with the expected type', () => {
    const text = NAS.replace('    cores: 4', "    cores: 'four'");
    const [error] = errorsOf(text);
    expect(error).toMatchObject({ ruleId: 'input.type', path: 'vms[1].cores', line: lineOf(text, "cores: 'four'") });
    expect(error!.message).toMatch(/expected a number, got string "four"/);
  });
  it('names enum values that are allowed', () => {
    const text = NAS.replace('mode: snapshot', 'mode: live');
    const [error] = errorsOf(text);
    expect(error).toMatchObject({ ruleId: 'input.value', path: 'backups.jobs[0].mode' });
    expect(error!.fix).toMatch(/"snapshot", "suspend", "stop"/);
  });
  it('refuses duplicate VMIDs and names, pointing at the second and naming the first', () => {
    const text = NAS.replace('  - vmid: 300', '  - vmid: 100');
    const [error] = errorsOf(text);
    expect(error).toMatchObject({ ruleId: 'input.duplicate-vmid', path: 'vms[1].vmid', line: lineOf(text, 'name: app-host') - 1 });
    expect(error!.message).toMatch(new RegExp(`vms\\[0\\] \\(line ${lineOf(NAS, 'vmid: 100')}\\)`));
    const names = errorsOf(NAS.replace('name: app-host', 'name: edge-gateway'));
    expect(names[0]).toMatchObject({ ruleId: 'input.duplicate-name', path: 'vms[1].name' });
  });
  it('refuses a top level that is not a mapping, and a second document', () => {
    expect(errorsOf('- a\n- b\n')[0]!.message).toMatch(/top level must be a mapping/);
    expect(errorsOf(`${NAS}\n---\nfoo: 1\n`)[0]!.ruleId).toBe('input.yaml');
  });
});

describe('loadSpec', () => {
  it('throws an InputError listing the located problems, without a stack in the message', async () => {
    const path = join(dir, 'typo.yaml');
    writeFileSync(path, NAS.replace('maxPhase: 0', 'maxPhase: 7'));
    copyFileSync(SIM_SITE_FILE, join(dir, 'site.yaml'));
    const error = await loadSpec(path, { cwd: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).exitCode).toBe(2);
    expect((error as InputError).message).toMatch(new RegExp(`^typo\\.yaml:${lineOf(NAS, 'maxPhase: 0')}:\\d+: error \\[input\\.range\\] metadata\\.maxPhase: must be at most 2`));
    expect((error as InputError).message).not.toMatch(/\n\s+at /);
  });
});
