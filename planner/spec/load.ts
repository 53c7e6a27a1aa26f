// Reads a spec file and validates it against the schema. Every problem comes back located (file:line:col), with the
// field path and how to fix it; nothing here throws on bad input except `loadSpec`, which wraps the same diagnostics
// in an InputError for callers that stop on bad input.
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { InputError } from '../../lib/errors.ts';
import { readRegularFile } from '../../lib/files.ts';
import { bootInputProblems } from './boot-input.ts';
import { formatDiagnostic, formatPath, type SpecDiagnostic, type SpecPath } from './diagnostic.ts';
import { specSchema, type Spec } from './schema.ts';
import { parseSiteBytes, placeholderFindings, SITE_NAMES, siteValue, type LoadedSite } from './site.ts';

export const MAX_SPEC_BYTES = 5 * 1024 * 1024;

export interface SpecLocation {
  line: number;
  col: number;
}

export interface SpecSource {
  /** The path as given (relative paths stay relative, so messages match what the user typed). */
  path: string;
  /** Of the spec's bytes, and of its site file's when it has one: a changed site makes earlier plans stale. */
  sha256: string;
  /** Position of the value at `path` (of its key when `key` is set, or when the value is a map/list). */
  locate(path: SpecPath, opts?: { key?: boolean }): SpecLocation;
}

export interface LoadedSpec {
  spec: Spec;
  source: SpecSource;
  /** The site file the `!site` references read, and the names used (their placeholders are findings). */
  site?: { loaded: LoadedSite; used: ReadonlySet<string> };
}

export interface ReadSpecOptions {
  /** A site file to use instead of the one the spec names (the demo's simulated node). */
  site?: string;
}

export type LoadResult = { ok: true; loaded: LoadedSpec } | { ok: false; errors: SpecDiagnostic[] };

const fileError = (file: string, message: string, fix: string, ruleId = 'input.file'): LoadResult => ({
  ok: false,
  errors: [{ severity: 'error', ruleId, file, line: 1, col: 1, path: '', message, fix }],
});

/** Reads and validates one spec file. `displayPath` is how messages name it (default: the path as given). */
export async function readSpecFile(path: string, displayPath = path, opts: ReadSpecOptions = {}): Promise<LoadResult> {
  const read = await readRegularFile(path, MAX_SPEC_BYTES - 1);
  if (!read.ok) return readProblem(read, displayPath);
  const named = opts.site === undefined ? siteKeyOf(read.bytes) : undefined;
  if (opts.site === undefined && named === undefined) return parseSpecBytes(read.bytes, displayPath);
  const sitePath = opts.site ?? (isAbsolute(named!) ? named! : join(dirname(path), named!));
  const siteDisplay = opts.site ?? (isAbsolute(named!) ? named! : join(dirname(displayPath), named!));
  const site = await readSiteFile(sitePath, siteDisplay);
  if (!site.ok) return site;
  return parseSpecBytes(read.bytes, displayPath, site.loaded);
}

/** The spec files of a directory (*.yaml but the site file, `kind: Site`), sorted; throws when it cannot be read. */
export async function specFilesIn(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  const specs: string[] = [];
  for (const name of names) {
    const head = await readRegularFile(join(dir, name), MAX_SPEC_BYTES - 1);
    if (head.ok && /^kind:\s*Site\s*$/m.test(Buffer.from(head.bytes).toString('utf8'))) continue;
    specs.push(join(dir, name));
  }
  return specs;
}

/** The spec's own `site:` value, read before the spec is validated (the site's values are needed for that). */
function siteKeyOf(bytes: Uint8Array): string | undefined {
  try {
    const value: unknown = parseDocument(Buffer.from(bytes).toString('utf8'), { logLevel: 'silent' }).get('site');
    return typeof value === 'string' && value.length > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

async function readSiteFile(path: string, display: string): Promise<{ ok: true; loaded: LoadedSite } | { ok: false; errors: SpecDiagnostic[] }> {
  const read = await readRegularFile(path, MAX_SPEC_BYTES - 1);
  if (!read.ok) {
    const result = readProblem(read, display) as { ok: false; errors: SpecDiagnostic[] };
    return { ok: false, errors: result.errors.map((e) => ({ ...e, ruleId: 'site.file', fix: read.problem === 'not-found' ? 'create it from specs/site.yaml, or correct the spec\'s `site:` (or JARVIS_SITE_FILE)' : e.fix })) };
  }
  return parseSiteBytes(read.bytes, display);
}

function readProblem(read: Exclude<Awaited<ReturnType<typeof readRegularFile>>, { ok: true }>, displayPath: string): LoadResult {
  switch (read.problem) {
    case 'not-found':
      return fileError(displayPath, 'file not found', 'check the path (specs live in specs/*.yaml)');
    case 'not-regular':
      return fileError(displayPath, read.message, 'name a .yaml file');
    case 'too-large':
      return fileError(displayPath, 'file is 5 MB or more; a spec must be smaller than 5 MB', 'point at the YAML spec, not a data file');
    case 'unreadable':
      return fileError(displayPath, read.message, 'check its permissions');
  }
}

/** Validates spec content already in memory (tests, chat uploads), with the site its `!site` references read. */
export function parseSpecBytes(bytes: Uint8Array, file: string, site?: LoadedSite): LoadResult {
  if (bytes.includes(0)) return fileError(file, 'file is binary (contains NUL bytes), not YAML text', 'point at the YAML spec');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fileError(file, 'file is not UTF-8 text', 'save the spec as UTF-8');
  }
  const hash = createHash('sha256').update(bytes);
  if (site) hash.update('\0site\0').update(site.bytes);
  const sha256 = hash.digest('hex');
  const lineCounter = new LineCounter();
  // logLevel error: yaml's own warnings (e.g. collection keys) must not reach stderr; the strict schema rejects such keys.
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true, logLevel: 'error' });
  const source = makeSource(file, sha256, doc, lineCounter);
  const diagnostics: SpecDiagnostic[] = [];
  for (const error of doc.errors) {
    const pos = error.linePos?.[0] ?? { line: 1, col: 1 };
    const duplicate = error.code === 'DUPLICATE_KEY';
    diagnostics.push({
      severity: 'error',
      ruleId: duplicate ? 'input.duplicate-key' : 'input.yaml',
      file,
      line: pos.line,
      col: pos.col,
      path: '',
      message: firstLine(error.message),
      fix: duplicate ? 'keep one of the two keys (YAML maps cannot repeat a key)' : 'fix the YAML syntax at this position',
    });
  }
  if (diagnostics.length > 0) return { ok: false, errors: diagnostics };
  if (doc.contents === null || (isScalar(doc.contents) && (doc.contents.value === null || doc.contents.value === ''))) {
    return fileError(file, 'file is empty', 'start from specs/nas.desired.yaml (apiVersion, kind, metadata, node, safetyGuards…)', 'input.empty');
  }
  if (!isMap(doc.contents)) {
    return fileError(file, 'the top level must be a mapping (apiVersion, kind, metadata, …)', 'start from specs/nas.desired.yaml', 'input.schema');
  }
  const references = siteReferences(doc);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 50 });
  } catch (error) {
    // yaml throws here (it does not report): an alias to an anchor defined later or never, or aliases that expand
    // past maxAliasCount (an "alias bomb").
    return { ok: false, errors: [aliasDiagnostic(file, doc, lineCounter, error)] };
  }
  const substituted = substituteSite(data, references, site, file, source);
  if (!substituted.ok) return substituted;
  const parsed = specSchema.safeParse(data);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) diagnostics.push(...issueDiagnostics(issue, data, source));
    return { ok: false, errors: diagnostics };
  }
  diagnostics.push(...duplicateVms(parsed.data, source), ...bootInputProblems(parsed.data, source));
  if (diagnostics.length > 0) return { ok: false, errors: diagnostics };
  const used = new Set(references.map((r) => r.name));
  return { ok: true, loaded: { spec: parsed.data, source, ...(site && used.size > 0 ? { site: { loaded: site, used } } : {}) } };
}

interface SiteReference {
  name: string;
  path: Array<string | number>;
}

/** Every `!site <name>` scalar of the document, with its path. */
function siteReferences(doc: Document): SiteReference[] {
  const found: SiteReference[] = [];
  const walk = (node: unknown, path: Array<string | number>): void => {
    if (isScalar(node) && node.tag === '!site') found.push({ name: String(node.value).trim(), path });
    else if (isMap(node)) for (const item of node.items) walk(item.value, [...path, isScalar(item.key) ? String(item.key.value) : '?']);
    else if (isSeq(node)) node.items.forEach((item, index) => walk(item, [...path, index]));
  };
  walk(doc.contents, []);
  return found;
}

/** Puts the site's values where the references are; an unknown name or a missing site is a located error. */
function substituteSite(data: unknown, references: SiteReference[], site: LoadedSite | undefined, file: string, source: SpecSource): { ok: true } | { ok: false; errors: SpecDiagnostic[] } {
  const errors: SpecDiagnostic[] = [];
  for (const ref of references) {
    const at = { severity: 'error' as const, file, ...source.locate(ref.path), path: formatPath(ref.path) };
    if (!SITE_NAMES.includes(ref.name)) {
      errors.push({ ...at, ruleId: 'site.reference', message: `!site ${ref.name}: no such site value`, fix: `use one of: ${SITE_NAMES.join(', ')}` });
      continue;
    }
    if (!site) {
      errors.push({ ...at, ruleId: 'site.reference', message: `!site ${ref.name}, but the spec names no site file`, fix: 'add `site: site.yaml` at the top of the spec (the file beside it, from specs/site.yaml)' });
      continue;
    }
    const parent = ref.path.slice(0, -1).reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], data) as Record<string | number, unknown>;
    parent[ref.path[ref.path.length - 1]!] = structuredClone(siteValue(site.site, ref.name));
  }
  return errors.length ? { ok: false, errors } : { ok: true };
}

/** The site placeholders a loaded spec still uses (errors, each refusing plans from the phase that needs it). */
export function sitePlaceholderFindings(loaded: LoadedSpec): SpecDiagnostic[] {
  return loaded.site ? placeholderFindings(loaded.site.loaded, loaded.site.used) : [];
}

/** Reads a spec or throws an InputError listing every located problem. */
export async function loadSpec(path: string, opts: { cwd?: string } & ReadSpecOptions = {}): Promise<LoadedSpec> {
  const display = opts.cwd ? relative(opts.cwd, path) || path : path;
  const result = await readSpecFile(path, display, opts.site === undefined ? {} : { site: opts.site });
  if (!result.ok) throw new InputError(result.errors.map(formatDiagnostic).join('\n'), { code: 'invalid-spec' });
  return result.loaded;
}

/** Locates a failed alias expansion at the alias it names (`…: a`), or at the first alias of the document. */
function aliasDiagnostic(file: string, doc: Document, lineCounter: LineCounter, error: unknown): SpecDiagnostic {
  const message = firstLine(error instanceof Error ? error.message : String(error));
  const named = /^Unresolved alias.*: (\S+)$/.exec(message)?.[1];
  let offset = 0;
  visit(doc, {
    Alias(_, node) {
      if (named !== undefined && node.source !== named) return undefined;
      offset = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  const { line, col } = lineCounter.linePos(offset);
  const fix = named !== undefined ? `define the anchor &${named} before this alias, or write the value out` : 'write the values out instead of nesting aliases';
  return { severity: 'error', ruleId: 'input.yaml', file, line, col, path: '', message, fix };
}

// yaml's pretty messages end with "at line N, column M:" and a code excerpt; the position is reported separately.
const firstLine = (message: string) => message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '').trim();

function makeSource(path: string, sha256: string, doc: Document, lineCounter: LineCounter): SpecSource {
  return {
    path,
    sha256,
    locate(specPath, opts = {}) {
      let node: unknown = doc.contents;
      let keyNode: Node | undefined;
      for (const segment of specPath) {
        let next: unknown;
        if (isMap(node)) {
          const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
          if (pair) {
            keyNode = pair.key as Node;
            next = pair.value ?? pair.key;
          }
        } else if (isSeq(node) && typeof segment === 'number') {
          next = node.items[segment];
          keyNode = undefined;
        }
        if (next === undefined) break;
        node = next;
      }
      const target = (opts.key || !isScalar(node)) && keyNode ? keyNode : (node as Node | null);
      const offset = target?.range?.[0] ?? 0;
      return lineCounter.linePos(offset);
    },
  };
}

function valueAt(data: unknown, path: SpecPath): unknown {
  let node = data;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

type AnySchema = z.ZodType;
interface SchemaDef {
  type: string;
  innerType?: AnySchema;
  in?: AnySchema;
  element?: AnySchema;
  valueType?: AnySchema;
  shape?: Record<string, AnySchema>;
  options?: AnySchema[];
}
const defOf = (schema: AnySchema) => (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;

/** Allowed keys of the object schema at `path`, to suggest a fix for a misspelled key. */
function keysAt(path: SpecPath): string[] {
  let schema: AnySchema | undefined = specSchema;
  const unwrap = (s: AnySchema): AnySchema => {
    let current = s;
    for (let def = defOf(current); def.innerType || (def.type === 'pipe' && def.in); def = defOf(current)) {
      current = def.innerType ?? def.in!;
    }
    return current;
  };
  for (const segment of path) {
    if (!schema) return [];
    const def = defOf(unwrap(schema));
    schema = def.type === 'object' ? def.shape?.[String(segment)] : def.type === 'array' ? def.element : def.type === 'record' ? def.valueType : undefined;
  }
  if (!schema) return [];
  const def = defOf(unwrap(schema));
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

function issueDiagnostics(issue: z.core.$ZodIssue, data: unknown, source: SpecSource): SpecDiagnostic[] {
  const base = (path: SpecPath, key = false) => ({ severity: 'error' as const, file: source.path, ...source.locate(path, { key }), path: formatPath(path) });
  const path = issue.path as SpecPath;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = keysAt(path);
      return issue.keys.map((key) => {
        const closest = allowed
          .map((name) => ({ name, distance: editDistance(key, name) }))
          .sort((a, b) => a.distance - b.distance)[0];
        const hint = closest && closest.distance <= Math.max(2, Math.floor(key.length / 3)) ? `did you mean "${closest.name}"? ` : '';
        return {
          ...base([...path, key], true),
          ruleId: 'input.unknown-key',
          message: `unknown key "${key}"`,
          fix: `${hint}remove it or use one of: ${allowed.join(', ')}`,
        };
      });
    }
    case 'invalid_type': {
      const missing = valueAt(data, path) === undefined;
      return [
        {
          ...base(path, missing),
          ruleId: missing ? 'input.missing' : 'input.type',
          message: missing ? `missing required field (a ${issue.expected})` : `expected a ${issue.expected}, got ${describe(valueAt(data, path))}`,
          fix: missing ? `add "${String(path[path.length - 1])}: …" here` : `write a ${issue.expected}${issue.expected === 'string' ? ' (quote values such as \'02:30\' or \'off\')' : ''}`,
        },
      ];
    }
    case 'invalid_value':
      return [
        {
          ...base(path),
          ruleId: 'input.value',
          message: `${JSON.stringify(valueAt(data, path))} is not allowed`,
          fix: `use ${issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`}`,
        },
      ];
    case 'too_small':
    case 'too_big': {
      const limit = String(issue.code === 'too_small' ? issue.minimum : issue.maximum);
      const what = issue.origin === 'array' ? 'items' : issue.origin === 'string' ? 'characters' : '';
      const bound = issue.code === 'too_small' ? `at least ${limit}` : `at most ${limit}`;
      return [{ ...base(path), ruleId: 'input.range', message: `must be ${bound}${what ? ` ${what}` : ''}`, fix: `use a value that is ${bound}${what ? ` ${what}` : ''}` }];
    }
    case 'invalid_format':
      return [
        {
          ...base(path),
          ruleId: 'input.format',
          message: `${JSON.stringify(valueAt(data, path))}: ${issue.message.replace(/^Invalid string: /, '')}`,
          fix: 'correct the value to the expected format',
        },
      ];
    default:
      return [
        {
          ...base(path),
          ruleId: 'input.schema',
          message: `${describe(valueAt(data, path))} is not valid here (${issue.message})`,
          fix: 'see docs/spec-reference.md for the field',
        },
      ];
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function duplicateVms(spec: Spec, source: SpecSource): SpecDiagnostic[] {
  const diagnostics: SpecDiagnostic[] = [];
  for (const key of ['vmid', 'name'] as const) {
    const seen = new Map<string | number, number>();
    spec.vms.forEach((vm, index) => {
      const first = seen.get(vm[key]);
      if (first === undefined) {
        seen.set(vm[key], index);
        return;
      }
      const firstAt = source.locate(['vms', first, key]);
      diagnostics.push({
        severity: 'error',
        ruleId: key === 'vmid' ? 'input.duplicate-vmid' : 'input.duplicate-name',
        file: source.path,
        ...source.locate(['vms', index, key]),
        path: formatPath(['vms', index, key]),
        message: `${key} ${JSON.stringify(vm[key])} is already used by vms[${first}] (line ${firstAt.line})`,
        fix: `give each VM its own ${key}`,
      });
    });
  }
  return diagnostics;
}
