// scanLab over a fake Proxmox API (any object implementing the port): failures become unknowns, never guesses;
// the reads follow the spec; round 2 only for spec VMs that exist.
import { describe, expect, it } from 'vitest';
import type { ProxmoxApi } from '../../infra/proxmox/api.ts';
import { UnreachableError } from '../../lib/errors.ts';
import { buildPlan } from '../../planner/artifact.ts';
import { instrumentApi, scanLab } from '../../planner/index.ts';
import { loadReference } from './fixtures.ts';

const { spec, source } = await loadReference();

/** A lab answering every read with an empty list, except the overrides; unknown methods throw. */
function fakeApi(overrides: Partial<Record<keyof ProxmoxApi, (...args: never[]) => Promise<unknown>>>, calls: string[] = []): ProxmoxApi {
  const empty: Record<string, () => Promise<unknown>> = {
    clusterResources: async () => [],
    firewallOptions: async () => ({}),
    listNetwork: async () => ({ interfaces: [] }),
  };
  return new Proxy({ node: 'proxmox' } as ProxmoxApi, {
    get(_target, property) {
      if (property === 'node') return 'proxmox';
      if (property === 'then') return undefined;
      const name = String(property);
      return (...args: unknown[]) => {
        calls.push(`${name}(${args.map((a) => JSON.stringify(a)).join(',')})`);
        const override = (overrides as Record<string, (...a: unknown[]) => Promise<unknown>>)[name];
        if (override) return override(...args);
        return (empty[name] ?? (async () => []))();
      };
    },
  });
}

const vmRows = (n: number, offset = 1000) =>
  Array.from({ length: n }, (_, i) => ({ id: `qemu/${offset + i}`, type: 'qemu', node: 'proxmox', vmid: offset + i, name: `other-${i}`, status: 'running' }));

describe('scanLab', () => {
  it('reports a failed read as unknown with its reason, and the plan lists it without planning that part', async () => {
    const api = fakeApi({ listBackupJobs: async () => { throw new Error('403 Permission check failed (/, Sys.Audit)'); } });
    const state = await scanLab({ pve: api }, spec, 0);
    expect(state.backupJobs).toEqual({ known: false, reason: '403 Permission check failed (/, Sys.Audit)' });
    const plan = buildPlan({ spec, specPath: 's', specSha256: source.sha256, phase: 'phase0', state, requestedBy: 't', now: 'n', id: 'i' });
    expect(plan.unknowns).toContainEqual({ what: 'backup job jarvis-daily', reason: '403 Permission check failed (/, Sys.Audit)' });
    expect(plan.actions.some((a) => a.type.startsWith('backup.'))).toBe(false);
    // VM 400 (HAOS, imported on the node) does not need the image storage this empty lab lacks.
    expect(plan.actions.map((a) => a.id)).toContain('vm.create:400');
  });

  it('fails as unreachable when /cluster/resources cannot be read', async () => {
    const api = fakeApi({ clusterResources: async () => { throw new UnreachableError('https://127.0.0.1:1: connect ECONNREFUSED'); } });
    await expect(scanLab({ pve: api }, spec, 0)).rejects.toThrow(UnreachableError);
  });

  it('reads configs only for the spec VMs that exist, however many other VMs the lab has', async () => {
    const counts: number[] = [];
    for (const others of [0, 500]) {
      const calls: string[] = [];
      const resources = [...vmRows(others), { id: 'qemu/300', type: 'qemu', node: 'proxmox', vmid: 300, name: 'app-host', status: 'running' }];
      const api = fakeApi({ clusterResources: async () => resources, vmConfig: async () => ({ config: { name: 'app-host' }, digest: 'd' }) }, calls);
      const { api: counted, stats } = instrumentApi(api);
      await scanLab({ pve: counted }, spec, 2);
      expect(calls.filter((c) => c.startsWith('vmConfig'))).toEqual(['vmConfig(300)']);
      expect(stats().criticalRoundTrips).toBeLessThanOrEqual(2);
      counts.push(stats().requests);
    }
    expect(counts[0]).toBe(counts[1]);
  });
});
