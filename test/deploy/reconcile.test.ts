import { describe, expect, it } from 'vitest';
import { requestEffect } from '../../deploy/reconcile.ts';
import type { PveRequest } from '../../planner/plan.ts';
import { FakePve } from './support/fake-pve.ts';

const req = (method: PveRequest['method'], path: string, params: PveRequest['params'] = {}, async = false): PveRequest => ({ method, path, params, async });

describe('reconciling an interrupted request by reading its target back', () => {
  it('does not create a VM twice', async () => {
    const pve = new FakePve();
    const create = req('POST', '/nodes/proxmox/qemu', { vmid: 150, name: 'router' }, true);
    expect(await requestEffect(pve, create)).toBe('not-applied');
    pve.addVm(150);
    expect(await requestEffect(pve, create)).toBe('applied');
  });

  it('sees config values in place, including values PVE completes (a generated MAC)', async () => {
    const pve = new FakePve();
    pve.addVm(300, { config: { net0: 'virtio=BC:24:11:00:00:01,bridge=vmbr1,firewall=1', memory: 8192 } });
    expect(await requestEffect(pve, req('POST', '/nodes/proxmox/qemu/300/config', { net0: 'virtio,bridge=vmbr1,firewall=1', digest: 'old' }, true))).toBe('applied');
    expect(await requestEffect(pve, req('POST', '/nodes/proxmox/qemu/300/config', { net0: 'virtio,bridge=vmbr2,firewall=1' }, true))).toBe('not-applied');
    expect(await requestEffect(pve, req('PUT', '/nodes/proxmox/qemu/300/config', { delete: 'memory' }))).toBe('not-applied');
  });

  it('tells a reboot that happened (its task) from one that did not', async () => {
    const pve = new FakePve();
    pve.addVm(300, { status: 'running' });
    const reboot = req('POST', '/nodes/proxmox/qemu/300/status/reboot', {}, true);
    const journaledAt = Date.now();
    expect(await requestEffect(pve, reboot, journaledAt)).toBe('not-applied');
    await pve.request('POST', '/nodes/proxmox/qemu/300/status/reboot', {});
    expect(await requestEffect(pve, reboot, journaledAt)).toBe('applied');
    expect(await requestEffect(pve, req('POST', '/nodes/proxmox/qemu/300/status/start', {}, true))).toBe('applied');
  });

  it('finds a created firewall rule by its content, and will not guess about a positional delete', async () => {
    const pve = new FakePve();
    const rule = req('POST', '/cluster/firewall/rules', { type: 'in', action: 'ACCEPT', source: '192.168.1.0/24', dport: '8006', proto: 'tcp', enable: 1, pos: 3 });
    expect(await requestEffect(pve, rule)).toBe('not-applied');
    await pve.request('POST', '/cluster/firewall/rules', { type: 'in', action: 'ACCEPT', source: '192.168.1.0/24', dport: '8006', proto: 'tcp', enable: 1 });
    expect(await requestEffect(pve, rule)).toBe('applied');
    expect(await requestEffect(pve, req('DELETE', '/cluster/firewall/rules/0'))).toBe('unknown');
    expect(await requestEffect(pve, req('PUT', '/cluster/firewall/options', { enable: 1 }))).toBe('not-applied');
    expect(await requestEffect(pve, req('PUT', '/nodes/proxmox/qemu/400/resize', { disk: 'scsi0', size: '+8G' }))).toBe('unknown');
  });
});
