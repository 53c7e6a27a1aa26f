import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../planner/artifact.ts';
import { orderActions, DependencyCycleError } from '../../planner/order.ts';
import { draft } from '../../planner/diff/types.ts';
import { renderPlanText } from '../../planner/render.ts';
import type { Spec } from '../../planner/spec/schema.ts';
import type { GuestFacts, LiveState } from '../../planner/state.ts';
import { known } from '../../planner/state.ts';
import { OPNSENSE_INSTALLER } from '../../planner/boot-media.ts';
import { loadReference, phase0State } from './fixtures.ts';

const { spec, source } = await loadReference();

const plan = (state: LiveState, phase: 'phase0' | 'phase1' | 'phase2' = 'phase0', s: Spec = spec, id = 'plan-test') =>
  buildPlan({ spec: s, specPath: 'specs/jarvis-homelab.desired.yaml', specSha256: source.sha256, phase, state, requestedBy: 'test', now: '2026-01-01T00:00:00Z', id });

describe('buildPlan over a phase-0 lab', () => {
  it('is empty when the lab matches, even with tags in another order and case', () => {
    const state = phase0State();
    state.vms[100]!.config.tags = 'TIER-LAN,owner-loic env-lab;Role-Edge-Gateway';
    const result = plan(state);
    expect(result.actions).toEqual([]);
    expect(result.violations).toEqual([]);
  });

  it('gives the same planHash for the same spec and lab, whatever the id and time', () => {
    const a = plan(phase0State(), 'phase0', spec, 'one');
    const b = buildPlan({ spec, specPath: 'x', specSha256: source.sha256, phase: 'phase0', state: phase0State(), requestedBy: 'other', now: '2030-01-01T00:00:00Z', id: 'two' });
    expect(a.planHash).toBe(b.planHash);
    const drifted = phase0State();
    drifted.vms[300]!.digest = 'changed';
    expect(plan(drifted).planHash).not.toBe(a.planHash);
  });

  it('adds a new disk without recreating the VM', () => {
    const spec2 = structuredClone(spec);
    spec2.vms.find((v) => v.vmid === 300)!.disks.push({ storage: 'local-lvm', size: 200, cache: 'none', discard: true, ssd: true, iothread: true });
    const result = plan(phase0State(), 'phase0', spec2);
    expect(result.actions.map((a) => a.id)).toEqual(['vm.disk.add:300:scsi1']);
    expect(result.actions[0]!.params).toMatchObject({ channel: 'pve', requests: [{ method: 'POST', path: '/nodes/proxmox/qemu/300/config', params: { scsi1: 'local-lvm:200,cache=none,discard=on,iothread=1,ssd=1', digest: 'digest-300' } }] });
  });

  it('refuses a disk shrink and plans a grow as a resize with a pre-snapshot', () => {
    const shrink = phase0State();
    shrink.vms[300]!.config.scsi0 = 'local-lvm:vm-300-disk-0,cache=none,discard=on,iothread=1,size=256G,ssd=1';
    expect(plan(shrink).violations.map((v) => v.ruleId)).toContain('vm.disk-shrink');
    const grow = phase0State();
    grow.vms[300]!.config.scsi0 = 'local-lvm:vm-300-disk-0,cache=none,discard=on,iothread=1,size=64G,ssd=1';
    const [resize] = plan(grow).actions;
    expect(resize!.id).toBe('vm.disk.resize:300:scsi0');
    expect(resize!.preSnapshot).toMatchObject({ vmid: 300, name: expect.stringMatching(/^jarvis-pre-[0-9a-f]{8}$/) });
    expect(resize!.rollbackHint).toContain((resize!.preSnapshot as { name: string }).name);
  });

  it('needs a reboot for a memory change unless memory hotplug is on', () => {
    const state = phase0State();
    state.vms[300]!.config.memory = '6144';
    expect(plan(state).actions.map((a) => a.id)).toEqual(['vm.update:300:memory', 'vm.reboot:300']);
    const hot = structuredClone(spec);
    hot.vms.find((v) => v.vmid === 300)!.hotplug = ['network', 'disk', 'usb', 'memory'];
    const hotState = phase0State();
    hotState.vms[300]!.config.memory = '6144';
    hotState.vms[300]!.config.hotplug = 'disk,memory,network,usb';
    expect(plan(hotState, 'phase0', hot).actions.map((a) => a.id)).toEqual(['vm.update:300:memory']);
  });

  it('ignores generated MAC addresses but moves a NIC to another bridge as a reattach', () => {
    const state = phase0State();
    state.vms[300]!.config.net0 = 'virtio=AA:AA:AA:AA:AA:AA,bridge=vmbr0,firewall=1';
    expect(plan(state).actions).toEqual([]);
    state.vms[300]!.config.net0 = 'virtio=AA:AA:AA:AA:AA:AA,bridge=vmbr9,firewall=1';
    const [reattach] = plan(state).actions;
    expect(reattach).toMatchObject({ id: 'vm.nic.reattach:300:net0', risk: 'high' });
    expect(JSON.stringify(reattach!.params)).toContain('macaddr=AA:AA:AA:AA:AA:AA');
  });
});

describe('phase 2 over phase 1', () => {
  const phase1State = (): LiveState => {
    const state = phase0State();
    state.backupJobs = known([{ ...(state.backupJobs as { value: LiveState['backupJobs'] extends infer F ? F extends { value: infer V } ? V : never : never }).value[0]!, storage: 'tank-backups' }]);
    state.storages = known([...(state.storages.known ? state.storages.value : []), { storage: 'tank-backups', type: 'dir', content: ['backup'], path: '/tank/backups', disable: false }]);
    state.zfsPools = known([{ name: 'tank', health: 'ONLINE', size: 1, alloc: 0, free: 1, devices: [], raidlevel: 'mirror' }]);
    state.dirMappings = known([{ id: 'plex-media', path: '/tank/media' }, { id: 'docker-appdata', path: '/tank/appdata' }]);
    state.vms[300]!.config.virtiofs0 = 'plex-media';
    state.vms[300]!.config.virtiofs1 = 'docker-appdata';
    state.publishedSums = { [OPNSENSE_INSTALLER.sums]: known({ 'OPNsense-25.7-dvd-amd64.iso.bz2': 'a'.repeat(64) }) };
    // Phase 1's migrations are done: the datasets are mounted in app-host.
    const appHost = state.guests[300] as { value: GuestFacts };
    appHost.value.mounts = [
      { target: '/mnt/media', source: 'plex-media', fstype: 'virtiofs' },
      { target: '/opt/naas/appdata', source: 'docker-appdata', fstype: 'virtiofs' },
    ];
    return state;
  };

  it('creates bridges before moving NICs, gates the moves on the router and snapshots the moved VMs', () => {
    const result = plan(phase1State(), 'phase2');
    const ids = result.actions.map((a) => a.id);
    const at = (id: string) => ids.indexOf(id);
    expect(at('network.bridge.create:vmbr1')).toBeLessThan(at('network.apply'));
    expect(at('network.apply')).toBeLessThan(at('vm.nic.reattach:300:net0'));
    expect(at('vm.start:150')).toBeLessThan(at('manual.step:150:router'));
    expect(at('guest.network.routes:100')).toBeLessThan(at('manual.step:150:router'));
    for (const vmid of [300, 400]) {
      const move = result.actions.find((a) => a.id === `vm.nic.reattach:${vmid}:net0`)!;
      expect(move.preSnapshot).toMatchObject({ vmid });
      expect(move.expectedDowntimeSeconds).toBeGreaterThan(0);
      expect(move.dependsOn).toContain('manual.step:150:router');
      expect(at(`firewall.options:vm/${vmid}`)).toBeLessThan(at(move.id));
      expect(move.params).toMatchObject({ revert: [{ method: 'POST', path: `/nodes/proxmox/qemu/${vmid}/config`, params: { net0: `virtio=BC:24:11:00:0${vmid / 100}:00,bridge=vmbr0,firewall=1` } }] });
    }
    const move300 = result.actions.find((a) => a.id === 'vm.nic.reattach:300:net0')!;
    expect(move300.params).toMatchObject({
      moveCheck: { vmid: 300, os: 'debian-13', iface: 'eth0', to: { bridge: 'vmbr1', cidr: '10.10.20.0/24', gateway: '10.10.20.1', dnsName: 'deb.debian.org' }, services: [{ port: 3000, fromVmid: 100 }, { port: 32400, fromVmid: 100 }] },
    });
    expect(result.actions.find((a) => a.id === 'vm.nic.reattach:400:net0')!.params).toMatchObject({ moveCheck: { os: 'haos', to: { cidr: '10.10.30.0/24' }, services: [{ port: 8123, fromVmid: 100 }] } });
    expect(at('manual.step:150:router')).toBeLessThan(at('guest.tailscale.routes:100'));
    const create150 = result.actions.find((a) => a.id === 'vm.create:150')!;
    const createParams = (create150.params as { requests: Array<{ params: Record<string, string> }> }).requests[0]!.params;
    expect(createParams).toMatchObject({ ide2: expect.stringMatching(/^local:iso\/OPNsense-25\.7-dvd-amd64-a{12}\.iso,media=cdrom$/), boot: 'order=scsi0;ide2' });
    expect(createParams.net2).toMatch(/^virtio,macaddr=BC:24:11:[0-9A-F:]{8},bridge=vmbr2,firewall=0$/);
    const download = result.actions.find((a) => a.type === 'image.download')!;
    expect((download.params as { requests: Array<{ params: Record<string, string> }> }).requests[0]!.params).toMatchObject({ content: 'iso', compression: 'bz2', 'checksum-algorithm': 'sha256' });
    const router = result.actions.find((a) => a.id === 'manual.step:150:router')!;
    expect(router.params).toMatchObject({ channel: 'owner', observe: { kind: 'router-routes', fromVmid: 100, probes: [{ kind: 'ping', address: '10.10.20.1' }, { kind: 'ping', address: '10.10.30.1' }] } });
    const mac = createParams.net1!.match(/BC:24:11:[0-9A-F:]{8}/)![0];
    expect((router.params as { instructions: string[] }).instructions.join('\n')).toContain(`LAN = ${mac} (net1, vmbr1), description SERVICES`);
    const haRules = result.actions.filter((a) => a.id.startsWith('firewall.rule.create:vm/400'));
    expect(haRules.map((a) => a.changes[0]!.to)).toEqual(['IN ACCEPT +seg-iot → any tcp/8123 "IOT to Home Assistant"', 'IN ACCEPT +seg-iot → any tcp/1883 "IOT to MQTT"', 'IN ACCEPT +seg-lan → any tcp/8123 "LAN to Home Assistant"']);
    const appRules = result.actions.filter((a) => a.id.startsWith('firewall.rule.create:vm/300'));
    expect(appRules.map((a) => a.changes[0]!.to)).toContain('IN ACCEPT +seg-services → any any protocol "SERVICES: within its own segment"');
    expect(result.actions.find((a) => a.id === 'firewall.options:vm/100')!.changes.map((c) => [c.path, c.to])).toEqual([['enable', '1']]);
    expect(at('firewall.ipset.entry:seg-iot')).toBeLessThan(at(haRules[0]!.id));
    expect(at('firewall.rule.create:cluster:4')).toBeLessThan(at('firewall.options:cluster'));
    expect(result.violations).toEqual([]);
    expect(renderPlanText(result)).toContain('jarvis apply');
  });

  it('re-creates a firewall rule deleted by hand', () => {
    const state = phase1State();
    const first = plan(state, 'phase2');
    // Apply the firewall part: live rules = desired rules, then delete one by hand.
    const rules = first.actions.filter((a) => a.id.startsWith('firewall.rule.create:cluster')).map((a, pos) => {
      const params = (a.params as { requests: Array<{ params: Record<string, string | number> }> }).requests[0]!.params;
      return { pos, type: String(params.type), action: String(params.action), enable: true, source: String(params.source), proto: 'tcp', dport: String(params.dport), comment: String(params.comment) };
    });
    const fw = (state.firewall as { value: Parameters<typeof known>[0] }).value as Extract<LiveState['firewall'], { known: true }>['value'];
    fw.cluster.rules = rules.filter((r) => r.dport !== '8006').map((r, pos) => ({ ...r, pos }));
    const again = plan(state, 'phase2');
    const creates = again.actions.filter((a) => a.type === 'firewall.rule.create' && a.id.includes(':cluster:'));
    expect(creates.map((a) => a.changes[0]!.to)).toEqual(['IN ACCEPT 192.168.1.0/24 → any tcp/8006 "admin LAN to the web UI"']);
  });

  it('refuses a DROP policy that cuts management access, naming the action', () => {
    const noAccess = structuredClone(spec);
    noAccess.firewall!.cluster!.rules = [];
    const result = plan(phase1State(), 'phase2', noAccess);
    const lockout = result.violations.find((v) => v.ruleId === 'firewall.lockout');
    expect(lockout?.actionId).toBe('firewall.options:cluster');
    expect(renderPlanText(result)).toContain('firewall.lockout');
  });
});

describe('orderActions', () => {
  it('reports a cycle with its members', () => {
    const a = draft({ id: 'a', type: 'vm.start', kind: 'update', channel: 'pve', target: 'a', targetKey: 'a', changes: [], params: { channel: 'pve', requests: [] }, provides: ['x'], requires: ['y'] });
    const b = draft({ id: 'b', type: 'vm.start', kind: 'update', channel: 'pve', target: 'b', targetKey: 'b', changes: [], params: { channel: 'pve', requests: [] }, provides: ['y'], requires: ['x'] });
    expect(() => orderActions([a, b])).toThrow(DependencyCycleError);
    expect(() => orderActions([a, b])).toThrow(/a → b → a|b → a → b/);
  });
});

describe('catalogue and guardrails from Proxmox facts', () => {
  it('takes no snapshot on storage that cannot snapshot, raises the risk and says so', () => {
    const onDir = structuredClone(spec);
    onDir.vms.find((v) => v.vmid === 300)!.disks[0]!.storage = 'local';
    const state = phase0State();
    state.vms[300]!.config.scsi0 = 'local:300/vm-300-disk-0.raw,cache=none,discard=on,iothread=1,size=64G,ssd=1';
    const result = plan(state, 'phase0', onDir);
    const resize = result.actions.find((a) => a.id === 'vm.disk.resize:300:scsi0')!;
    expect(resize.preSnapshot).toBe(false);
    expect(resize.risk).toBe('high');
    expect(resize.rollbackHint).toContain('restore from the last backup');
    expect(result.warnings.map((w) => w.code)).toContain('no-pre-snapshot');
  });

  it('refuses host networking in a phase-0 plan unless allowed', () => {
    const state = phase0State();
    state.network = known([]);
    const result = plan(state, 'phase0');
    expect(result.violations.map((v) => [v.ruleId, v.actionId])).toEqual([
      ['phase0.host-network', 'network.bridge.create:vmbr0'],
      ['phase0.host-network', 'network.apply'],
    ]);
    const allowed = structuredClone(spec);
    allowed.safetyGuards.allowHostNetworkChanges = true;
    expect(plan(state, 'phase0', allowed).violations).toEqual([]);
  });

  it('rates the pool create critical and refuses it on a disk in use', () => {
    const state = phase0State();
    state.disks = known([
      { devpath: '/dev/sda', byId: ['ata-WDC_WD40EFPX-68C6CN0_WD-WX12D3456789'], size: 4e12, used: 'unused' },
      { devpath: '/dev/sdb', byId: [], serial: 'WD-WX12D3456790', size: 4e12, used: 'LVM' },
    ]);
    const result = plan(state, 'phase1');
    expect(result.actions.find((a) => a.id === 'zfs.pool.create:tank')!.risk).toBe('critical');
    expect(result.violations.map((v) => v.ruleId)).toEqual(['zfs.device-in-use']);
  });

  it('removes rules added by hand with stable ids, positions valid in order, and revert requests', () => {
    const state = phase0State();
    const fw = (state.firewall as Extract<LiveState['firewall'], { known: true }>).value;
    const rule = (pos: number, source: string, dport: string, comment: string) => ({ pos, type: 'in', action: 'ACCEPT', enable: true, source, proto: 'tcp', dport, comment });
    fw.cluster.rules = [
      rule(0, '192.168.1.0/24', '22', 'admin LAN to SSH'),
      rule(1, '0.0.0.0/0', '80', 'added by hand'),
      rule(2, '0.0.0.0/0', '443', 'added by hand'),
      rule(3, '192.168.1.0/24', '8006', 'admin LAN to the web UI'),
      rule(4, '100.64.0.0/10', '22,8006', 'Tailscale management'),
    ];
    fw.cluster.options = { enable: 1, policy_in: 'DROP', policy_out: 'ACCEPT' };
    const firewallOnly = structuredClone(spec);
    firewallOnly.firewall!.segmentation = undefined;
    firewallOnly.firewall!.cluster!.ipsets = [];
    const result = plan(state, 'phase2', firewallOnly);
    const deletes = result.actions.filter((a) => a.type === 'firewall.rule.delete');
    expect(deletes.map((a) => a.id)).toEqual(['firewall.rule.delete:cluster:was1', 'firewall.rule.delete:cluster:was2']);
    for (const d of deletes) {
      expect(d.params).toMatchObject({ requests: [{ method: 'DELETE', path: '/cluster/firewall/rules/1' }], revert: [{ method: 'POST', path: '/cluster/firewall/rules', params: { pos: 1 } }] });
      expect(d.commitConfirm).toBe(true);
    }
    expect(result.violations.filter((v) => v.ruleId.startsWith('firewall'))).toEqual([]);
  });
});

describe('resuming a partly applied plan', () => {
  it('imports the HAOS image into a VM 400 that exists without its disk, instead of adding an empty one', () => {
    const state = phase0State();
    delete state.vms[400]!.config.scsi0;
    state.vms[400]!.status = 'stopped';
    const ids = plan(state).actions.map((a) => a.id);
    expect(ids).toEqual(['vm.haos.import:400', 'vm.disk.resize:400:scsi0', 'vm.start:400']);
  });
});

describe('guest agent facts', () => {
  it('says a pre-snapshot is only crash-consistent when the VM has no guest agent, and runs guest steps after the reboot', () => {
    const state = phase0State();
    state.vms[100]!.config.agent = '0';
    state.vms[100]!.config.net0 = 'virtio=BC:24:11:00:01:00,bridge=vmbr9,firewall=1';
    state.guests[100] = known({ tailscale: { installed: false, joined: false, advertisedRoutes: [], funnel: false } });
    const result = plan(state);
    const reattach = result.actions.find((a) => a.id === 'vm.nic.reattach:100:net0')!;
    expect(reattach.rollbackHint).toContain('crash-consistent');
    const ids = result.actions.map((a) => a.id);
    expect(ids.indexOf('vm.reboot:100')).toBeLessThan(ids.indexOf('guest.tailscale.install:100'));
  });
});

describe('host network', () => {
  it('activates a bridge left staged by an interrupted plan, with a revert that removes it', () => {
    const state = phase0State();
    const bridges = (state.network as Extract<LiveState['network'], { known: true }>).value;
    bridges.push({ iface: 'vmbr1', type: 'bridge', active: false, autostart: true, bridge_ports: [], comments: 'SERVICES internal-only', pending: true, stagedNew: true });
    const result = plan(state, 'phase2');
    const ids = result.actions.map((a) => a.id);
    expect(ids).not.toContain('network.bridge.create:vmbr1');
    expect(ids).toContain('network.bridge.create:vmbr2');
    const apply = result.actions.find((a) => a.id === 'network.apply')!;
    expect(apply.changes).toEqual([
      { path: 'bridges.vmbr2', from: null, to: 'active' },
      { path: 'bridges.vmbr1', from: 'staged', to: 'active' },
    ]);
    expect(apply.params).toMatchObject({ revert: [{ method: 'DELETE', path: '/nodes/proxmox/network/vmbr2' }, { method: 'DELETE', path: '/nodes/proxmox/network/vmbr1' }, { method: 'PUT', path: '/nodes/proxmox/network' }] });
  });

  it('plans nothing for an applied bridge that is down, and says why it is down', () => {
    const state = phase0State();
    const bridges = (state.network as Extract<LiveState['network'], { known: true }>).value;
    bridges.push({ iface: 'vmbr1', type: 'bridge', active: false, autostart: false, bridge_ports: [], comments: 'SERVICES internal-only', pending: false });
    const result = plan(state, 'phase2');
    expect(result.actions.find((a) => a.id === 'network.apply')!.changes).toEqual([{ path: 'bridges.vmbr2', from: null, to: 'active' }]);
    expect(result.warnings.find((w) => w.code === 'bridge-down')?.message).toMatch(/^bridge vmbr1 exists but is down \(no "auto" line/);
  });
});
