// The committed trimmed schema must be what the committed script makes from the official apidoc.json
// (CI has ../shared beside the clone).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { DEFAULT_SOURCE, OUTPUT, PERMISSIONS_OUTPUT, renderPermissionsFile, renderSchemaFile } from '../../scripts/gen-pve-schema.ts';

describe('lib/pve-schema/schema.json', () => {
  it('is up to date with scripts/gen-pve-schema.ts and the reference apidoc.json', () => {
    expect(readFileSync(OUTPUT, 'utf8')).toBe(renderSchemaFile(readFileSync(DEFAULT_SOURCE, 'utf8')));
  });

  it('permissions.json is up to date too, and keeps each method’s check as the schema declares it', () => {
    expect(readFileSync(PERMISSIONS_OUTPUT, 'utf8')).toBe(renderPermissionsFile(readFileSync(DEFAULT_SOURCE, 'utf8')));
    const { methods } = JSON.parse(readFileSync(PERMISSIONS_OUTPUT, 'utf8')) as { methods: Record<string, { check?: unknown; user?: string }> };
    expect(methods['POST /nodes/{node}/qemu']).toEqual({ user: 'all' });
    expect(methods['PUT /nodes/{node}/qemu/{vmid}/resize']).toEqual({ check: ['perm', '/vms/{vmid}', ['VM.Config.Disk']] });
    expect(methods['POST /nodes/{node}/storage/{storage}/download-url']!.check).toEqual([
      'and',
      ['perm', '/storage/{storage}', ['Datastore.AllocateTemplate']],
      ['or', ['perm', '/', ['Sys.Audit', 'Sys.Modify']], ['perm', '/nodes/{node}', ['Sys.AccessNetwork']]],
    ]);
  });

  it('keeps names, types, ranges and inline formats but no prose', () => {
    const schema = JSON.parse(readFileSync(OUTPUT, 'utf8')) as { paths: Record<string, Record<string, { async: boolean; params: Record<string, Record<string, unknown>> }>> };
    const create = schema.paths['/nodes/{node}/qemu']!.POST!;
    expect(create.async).toBe(true);
    expect(create.params['scsi[n]']).toMatchObject({ indexRange: [0, 30], format: { file: { default_key: 1 } } });
    expect(create.params['net[n]']!.indexRange).toEqual([0, 31]);
    expect(create.params.vmid).toMatchObject({ type: 'integer', minimum: 100, maximum: 999999999 });
    // Every parameter schema (and inline sub-schema) carries only validation keys.
    const allowed = new Set(['type', 'optional', 'enum', 'minimum', 'maximum', 'minLength', 'maxLength', 'pattern', 'format', 'default_key', 'alias', 'keyAlias', 'requires', 'items', 'indexRange']);
    const strays = new Set<string>();
    const visit = (param: Record<string, unknown>): void => {
      for (const key of Object.keys(param)) if (!allowed.has(key)) strays.add(key);
      if (param.format && typeof param.format === 'object') Object.values(param.format as Record<string, Record<string, unknown>>).forEach(visit);
      if (param.items) visit(param.items as Record<string, unknown>);
    };
    for (const methods of Object.values(schema.paths)) for (const method of Object.values(methods)) Object.values(method.params).forEach(visit);
    expect([...strays]).toEqual([]);
  });
});
