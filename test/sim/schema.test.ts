import { describe, expect, it } from 'vitest';
import { matchPveTemplate, validatePveRequest } from '../../lib/pve-schema/index.ts';

const CREATE = '/nodes/proxmox/qemu';

describe('validatePveRequest', () => {
  it('accepts a VM create with indexed keys and inline property strings', () => {
    const result = validatePveRequest('POST', CREATE, {
      vmid: '120',
      name: 'web-1',
      memory: '2048',
      scsihw: 'virtio-scsi-single',
      scsi0: 'local-lvm:32,cache=none,iothread=1,discard=on',
      net0: 'virtio,bridge=vmbr0,firewall=1',
      net31: 'model=virtio,bridge=vmbr1,tag=20',
      agent: 'enabled=1,fstrim_cloned_disks=1',
      tags: 'web;prod',
    });
    expect(result).toEqual({ ok: true, template: '/nodes/{node}/qemu', async: true });
  });

  it('marks task-starting calls async and plain reads sync', () => {
    expect(validatePveRequest('PUT', '/nodes/proxmox/network', {})).toMatchObject({ ok: true, async: true });
    expect(validatePveRequest('POST', '/nodes/proxmox/vzdump', { vmid: '100' })).toMatchObject({ ok: true, async: true });
    expect(validatePveRequest('GET', '/cluster/resources', {})).toMatchObject({ ok: true, async: false });
    expect(validatePveRequest('PUT', '/nodes/proxmox/qemu/100/config', { cores: '2' })).toMatchObject({ ok: true, async: false });
  });

  it('rejects an unknown parameter with PVE\'s message', () => {
    const result = validatePveRequest('POST', CREATE, { vmid: '120', colour: 'blue' });
    expect(result).toEqual({
      ok: false,
      status: 400,
      errors: { colour: 'property is not defined in schema and the schema does not allow additional properties' },
    });
  });

  it('rejects an index outside the documented range', () => {
    expect(validatePveRequest('POST', CREATE, { vmid: '120', scsi31: 'local-lvm:8' })).toMatchObject({ ok: false, errors: { scsi31: expect.stringContaining('not defined') } });
    expect(validatePveRequest('POST', CREATE, { vmid: '120', ide4: 'none' })).toMatchObject({ ok: false, status: 400 });
    expect(validatePveRequest('POST', CREATE, { vmid: '120', scsi30: 'local-lvm:8' })).toMatchObject({ ok: true });
  });

  it('rejects a bad enum value', () => {
    const result = validatePveRequest('POST', CREATE, { vmid: '120', ostype: 'linux' });
    expect(result).toMatchObject({ ok: false, status: 400 });
    if (!result.ok) expect(result.errors.ostype).toMatch(/^value 'linux' does not have a value in the enumeration 'other, wxp/);
  });

  it('rejects a tag PVE would refuse', () => {
    const result = validatePveRequest('POST', CREATE, { vmid: '120', tags: 'env=prod' });
    expect(result).toMatchObject({ ok: false, status: 400, errors: { tags: expect.stringMatching(/^invalid format - /) } });
  });

  it('rejects a firewall source with a port', () => {
    const result = validatePveRequest('POST', '/cluster/firewall/rules', { type: 'in', action: 'ACCEPT', source: '10.0.0.5:22' });
    expect(result).toMatchObject({ ok: false, status: 400, errors: { source: expect.stringMatching(/^invalid format - /) } });
  });

  it('rejects true/false for booleans over form encoding but takes 0/1', () => {
    const bad = validatePveRequest('POST', '/nodes/proxmox/qemu/100/status/stop', { skiplock: 'true' });
    expect(bad).toEqual({ ok: false, status: 400, errors: { skiplock: "type check ('boolean') failed - got 'true'" } });
    expect(validatePveRequest('POST', '/nodes/proxmox/qemu/100/status/stop', { skiplock: '1' })).toMatchObject({ ok: true });
  });

  it('checks sub-keys of property strings, with aliases and on/off booleans', () => {
    expect(validatePveRequest('POST', CREATE, { vmid: '120', net0: 'virtio=BC:24:11:AA:BB:CC,bridge=vmbr0,firewall=on' })).toMatchObject({ ok: true });
    const unknownKey = validatePveRequest('POST', CREATE, { vmid: '120', net0: 'virtio,bridge=vmbr0,speed=10' });
    expect(unknownKey).toMatchObject({ ok: false, errors: { net0: expect.stringContaining('unknown key') } });
    const twoModels = validatePveRequest('POST', CREATE, { vmid: '120', net0: 'virtio=BC:24:11:AA:BB:CC,model=e1000' });
    expect(twoModels).toMatchObject({ ok: false, errors: { net0: expect.stringContaining('duplicate key') } });
    const badTag = validatePveRequest('POST', CREATE, { vmid: '120', net0: 'virtio,bridge=vmbr0,tag=5000' });
    expect(badTag).toMatchObject({ ok: false, errors: { net0: expect.stringContaining('tag: value must have a maximum value of 4094') } });
  });

  it('checks ranges, integers, required names and `requires`', () => {
    expect(validatePveRequest('POST', CREATE, { vmid: '99' })).toMatchObject({ ok: false, errors: { vmid: 'value must have a minimum value of 100' } });
    expect(validatePveRequest('POST', CREATE, { vmid: 'abc' })).toMatchObject({ ok: false, errors: { vmid: "type check ('integer') failed - got 'abc'" } });
    expect(validatePveRequest('POST', CREATE, {})).toMatchObject({ ok: false, errors: { vmid: 'property is missing and it is not optional' } });
    const notes = validatePveRequest('POST', '/cluster/backup', { schedule: '02:30', all: '1', 'notes-template': '{{guestname}}' });
    expect(notes).toMatchObject({ ok: false, errors: { 'notes-template': expect.stringContaining("'storage' is required") } });
  });

  it('checks named formats: calendar events, prune-backups, storage ids, placeholders', () => {
    expect(validatePveRequest('POST', '/cluster/backup', { schedule: '25:99', all: '1' })).toMatchObject({ ok: false, errors: { schedule: expect.any(String) } });
    expect(validatePveRequest('POST', '/cluster/backup', { schedule: 'mon..fri 22:30', all: '1', 'prune-backups': 'keep-daily=7,keep-weekly=4' })).toMatchObject({ ok: true });
    expect(validatePveRequest('POST', '/cluster/backup', { schedule: '02:30', all: '1', 'prune-backups': 'keep-daily=x' })).toMatchObject({ ok: false, errors: { 'prune-backups': expect.any(String) } });
    expect(validatePveRequest('GET', '/nodes/proxmox/qemu/abc/config', {})).toMatchObject({ ok: false, errors: { vmid: expect.stringContaining('integer') } });
  });

  it('answers unknown paths and methods with 501', () => {
    expect(validatePveRequest('GET', '/nodes/proxmox/nothing-here', {})).toMatchObject({ ok: false, status: 501 });
    expect(validatePveRequest('PATCH', '/version', {})).toMatchObject({ ok: false, status: 501 });
  });

  it('matches templates with percent-encoded placeholders (UPIDs, volume ids)', () => {
    const upid = 'UPID:proxmox:0000A1B2:0012D687:6745A1B2:qmstart:100:root@pam!jarvis:';
    expect(matchPveTemplate(`/nodes/proxmox/tasks/${encodeURIComponent(upid)}/status`)).toEqual({
      template: '/nodes/{node}/tasks/{upid}/status',
      pathParams: { node: 'proxmox', upid },
    });
  });

  it('takes arrays for array parameters (agent exec command)', () => {
    expect(validatePveRequest('POST', '/nodes/proxmox/qemu/100/agent/exec', { command: ['tailscale', 'status', '--json'] })).toMatchObject({ ok: true });
  });
});
