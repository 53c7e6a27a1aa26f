// The import rules of docs/architecture.md, enforced: the table there says what each folder may import; every
// import statement of every source file is checked against it. Also: no import cycle between source files, and no
// source file too long to read at once.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAX_SOURCE_LINES = 420;

interface Rule {
  /** Folders (`planner/`) or files (`planner/state.ts`) the folder may import. */
  allowed: Array<{ target: string; typesOnly: boolean }>;
  anything: boolean;
}

/** The "may import" column of docs/architecture.md, by folder. */
function rulesFromDoc(): Map<string, Rule> {
  const rules = new Map<string, Rule>();
  for (const line of readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8').split('\n')) {
    const row = /^\| `([a-z-]+)\/` \| .* \| ([^|]+) \|$/.exec(line);
    if (!row) continue;
    const cell = row[2]!.trim();
    const allowed = [...cell.matchAll(/`([^`]+)`( \(types\))?/g)].map((m) => ({ target: m[1]!, typesOnly: m[2] !== undefined }));
    rules.set(row[1]!, { allowed, anything: cell === 'anything' });
  }
  return rules;
}

function sourceFiles(dir = ROOT): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist', '.git'].includes(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(relative(ROOT, path));
  }
  return out.sort();
}

interface Import {
  file: string;
  line: number;
  /** Repository-relative path of the imported file. */
  target: string;
  typesOnly: boolean;
}

/** Every relative import of a file: static (import/export … from), side-effect and dynamic imports. */
function importsOf(file: string, text: string): Import[] {
  const out: Import[] = [];
  const add = (index: number, specifier: string, typesOnly: boolean): void => {
    if (!specifier.startsWith('.')) return;
    out.push({ file, line: text.slice(0, index).split('\n').length, target: relative(ROOT, resolve(ROOT, dirname(file), specifier)), typesOnly });
  };
  for (const m of text.matchAll(/^[ \t]*(import|export)\s+(type\s+)?([^;'"]*?)\s*from\s*['"]([^'"]+)['"]/gm)) {
    const names = m[3]!;
    const braced = /^\{([^}]*)\}$/.exec(names.trim());
    const everyNameIsAType = braced !== null && braced[1]!.split(',').map((n) => n.trim()).filter(Boolean).every((n) => n.startsWith('type '));
    add(m.index!, m[4]!, m[2] !== undefined || everyNameIsAType);
  }
  for (const m of text.matchAll(/^[ \t]*import\s+['"]([^'"]+)['"]/gm)) add(m.index!, m[1]!, false);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) add(m.index!, m[1]!, false);
  return out;
}

const topFolder = (path: string): string => path.split('/')[0]!;

describe('docs/architecture.md import rules', () => {
  const rules = rulesFromDoc();
  const files = sourceFiles();
  const texts = new Map(files.map((file) => [file, readFileSync(join(ROOT, file), 'utf8')]));

  it('has a rule for every folder that holds TypeScript', () => {
    expect(rules.get('lib')).toEqual({ allowed: [], anything: false });
    expect(rules.get('planner')?.allowed).toContainEqual({ target: 'infra/', typesOnly: true });
    const folders = new Set(files.filter((f) => f.includes('/')).map(topFolder));
    for (const folder of folders) expect(rules.has(folder), `docs/architecture.md has no row for ${folder}/`).toBe(true);
  });

  it('reads import statements the way TypeScript does', () => {
    const found = importsOf('app/x.ts', [
      "import type { A } from '../planner/plan.ts';",
      "import { type B, type C } from '../infra/shell.ts';",
      "import { D, type E } from './lab.ts';",
      'import {',
      '  F,',
      "} from '../bot/start-bot.ts';",
      "export { G } from '../monitor/status.ts';",
      "const sim = await import('../sim/server.ts');",
      "import 'node:fs';",
    ].join('\n'));
    expect(found.map((i) => [i.target, i.typesOnly, i.line])).toEqual([
      ['planner/plan.ts', true, 1],
      ['infra/shell.ts', true, 2],
      ['app/lab.ts', false, 3],
      ['bot/start-bot.ts', false, 4],
      ['monitor/status.ts', false, 7],
      ['sim/server.ts', false, 8],
    ]);
  });

  it('holds for every import of every source file', () => {
    const broken: string[] = [];
    for (const [file, text] of texts) {
      const rule = rules.get(topFolder(file));
      if (!rule || rule.anything) continue;
      for (const imp of importsOf(file, text)) {
        const folder = topFolder(imp.target);
        if (folder === topFolder(file)) continue;
        const ok = rule.allowed.some((a) => (a.target.endsWith('/') ? `${folder}/` === a.target : imp.target === a.target) && (!a.typesOnly || imp.typesOnly));
        if (!ok) broken.push(`${file}:${imp.line} imports ${imp.target}${imp.typesOnly ? ' (types)' : ''}; ${topFolder(file)}/ may import ${rule.allowed.map((a) => a.target + (a.typesOnly ? ' (types)' : '')).join(' ') || 'nothing'}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('leaves bot/ to its entry points: only cli/, scripts/, bench/ and the tests import it', () => {
    const importers = new Set<string>();
    for (const [file, text] of texts) {
      if (topFolder(file) === 'bot' || topFolder(file) === 'test') continue;
      for (const imp of importsOf(file, text)) if (topFolder(imp.target) === 'bot') importers.add(file);
    }
    expect([...importers].sort()).toEqual(['bench/chat.ts', 'cli/commands/bot.ts', 'cli/commands/demo.ts', 'cli/commands/register-discord.ts']);
  });

  it('has no import cycle between source files', () => {
    const graph = new Map<string, string[]>();
    for (const [file, text] of texts) if (topFolder(file) !== 'test') graph.set(file, importsOf(file, text).map((i) => i.target).filter((t) => graph.has(t) || texts.has(t)));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 'open');
      stack.push(file);
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' → '));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });

  it(`keeps every source file under ${MAX_SOURCE_LINES} lines (tests may be longer)`, () => {
    const long = [...texts].filter(([file]) => topFolder(file) !== 'test').map(([file, text]) => [file, text.split('\n').length] as const).filter(([, lines]) => lines > MAX_SOURCE_LINES);
    expect(long).toEqual([]);
  });
});
