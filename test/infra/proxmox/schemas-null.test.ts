// PVE leaves an optional value out, or sends it as `null` (a Perl undef that reached the JSON encoder). Every schema
// of a PVE answer must take both, everywhere: this walks each schema's zod shape, builds a valid answer with every
// optional field filled, then sends `null` in each optional field in turn and expects the same result as leaving it
// out. The fields are found by walking the shapes, not listed by hand, so a new schema or field is covered as it lands.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as S from '../../../infra/proxmox/schemas.ts';
import { guestExecAnswer } from '../../../deploy/steps/guest-exec.ts';
import { notificationBody } from '../../../monitor/webhook.ts';

type Path = Array<string | number>;
type Def = { type: string; [key: string]: unknown };

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;
const isOptional = (schema: z.ZodType): boolean => schema.safeParse(undefined).success;

/** Nested objects are filled this deep (vdevs nest themselves without end). */
const MAX_DEPTH = 4;

/** A valid value for `schema`, with every optional object key filled; `optional` collects the paths of those keys. */
function sample(schema: z.ZodType, path: Path, optional: Path[], depth: number): unknown {
  const def = defOf(schema);
  switch (def.type) {
    case 'object': {
      const shape = (schema as unknown as { shape: Record<string, z.ZodType> }).shape;
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(shape)) {
        const child = shape[key]!;
        if (isOptional(child)) {
          if (depth >= MAX_DEPTH) continue;
          optional.push([...path, key]);
        }
        out[key] = sample(child, [...path, key], optional, depth + 1);
      }
      return out;
    }
    case 'array':
      return [sample(def.element as z.ZodType, [...path, 0], optional, depth)];
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
      return sample(def.innerType as z.ZodType, path, optional, depth);
    case 'pipe': {
      // z.preprocess is pipe(transform, schema); .transform(f) is pipe(schema, transform).
      const input = def.in as z.ZodType;
      return sample(defOf(input).type === 'transform' ? (def.out as z.ZodType) : input, path, optional, depth);
    }
    case 'union': {
      for (const option of def.options as z.ZodType[]) {
        const found: Path[] = [];
        const value = sample(option, path, found, depth);
        if (option.safeParse(value).success) {
          optional.push(...found);
          return value;
        }
      }
      throw new Error(`no sample for the union at ${path.join('.')}`);
    }
    case 'string':
      return 'x';
    case 'number':
      return 1;
    case 'boolean':
      return true;
    case 'enum':
      return Object.values(def.entries as Record<string, string>)[0];
    case 'literal':
      return (def.values as unknown[])[0];
    case 'record':
      return {};
    case 'unknown':
    case 'any':
      return 'x';
    case 'null':
      return null;
    default:
      throw new Error(`the walker does not know zod type ${def.type} (at ${path.join('.')})`);
  }
}

function setAt(value: unknown, path: Path, leaf: (parent: Record<string | number, unknown>, key: string | number) => void): unknown {
  const copy = structuredClone(value);
  let node = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  leaf(node, path[path.length - 1]!);
  return copy;
}

/** Every schema with an object in it (the others are scalars and records: a UPID, a VM config). */
const candidates: Array<[string, unknown]> = [
  ...Object.entries(S),
  ['notificationBody (monitor/webhook.ts)', notificationBody],
  ['guestExecAnswer (deploy/steps/guest-exec.ts)', guestExecAnswer],
];
const schemas: Array<[string, z.ZodType, Path[]]> = candidates
  .filter((entry): entry is [string, z.ZodType] => entry[1] instanceof z.ZodType)
  .map(([name, schema]): [string, z.ZodType, Path[]] => {
    const optional: Path[] = [];
    sample(schema, [], optional, 0);
    return [name, schema, optional];
  })
  .filter(([, , optional]) => optional.length > 0);

describe('every schema of a PVE answer', () => {
  it('is walked: the list holds the answers Jarvis reads, with all their optional fields', () => {
    expect(schemas.map(([name]) => name).sort()).toEqual(expect.arrayContaining(['networkListing', 'snapshots', 'zfsPoolDetail', 'disks', 'tasks', 'clusterResources', 'storageConfigs', 'backupJobs', 'vmStatus', 'nodeStatus']));
    const network = schemas.find(([name]) => name === 'networkListing')![2].map((path) => path.join('.'));
    expect(network).toEqual(expect.arrayContaining(['changes', 'data.0.exists', 'data.0.active', 'data.0.ovs_ports', 'data.0.vlan-id']));
    expect(schemas.find(([name]) => name === 'zfsPoolDetail')![2].map((path) => path.join('.'))).toContain('children.0.children.0.msg');
  });

  it.each(schemas)('%s takes null in each optional field as if the field were left out', (name, schema) => {
    const optional: Path[] = [];
    const value = sample(schema, [], optional, 0);
    const parsed = schema.safeParse(value);
    expect(parsed.success, `${name}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    for (const path of optional) {
      const withNull = schema.safeParse(setAt(value, path, (parent, key) => (parent[key] = null)));
      const without = schema.safeParse(setAt(value, path, (parent, key) => delete parent[key]));
      expect(withNull.success, `${name} ${path.join('.')}: null refused: ${JSON.stringify(withNull.error?.issues)}`).toBe(true);
      expect(withNull.data, `${name} ${path.join('.')}`).toEqual(without.data);
    }
  });

  it('still refuses null where Jarvis needs a value, naming the field', () => {
    const result = S.networkListing.safeParse({ data: [{ iface: null, type: 'bridge' }] });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((issue) => S.describeIssue(issue, ''))).toEqual(['data[0].iface: Invalid input: expected string, received null']);
  });
});
