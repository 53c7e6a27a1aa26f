// Fuzzing the spec loader: random bytes, YAML-ish token soup and mutations of the canonical specs. Every input must
// give a result (never an exception), and a rejected one a located error each: `file:line:col: …`, no stack trace.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDiagnostic, type SpecDiagnostic } from '../../planner/spec/diagnostic.ts';
import { checkSpec } from '../../planner/spec/guardrails.ts';
import { parseSpecBytes, readSpecFile, type LoadResult } from '../../planner/spec/load.ts';
import { REPO_ROOT } from '../support/chat-lab.ts';
import { SIM_SITE, SIM_SITE_FILE } from '../support/site.ts';

const FILE = 'specs/fuzz.desired.yaml';
const CANONICAL = ['specs/nas.desired.yaml', 'specs/jarvis-homelab.desired.yaml', 'specs/preprod.firewall.desired.yaml'].map((path) =>
  readFileSync(join(REPO_ROOT, path), 'utf8'),
);
const encoder = new TextEncoder();
const STACK = /\n\s+at |\bat .+\.(ts|js):\d+/;

/** What a user sees for a rejected spec: each line names the file and a line within it, and nothing else leaks. */
function expectLocated(result: LoadResult, text: string): void {
  if (result.ok) {
    // A valid spec also goes through the guardrails, whose findings are located the same way.
    for (const finding of checkSpec(result.loaded)) expectDiagnostic(finding, text);
    return;
  }
  expect(result.errors.length).toBeGreaterThan(0);
  for (const error of result.errors) expectDiagnostic(error, text);
}

function expectDiagnostic(d: SpecDiagnostic, text: string): void {
  const lines = text.split('\n').length;
  const rendered = formatDiagnostic(d);
  if (d.file !== FILE || !Number.isInteger(d.line) || d.line < 1 || d.line > lines + 1 || !Number.isInteger(d.col) || d.col < 1) {
    throw new Error(`not located: ${rendered}`);
  }
  expect(rendered.startsWith(`${FILE}:${d.line}:${d.col}: `)).toBe(true);
  expect(d.message.length).toBeGreaterThan(0);
  expect(rendered).not.toMatch(STACK);
}

function check(bytes: Uint8Array): void {
  let result: LoadResult;
  try {
    result = parseSpecBytes(bytes, FILE, SIM_SITE);
  } catch (error) {
    throw new Error(`parseSpecBytes threw on ${JSON.stringify(new TextDecoder().decode(bytes).slice(0, 300))}: ${(error as Error).stack}`);
  }
  expectLocated(result, new TextDecoder().decode(bytes));
}

const TOKENS = [
  'apiVersion', 'kind', 'metadata', 'name', 'node', 'vms', 'vmid', 'tags', 'firewall', 'rules', 'storage', 'safetyGuards',
  ':', ': ', '- ', '-', '  ', '    ', '\t', '\n', '\r\n', '#', '"', "'", '|', '>', '{', '}', '[', ']', ',', '?', '!', '!!str ',
  '!!binary ', '&a ', '*a', '&b ', '*b', '<<: *a', '%YAML 1.2\n', '---\n', '...\n', '~', 'null', 'true', 'no', '0x1F', '1e9',
  '-.inf', '100', '999999999999999999999', '""', "''", '\\u0000', '\\', 'é', '🦊', '\u202e', '\ufeff', 'x'.repeat(200),
];
const yamlish = fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((parts) => parts.join(''));

type Mutation = (text: string, r: { pos: number; pos2: number; token: string }) => string;
const MUTATIONS: Mutation[] = [
  (t, r) => t.split('\n').filter((_, i, all) => i !== r.pos % all.length).join('\n'),
  (t, r) => t.split('\n').flatMap((line, i, all) => (i === r.pos % all.length ? [line, line] : [line])).join('\n'),
  (t, r) => {
    const lines = t.split('\n');
    const [a, b] = [r.pos % lines.length, r.pos2 % lines.length];
    [lines[a], lines[b]] = [lines[b] as string, lines[a] as string];
    return lines.join('\n');
  },
  (t, r) => t.slice(0, r.pos % (t.length + 1)) + r.token + t.slice(r.pos % (t.length + 1)),
  (t, r) => t.slice(0, r.pos % (t.length + 1)) + t.slice((r.pos % (t.length + 1)) + 1 + (r.pos2 % 8)),
  (t, r) => t.split('\n').map((line, i, all) => (i === r.pos % all.length ? `${' '.repeat(r.pos2 % 7)}${line.trimStart()}` : line)).join('\n'),
  (t, r) => t.slice(0, r.pos % (t.length + 1)),
  (t, r) => t.replace(/: [^\n]+/g, (m, offset: number) => (offset % 97 === r.pos % 97 ? `: ${r.token}` : m)),
];
const mutated = fc
  .tuple(
    fc.constantFrom(...CANONICAL),
    fc.array(fc.record({ kind: fc.nat(MUTATIONS.length - 1), pos: fc.nat(), pos2: fc.nat(), token: fc.constantFrom(...TOKENS) }), { minLength: 1, maxLength: 3 }),
  )
  .map(([text, steps]) => steps.reduce((t, step) => (MUTATIONS[step.kind] as Mutation)(t, step), text));

// Fixed, seeded work that only takes longer on a slower or busier machine: the timeout guards against a hang, nothing more.
const CPU_BOUND = { timeout: 180_000 };

describe('spec loader fuzz', CPU_BOUND, () => {
  it('accepts the canonical specs unchanged (the mutations start from valid input)', () => {
    for (const text of CANONICAL) expect(parseSpecBytes(encoder.encode(text), FILE, SIM_SITE).ok).toBe(true);
  });

  it('answers random bytes with a located error, never an exception', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), check), { numRuns: 1000, seed: 0x5eed });
  });

  it('answers YAML-ish token soup (anchors, aliases, tags, odd scalars) with a result or located errors', () => {
    fc.assert(fc.property(yamlish, (text) => check(encoder.encode(text))), { numRuns: 1500, seed: 0xa11a5 });
  });

  it('answers mutations of the canonical specs with a result or located errors', () => {
    fc.assert(fc.property(mutated, (text) => check(encoder.encode(text))), { numRuns: 1500, seed: 0xc0ffee });
  });

  it('locates an alias to a missing anchor and an alias bomb instead of throwing', () => {
    const unresolved = parseSpecBytes(encoder.encode('apiVersion: jarvis/v1\nkind: *spec\n'), FILE);
    expect(unresolved.ok ? [] : unresolved.errors.map(formatDiagnostic)).toEqual([
      `${FILE}:2:7: error [input.yaml] Unresolved alias (the anchor must be set before the alias): spec — fix: define the anchor &spec before this alias, or write the value out`,
    ]);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a]', 'c: [*b, *b, *b, *b, *b, *b, *b, *b]'].join('\n');
    const exploded = parseSpecBytes(encoder.encode(bomb), FILE);
    expect(exploded.ok ? [] : exploded.errors.map((e) => `${e.line}:${e.col} ${e.fix}`)).toEqual(['2:8 write the values out instead of nesting aliases']);
  });

  it('survives an alias bomb and a deeply nested document', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`)].join('\n');
    check(encoder.encode(bomb));
    check(encoder.encode(`${'['.repeat(2000)}${']'.repeat(2000)}`));
    check(encoder.encode(Array.from({ length: 300 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')));
  });

  describe('through readSpecFile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jarvis-fuzz-spec-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads mutated files from disk with the same guarantees', async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(mutated.map((t) => encoder.encode(t)), fc.uint8Array({ maxLength: 300 })), async (bytes) => {
          const path = join(dir, 'fuzz.desired.yaml');
          writeFileSync(path, bytes);
          expectLocated(await readSpecFile(path, FILE, { site: SIM_SITE_FILE }), new TextDecoder().decode(bytes));
        }),
        { numRuns: 150, seed: 7 },
      );
    });
  });
});
