// Checks a PVE API request against the official schema (lib/pve-schema/schema.json), the way pve-common's
// JSONSchema does it: path template, method, parameter names, required/requires, types, enums, ranges, patterns and
// formats, inline property strings included. The result carries PVE's own error messages per parameter.
import { readFileSync } from 'node:fs';
import { checkNamedFormat } from './formats.ts';
import type { MethodSchema, ParamSchema, TrimmedSchema, ValidationResult } from './types.ts';

export type { MethodSchema, ParamSchema, ValidationResult } from './types.ts';
export { uncheckedFormats } from './formats.ts';

const schema = JSON.parse(readFileSync(new URL('./schema.json', import.meta.url), 'utf8')) as TrimmedSchema;

interface PathNode {
  literals: Map<string, PathNode>;
  placeholder?: { name: string; node: PathNode };
  template?: string;
}

function buildIndex(): PathNode {
  const root: PathNode = { literals: new Map() };
  for (const template of Object.keys(schema.paths)) {
    let node = root;
    for (const segment of template.split('/').filter((s) => s !== '')) {
      const placeholder = /^\{(.+)\}$/.exec(segment);
      if (placeholder) {
        node.placeholder ??= { name: placeholder[1] ?? segment, node: { literals: new Map() } };
        node = node.placeholder.node;
      } else {
        let next = node.literals.get(segment);
        if (!next) node.literals.set(segment, (next = { literals: new Map() }));
        node = next;
      }
    }
    node.template = template;
  }
  return root;
}

const index = buildIndex();

/** Finds the schema template for a concrete path (below /api2/json) and the decoded placeholder values. */
export function matchPveTemplate(path: string): { template: string; pathParams: Record<string, string> } | null {
  let node = index;
  const pathParams: Record<string, string> = {};
  for (const raw of path.split('?')[0]!.split('/').filter((s) => s !== '')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    const literal = node.literals.get(segment);
    if (literal) node = literal;
    else if (node.placeholder) {
      pathParams[node.placeholder.name] = segment;
      node = node.placeholder.node;
    } else return null;
  }
  return node.template ? { template: node.template, pathParams } : null;
}

export function methodSchema(template: string, method: string): MethodSchema | undefined {
  return schema.paths[template]?.[method.toUpperCase()];
}

/** Perl patterns are unanchored and may use `(?^:…)`/`(?^i:…)`; PVE matches `^(?:pattern)$`. */
const regexCache = new Map<string, RegExp>();
function perlRegex(pattern: string): RegExp {
  let regex = regexCache.get(pattern);
  if (!regex) {
    const caseless = pattern.includes('(?^i:');
    regex = new RegExp(`^(?:${pattern.replace(/\(\?\^i?:/g, '(?:')})$`, caseless ? 'i' : '');
    regexCache.set(pattern, regex);
  }
  return regex;
}

/** Resolves `net3` to `net[n]` when 3 lies in the documented index range. */
function lookupName(params: Record<string, ParamSchema>, name: string): ParamSchema | undefined {
  const direct = params[name];
  if (direct) return direct;
  const indexed = /^([a-z_]+?)(\d+)$/i.exec(name);
  if (!indexed) return undefined;
  const candidate = params[`${indexed[1]}[n]`];
  const range = candidate?.indexRange;
  const n = Number(indexed[2]);
  if (!candidate || (range && (n < range[0] || n > range[1]))) return undefined;
  return candidate;
}

const PROPERTY_BOOLEANS: Record<string, string> = { on: '1', yes: '1', true: '1', off: '0', no: '0', false: '0', '1': '1', '0': '0' };

function checkPropertyString(value: string, format: Record<string, ParamSchema>): string | null {
  const defaultKey = Object.entries(format).find(([, s]) => s.default_key)?.[0];
  const seen: Record<string, string> = {};
  const errors: string[] = [];
  for (const part of value.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    let key: string;
    let sub: string;
    if (eq === -1) {
      if (!defaultKey) return `invalid format - value without key, but schema does not define a default key`;
      if (seen[defaultKey] !== undefined) return `invalid format - duplicate key in comma-separated list property: ${defaultKey}`;
      key = defaultKey;
      sub = part;
    } else {
      key = part.slice(0, eq);
      sub = part.slice(eq + 1);
    }
    let keySchema = format[key];
    if (!keySchema) return `invalid format - unknown key in comma-separated list property: ${key}`;
    if (keySchema.alias) {
      // `virtio=MAC` sets model=virtio and macaddr=MAC (keyAlias); a plain alias renames the key.
      if (keySchema.keyAlias) {
        if (seen[keySchema.keyAlias] !== undefined) return `invalid format - duplicate key in comma-separated list property: ${keySchema.keyAlias}`;
        seen[keySchema.keyAlias] = key;
      }
      key = keySchema.alias;
      keySchema = format[key];
      if (!keySchema) return `invalid format - unknown key in comma-separated list property: ${key}`;
    }
    if (seen[key] !== undefined) return `invalid format - duplicate key in comma-separated list property: ${key}`;
    if (keySchema.type === 'boolean') sub = PROPERTY_BOOLEANS[sub.toLowerCase()] ?? sub;
    seen[key] = sub;
    const error = checkValue(sub, keySchema);
    if (error) errors.push(`${key}: ${error}`);
  }
  for (const [key, keySchema] of Object.entries(format)) {
    if (!keySchema.alias && !keySchema.optional && keySchema.default_key === undefined && seen[key] === undefined) {
      errors.push(`${key}: property is missing and it is not optional`);
    }
  }
  return errors.length ? `invalid format - format error\n${errors.join('\n')}\n` : null;
}

function checkValue(value: unknown, s: ParamSchema): string | null {
  if (s.type === 'array') {
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) {
      const error = s.items ? checkValue(item, s.items) : null;
      if (error) return error;
    }
    return null;
  }
  if (Array.isArray(value)) return `type check ('${s.type ?? 'string'}') failed - got ARRAY`;
  if (value !== null && typeof value === 'object') return `type check ('${s.type ?? 'string'}') failed - got HASH`;
  if (s.type === 'boolean') {
    if (typeof value === 'boolean') return null;
    const text = String(value);
    return text === '0' || text === '1' ? null : `type check ('boolean') failed - got '${text}'`;
  }
  const text = String(value);
  if (s.type === 'integer' && !/^[+-]?\d+$/.test(text)) return `type check ('integer') failed - got '${text}'`;
  if (s.type === 'number' && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return `type check ('number') failed - got '${text}'`;
  if (s.maxLength !== undefined && text.length > s.maxLength) return `value may only be ${s.maxLength} characters long`;
  if (s.minLength !== undefined && text.length < s.minLength) return `value must be at least ${s.minLength} characters long`;
  if (s.type === 'integer' || s.type === 'number') {
    const n = Number(text);
    if (s.maximum !== undefined && n > s.maximum) return `value must have a maximum value of ${s.maximum}`;
    if (s.minimum !== undefined && n < s.minimum) return `value must have a minimum value of ${s.minimum}`;
  }
  if (s.enum && !s.enum.includes(text)) return `value '${text}' does not have a value in the enumeration '${s.enum.join(', ')}'`;
  if (s.pattern && !perlRegex(s.pattern).test(text)) return 'value does not match the regex pattern';
  if (typeof s.format === 'string') {
    const error = checkNamedFormat(s.format, text);
    return error ? (error.startsWith('invalid format') ? error : `invalid format - ${error}`) : null;
  }
  if (s.format) return checkPropertyString(text, s.format);
  return null;
}

/**
 * Validates one request. `path` is below /api2/json; `params` holds query or body parameters (placeholders are
 * taken from the path). Arrays stand for repeated form keys.
 */
export function validatePveRequest(method: string, path: string, params: Record<string, unknown>): ValidationResult {
  const verb = method.toUpperCase();
  const match = matchPveTemplate(path);
  if (!match) return { ok: false, status: 501, errors: { path: `Method '${verb} ${path}' not implemented` } };
  const info = methodSchema(match.template, verb);
  if (!info) return { ok: false, status: 501, errors: { method: `Method '${verb} ${match.template}' not implemented` } };
  const all: Record<string, unknown> = { ...params, ...match.pathParams };
  const errors: Record<string, string> = {};
  for (const [name, value] of Object.entries(all)) {
    const s = lookupName(info.params, name);
    if (!s) {
      if (info.strict) errors[name] = 'property is not defined in schema and the schema does not allow additional properties';
      continue;
    }
    if (s.requires && all[s.requires] === undefined) errors[name] = `missing property - '${s.requires}' is required by '${name}'`;
    const error = checkValue(value, s);
    if (error) errors[name] = error;
  }
  for (const [name, s] of Object.entries(info.params)) {
    if (!s.optional && !name.endsWith('[n]') && all[name] === undefined && errors[name] === undefined) {
      errors[name] = 'property is missing and it is not optional';
    }
  }
  if (Object.keys(errors).length) return { ok: false, status: 400, errors };
  return { ok: true, template: match.template, async: info.async };
}
