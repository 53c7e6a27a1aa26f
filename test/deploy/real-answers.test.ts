// Issue 19, defects 1 and 3, on answers real nodes send (test/fixtures/pve-real; each file names its source): what
// apply reads back after a crash, and what it does with snapshots that are half made.
import { afterEach, describe, expect, it } from 'vitest';
import { applyPlan } from '../../deploy/engine.ts';
import { requestEffect } from '../../deploy/reconcile.ts';
import { pruneJarvisSnapshots } from '../../deploy/snapshots.ts';
import * as S from '../../infra/proxmox/schemas.ts';
import type { PveRequest } from '../../planner/plan.ts';
import { loadFixture, routesOf, serveAnswers, type AnswerServer } from '../support/pve-real.ts';
import { FakePve } from './support/fake-pve.ts';
import { action, context, memoryJournal, plan, withFingerprints } from './support/plans.ts';

let server: AnswerServer | undefined;
afterEach(async () => {
  await server?.stub.close();
  server = undefined;
});

const post = (path: string, params: PveRequest['params']): PveRequest => ({ method: 'POST', path, params, async: false });

describe('1. recovering an interrupted bridge creation reads a network list with "exists": null', () => {
  it.each(['network-pve7-vlan-on-bridge.json', 'network-pve8-vlans-on-bridge.json', 'network-down-and-staged.derived.json'])('%s', async (file) => {
    server = await serveAnswers(routesOf(loadFixture(file)));
    const { interfaces } = await server.client.listNetwork();
    const present = interfaces.find((iface) => iface.type === 'bridge')!.iface;
    expect(await requestEffect(server.client, post('/nodes/proxmox/network', { iface: present, type: 'bridge' }))).toBe('applied');
    expect(await requestEffect(server.client, post('/nodes/proxmox/network', { iface: 'vmbr9', type: 'bridge' }))).toBe('not-applied');
  });
});

describe('3. half-made snapshots (snapstate prepare / delete) do not count as taken', () => {
  const fixture = loadFixture('snapshots-half-made.derived.json');

  it('an interrupted snapshot create whose snapshot is still "prepare" is unknown, not done', async () => {
    server = await serveAnswers(routesOf(fixture));
    const create = (snapname: string) => post('/nodes/proxmox/qemu/300/snapshot', { snapname });
    expect(await requestEffect(server.client, create('jarvis-pre-3f2a9c1d'))).toBe('unknown');
    expect(await requestEffect(server.client, create('weekly-2026-04-26'))).toBe('applied');
    expect(await requestEffect(server.client, create('jarvis-pre-00000000'))).toBe('not-applied');
  });

  it('pruning leaves a half-made Jarvis snapshot alone (deleting it needs --force, a call for a person)', async () => {
    server = await serveAnswers(routesOf(fixture));
    expect(await pruneJarvisSnapshots(server.client, 300, 0, new Set())).toEqual([]);
    expect(server.stub.requests.map((r) => r.method)).toEqual(['GET']);
  });

  it('a pre-snapshot whose name is taken by a half-made one refuses the action instead of trusting it', async () => {
    const pve = new FakePve();
    pve.addVm(300, { snapshots: S.snapshots.parse((fixture.answer as { data: unknown[] }).data).filter((s) => s.name !== 'current') });
    const reattach = action('vm.nic.reattach:300', {
      type: 'vm.nic.reattach',
      targetKey: 'vm/300',
      preSnapshot: { vmid: 300, name: 'jarvis-pre-3f2a9c1d' },
      params: { channel: 'pve', requests: [{ method: 'PUT', path: '/nodes/proxmox/qemu/300/config', params: { net0: 'virtio,bridge=vmbr1' }, async: false }] },
    });
    const report = await applyPlan(await withFingerprints(plan([reattach]), pve), context(pve, memoryJournal()));
    expect(report.actions[0]).toMatchObject({ outcome: 'refused', detail: expect.stringContaining('snapshot jarvis-pre-3f2a9c1d of VM 300 is half made (its creation never finished)') });
    expect(report.actions[0]!.detail).toContain('qm delsnapshot 300 jarvis-pre-3f2a9c1d --force');
    expect(pve.requests.some((r) => r.path.endsWith('/config') || r.path.endsWith('/snapshot'))).toBe(false);
  });
});
