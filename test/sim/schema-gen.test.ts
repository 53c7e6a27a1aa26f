// The committed trimmed schema must be what the committed script makes from the official apidoc.json kept in the
// repository (lib/pve-schema/source/apidoc.json.br).
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DEFAULT_SOURCE, OUTPUT, PERMISSIONS_OUTPUT, readApidoc, renderPermissionsFile, renderSchemaFile } from '../../scripts/gen-pve-schema.ts';

// sha256 of the official apidoc.json (lib/pve-schema/source/README.md, Provenance).
const OFFICIAL_SHA256 = 'f144b67b1b3c2ba872f194c3ea5feb32c2d6acdbe4a3a0deb2463a34d2d13542';

describe('lib/pve-schema/schema.json', () => {
  it('is generated from the official apidoc.json kept in the repository', () => {
    const source = readApidoc(DEFAULT_SOURCE);
    expect(createHash('sha256').update(source).digest('hex')).toBe(OFFICIAL_SHA256);
    expect(readFileSync(OUTPUT, 'utf8')).toBe(renderSchemaFile(source));
  });

  it('permissions.json is up to date too, and keeps each method’s check as the schema declares it', () => {
    expect(readFileSync(PERMISSIONS_OUTPUT, 'utf8')).toBe(renderPermissionsFile(readApidoc(DEFAULT_SOURCE)));
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
