// Generates lib/pve-schema/schema.json, the trimmed copy of the official PVE API schema that product code and the
// simulator validate against: names, types, enums, ranges, lengths, patterns and formats; no prose.
// Usage: node bin/run-ts.js scripts/gen-pve-schema.ts [path/to/apidoc.json[.br]]
// (default: lib/pve-schema/source/apidoc.json.br, the official schema kept in the repository, brotli-compressed;
// its provenance and licence are in lib/pve-schema/source/README.md). apidoc.json is the schema the Proxmox API
// viewer renders (https://pve.proxmox.com/pve-docs/api-viewer/): pve-docs api-viewer/apidata.js, as plain JSON.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliDecompressSync } from 'node:zlib';

interface RawSchema {
  [key: string]: unknown;
}
interface RawNode {
  path: string;
  info?: Record<string, { parameters?: { additionalProperties?: number; properties?: Record<string, RawSchema> }; returns?: RawSchema; permissions?: RawSchema }>;
  children?: RawNode[];
}

const KEPT_KEYS = ['type', 'optional', 'enum', 'minimum', 'maximum', 'minLength', 'maxLength', 'pattern', 'default_key', 'alias', 'keyAlias', 'requires'] as const;

// Index ranges the schema only states in prose, or not at all (then from qemu-server / pve-container / corosync).
const INDEX_FALLBACK: Record<string, [number, number]> = {
  'net[n]': [0, 31],
  'ipconfig[n]': [0, 31],
  'unused[n]': [0, 255],
  'hostpci[n]': [0, 15],
  'numa[n]': [0, 7],
  'virtiofs[n]': [0, 9],
  'link[n]': [0, 7],
  'mp[n]': [0, 255],
  'dev[n]': [0, 255],
  'acmedomain[n]': [0, 5],
  'usb[n]': [0, 14],
};

// String-returning writes that are not tasks (they return a volume id, a URL, a MAC or command output).
const NOT_TASKS = new Set([
  'POST /nodes/{node}/storage/{storage}/content',
  'POST /access/openid/auth-url',
  'POST /nodes/{node}/wakeonlan',
  'POST /nodes/{node}/qemu/{vmid}/monitor',
  'PUT /cluster/ceph/flags',
]);

function trimSchema(name: string | null, raw: RawSchema): RawSchema {
  const out: RawSchema = {};
  for (const key of KEPT_KEYS) {
    const value = raw[key];
    if (value === undefined) continue;
    // Some numbers arrive as strings ("0"); store them as numbers so the validator need not guess.
    if ((key === 'minimum' || key === 'maximum' || key === 'minLength' || key === 'maxLength') && typeof value === 'string') out[key] = Number(value);
    else out[key] = value;
  }
  if (typeof raw.format === 'string') out.format = raw.format;
  else if (raw.format && typeof raw.format === 'object') {
    const sub: Record<string, RawSchema> = {};
    for (const [key, schema] of Object.entries(raw.format as Record<string, RawSchema>)) sub[key] = trimSchema(null, schema);
    out.format = sub;
  }
  if (raw.items && typeof raw.items === 'object') out.items = trimSchema(null, raw.items as RawSchema);
  if (name?.endsWith('[n]')) {
    const prose = typeof raw.description === 'string' ? /\(n is (\d+) to (\d+)/.exec(raw.description) : null;
    out.indexRange = prose ? [Number(prose[1]), Number(prose[2])] : INDEX_FALLBACK[name] ?? [0, 255];
  }
  return out;
}

export function trimApiSchema(tree: RawNode[]): Record<string, Record<string, RawSchema>> {
  const paths: Record<string, Record<string, RawSchema>> = {};
  const walk = (node: RawNode): void => {
    if (node.info) {
      const methods: Record<string, RawSchema> = {};
      for (const [method, info] of Object.entries(node.info)) {
        const params: Record<string, RawSchema> = {};
        for (const [name, schema] of Object.entries(info.parameters?.properties ?? {})) params[name] = trimSchema(name, schema);
        const returns = typeof info.returns?.type === 'string' ? info.returns.type : 'null';
        methods[method] = {
          // PVE's JSONSchema allows extra names unless additionalProperties is 0.
          strict: info.parameters?.additionalProperties === 0,
          returns,
          async: method !== 'GET' && returns === 'string' && info.returns?.format === undefined && !NOT_TASKS.has(`${method} ${node.path}`),
          params,
        };
      }
      paths[node.path] = methods;
    }
    for (const child of node.children ?? []) walk(child);
  };
  for (const node of tree) walk(node);
  return paths;
}

/**
 * The permission declaration of every method (`check` in pve-access-control RPCEnvironment.pm
 * exec_api2_perm_check form, `user: 'all'` when the handler checks inside); a method without one is root@pam only.
 */
export function trimPermissions(tree: RawNode[]): Record<string, { check?: unknown; user?: unknown }> {
  const out: Record<string, { check?: unknown; user?: unknown }> = {};
  const walk = (node: RawNode): void => {
    for (const [method, info] of Object.entries(node.info ?? {})) {
      const declared = info.permissions;
      const kept: { check?: unknown; user?: unknown } = {};
      if (declared?.check !== undefined) kept.check = declared.check;
      if (declared?.user !== undefined) kept.user = declared.user;
      out[`${method} ${node.path}`] = kept;
    }
    for (const child of node.children ?? []) walk(child);
  };
  for (const node of tree) walk(node);
  return out;
}

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_SOURCE = resolve(REPO_ROOT, 'lib/pve-schema/source/apidoc.json.br');
export const OUTPUT = resolve(REPO_ROOT, 'lib/pve-schema/schema.json');
export const PERMISSIONS_OUTPUT = resolve(REPO_ROOT, 'lib/pve-schema/permissions.json');

/** The text of an apidoc.json, plain or brotli-compressed (`.br`). */
export function readApidoc(path: string): string {
  const bytes = readFileSync(path);
  return (path.endsWith('.br') ? brotliDecompressSync(bytes) : bytes).toString('utf8');
}

/** The text of schema.json for the text of apidoc.json. */
export function renderSchemaFile(apidocText: string): string {
  const paths = trimApiSchema(JSON.parse(apidocText) as RawNode[]);
  const header = { source: 'pve-docs api-viewer apidata.js (see lib/pve-schema/source/README.md)', sha256: createHash('sha256').update(apidocText).digest('hex') };
  // One path per line keeps regenerations reviewable as diffs.
  const lines = Object.entries(paths).map(([path, methods]) => `${JSON.stringify(path)}:${JSON.stringify(methods)}`);
  return `{"meta":${JSON.stringify(header)},\n"paths":{\n${lines.join(',\n')}\n}}\n`;
}

/** The text of permissions.json for the text of apidoc.json (one method per line). */
export function renderPermissionsFile(apidocText: string): string {
  const permissions = trimPermissions(JSON.parse(apidocText) as RawNode[]);
  const header = { source: 'pve-docs api-viewer apidata.js (see lib/pve-schema/source/README.md)', sha256: createHash('sha256').update(apidocText).digest('hex') };
  const lines = Object.entries(permissions).map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`);
  return `{"meta":${JSON.stringify(header)},\n"methods":{\n${lines.join(',\n')}\n}}\n`;
}

function main(): void {
  const source = resolve(process.argv[2] ?? DEFAULT_SOURCE);
  const text = readApidoc(source);
  writeFileSync(OUTPUT, renderSchemaFile(text));
  writeFileSync(PERMISSIONS_OUTPUT, renderPermissionsFile(text));
  process.stdout.write(`wrote ${OUTPUT} and ${PERMISSIONS_OUTPUT} from ${source}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
