// Building VMs that boot: on a fresh node the plan prepares the image storage, downloads the verified cloud image once,
// writes each VM's vendor data, creates the VMs from the image with cloud-init, grows the disk and starts them waiting
// for the agent; HAOS is imported on the node and its Tailscale is a manual step. What the node cannot give stops the
// plan with the reason.
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../planner/artifact.ts';
import { DEBIAN_13_IMAGE } from '../../planner/boot-media.ts';
import type { Plan, PlanAction } from '../../planner/plan.ts';
import { known, unknown, type LiveState } from '../../planner/state.ts';
import { loadReference, phase0State } from './fixtures.ts';

const { spec, source } = await loadReference();
const SHA = 'c0ffee'.padEnd(128, '0');
const VOLID = `local:import/debian-13-genericcloud-amd64-${SHA.slice(0, 12)}.qcow2`;

/** A node as a fresh PVE 9 install leaves it (local: iso,vztmpl,backup,import), with Debian's sums readable. */
function freshState(): LiveState {
  const state = phase0State();
  state.vms = {};
  state.guests = {};
  state.backupJobs = known([]);
  state.tailnet = known({ devices: [], funnelTargets: [] });
  state.storages = known([
    { storage: 'local', type: 'dir', content: ['backup', 'import', 'iso', 'vztmpl'], path: '/var/lib/vz', disable: false, used: 10 * 1024 ** 3, total: 100 * 1024 ** 3 },
    { storage: 'local-lvm', type: 'lvmthin', content: ['images', 'rootdir'], disable: false },
  ]);
  state.storageContent = known([]);
  state.publishedSums = { [DEBIAN_13_IMAGE.sums]: known({ 'debian-13-genericcloud-amd64.qcow2': SHA, 'debian-13-nocloud-amd64.qcow2': 'f'.repeat(128) }) };
  return state;
}

const plan = (state: LiveState): Plan =>
  buildPlan({ spec, specPath: 'specs/jarvis-homelab.desired.yaml', specSha256: source.sha256, phase: 'phase0', state, requestedBy: 'test', now: '2026-01-01T00:00:00Z', id: 'p' });
const byId = (p: Plan, id: string): PlanAction => {
  const action = p.actions.find((a) => a.id === id);
  if (!action) throw new Error(`${id} not in ${p.actions.map((a) => a.id).join(', ')}`);
  return action;
};
const requestOf = (action: PlanAction) => (action.params.channel === 'pve' ? action.params.requests[0]! : undefined);

describe('phase 0 on a fresh node', () => {
  it('prepares the node: snippets content (low risk), one verified download, a vendor snippet per VM', () => {
    const p = plan(freshState());
    expect(p.violations).toEqual([]);
    const content = byId(p, 'storage.content:local');
    expect(content).toMatchObject({ risk: 'low', type: 'storage.content' });
    expect(requestOf(content)).toMatchObject({ method: 'PUT', path: '/storage/local', params: { content: 'backup,import,iso,snippets,vztmpl' } });
    expect(content.rollbackHint).toContain('pvesm set local --content backup,import,iso,vztmpl');
    const downloads = p.actions.filter((a) => a.type === 'image.download');
    expect(downloads).toHaveLength(1);
    expect(requestOf(downloads[0]!)).toEqual({
      method: 'POST',
      path: '/nodes/proxmox/storage/local/download-url',
      params: { content: 'import', filename: VOLID.split('/')[1], url: DEBIAN_13_IMAGE.url, checksum: SHA, 'checksum-algorithm': 'sha512' },
      async: true,
    });
    for (const vmid of [100, 300]) {
      const snippet = byId(p, `vm.cloudinit.vendor:${vmid}`);
      expect(snippet.params).toMatchObject({ channel: 'host', step: 'cloudinit.vendor', args: { path: `/var/lib/vz/snippets/jarvis-vendor-${vmid}.yaml` } });
      const content = (snippet.params as unknown as { args: { content: string } }).args.content;
      expect(content).toMatch(/^#cloud-config\n/);
      expect(content).toContain('qemu-guest-agent');
      expect(snippet.dependsOn).toContain('storage.content:local');
    }
  });

  it('creates 100 and 300 from the image with cloud-init, grows the disk, starts them waiting for the agent', () => {
    const p = plan(freshState());
    const create = byId(p, 'vm.create:100');
    expect(requestOf(create)!.params).toMatchObject({
      scsi0: `local-lvm:0,import-from=${VOLID},cache=none,discard=on,iothread=1,ssd=1`,
      ide2: 'local-lvm:cloudinit',
      ciuser: 'debian',
      ipconfig0: 'ip=dhcp',
      cicustom: 'vendor=local:snippets/jarvis-vendor-100.yaml',
      agent: '1',
      boot: 'order=scsi0',
    });
    expect(decodeURIComponent(String(requestOf(create)!.params.sshkeys))).toMatch(/^ssh-ed25519 AAAA\S+ jarvis-sim-owner\n$/);
    expect(create.dependsOn).toEqual(expect.arrayContaining([`image.download:${VOLID.split('/')[1]}`, 'vm.cloudinit.vendor:100']));
    const resize = byId(p, 'vm.disk.resize:100:scsi0');
    expect(requestOf(resize)).toMatchObject({ method: 'PUT', params: { disk: 'scsi0', size: '32G' } });
    expect(resize.dependsOn).toContain('vm.create:100');
    const start = byId(p, 'vm.start:100');
    expect(start.dependsOn).toContain('vm.disk.resize:100:scsi0');
    expect(start.params).toMatchObject({ agentWait: { vmid: 100, seconds: 600, os: 'debian-13' } });
    expect(byId(p, 'guest.tailscale.install:100').params).toMatchObject({ channel: 'guest', agentWait: { vmid: 100, seconds: 600 } });
  });

  it('imports HAOS on the node and lists its Tailscale as a manual step observed in the tailnet, never apt', () => {
    const p = plan(freshState());
    expect(requestOf(byId(p, 'vm.create:400'))!.params).not.toHaveProperty('scsi0');
    expect(byId(p, 'vm.haos.import:400').params).toMatchObject({ channel: 'host', step: 'haos.image', args: { image: expect.stringMatching(/haos_ova-16\.3\.qcow2\.xz$/) } });
    expect(byId(p, 'vm.haos.import:400').note).toMatch(/no checksum/);
    expect(byId(p, 'vm.start:400').params).toMatchObject({ agentWait: { vmid: 400, os: 'haos' } });
    const manual = byId(p, 'manual.step:400:tailscale');
    expect(manual).toMatchObject({ channel: 'owner', type: 'manual.step', risk: 'low', params: { observe: { kind: 'tailnet-device-online', hostname: 'home-assistant' } } });
    expect((manual.params as { instructions: string[] }).instructions.join(' ')).toMatch(/Tailscale add-on/);
    expect(p.actions.filter((a) => a.id.endsWith(':400') && a.channel === 'guest')).toEqual([]);
  });

  it('does not list the manual step once home-assistant is online in the tailnet', () => {
    const state = freshState();
    state.tailnet = known({
      devices: [{ nodeId: 'n', hostname: 'homeassistant', name: 'home-assistant.tail0.ts.net', addresses: [], online: true, authorized: true, advertisedRoutes: [], enabledRoutes: [], keyExpiryDisabled: false }],
      funnelTargets: [],
    });
    expect(plan(state).actions.map((a) => a.id)).not.toContain('manual.step:400:tailscale');
    if (state.tailnet.known) state.tailnet.value.devices[0]!.online = false;
    expect(plan(state).actions.map((a) => a.id)).toContain('manual.step:400:tailscale');
  });

  it('downloads nothing when the verified image is already on the node, and adds only the missing content type', () => {
    const state = freshState();
    state.storageContent = known([{ volid: VOLID, content: 'import' }]);
    const p = plan(state);
    expect(p.actions.some((a) => a.type === 'image.download')).toBe(false);
    expect(byId(p, 'vm.create:300').dependsOn.filter((id) => id.startsWith('image.download'))).toEqual([]);
    expect(requestOf(byId(p, 'vm.create:300'))!.params.scsi0).toContain(`import-from=${VOLID}`);
  });

  it('stops with the node\'s answer when the sums cannot be read, and builds nothing from an unverified image', () => {
    const state = freshState();
    state.publishedSums = { [DEBIAN_13_IMAGE.sums]: unknown('proxmox: curl https://cloud.debian.org/… exited 6: curl: (6) Could not resolve host: cloud.debian.org') };
    const p = plan(state);
    expect(p.violations).toContainEqual(expect.objectContaining({ ruleId: 'image.checksum', message: expect.stringContaining('Could not resolve host') }));
    expect(p.actions.map((a) => a.id)).not.toContain('vm.create:100');
    expect(p.actions.some((a) => a.type === 'image.download')).toBe(false);
  });

  it('stops when the sums do not list the image', () => {
    const state = freshState();
    state.publishedSums = { [DEBIAN_13_IMAGE.sums]: known({ 'other.qcow2': SHA }) };
    expect(plan(state).violations).toContainEqual(expect.objectContaining({ ruleId: 'image.checksum', message: expect.stringContaining('does not list debian-13-genericcloud-amd64.qcow2') }));
  });

  it('refuses an image storage that cannot hold files, and one without room', () => {
    const block = freshState();
    const storages = block.storages.known ? block.storages.value : [];
    storages[0] = { storage: 'local', type: 'lvmthin', content: ['images'], disable: false };
    expect(plan(block).violations).toContainEqual(expect.objectContaining({ ruleId: 'image.storage', message: expect.stringContaining('cannot hold image files') }));
    const full = freshState();
    const local = (full.storages.known ? full.storages.value : [])[0]!;
    local.used = local.total! - 100 * 1024 ** 2;
    expect(plan(full).violations).toContainEqual(expect.objectContaining({ ruleId: 'image.no-room', message: expect.stringContaining('100 MiB free') }));
  });

  it('writes a vanished vendor snippet of an existing VM again (its next start would fail without it)', () => {
    const state = phase0State();
    state.storageContent = known([{ volid: 'local:snippets/jarvis-vendor-100.yaml', content: 'snippets' }]);
    expect(plan(state).actions.map((a) => a.id)).toEqual(['vm.cloudinit.vendor:300']);
  });
});
