// Issue 19, defects 1 and 4–7, on answers real nodes send (test/fixtures/pve-real; each file names its source): read
// through the real client from a local HTTPS stub, normalised, and planned against the reference spec.
import { afterEach, describe, expect, it } from 'vitest';
import type { ZfsPoolDetail } from '../../infra/proxmox/api.ts';
import { buildPlan } from '../../planner/artifact.ts';
import { scanLab } from '../../planner/index.ts';
import * as N from '../../planner/scan/normalize.ts';
import { known, type LiveState } from '../../planner/state.ts';
import { loadFixture, routesOf, serveAnswers, type AnswerServer } from '../support/pve-real.ts';
import { answer } from '../infra/proxmox/support/stub.ts';
import { loadReference, phase0State } from './fixtures.ts';

const { spec, source } = await loadReference();
const plan = (state: LiveState, phase: 'phase1' | 'phase2') =>
  buildPlan({ spec, specPath: 'specs/jarvis-homelab.desired.yaml', specSha256: source.sha256, phase, state, requestedBy: 'test', now: '2026-05-04T12:00:00Z', id: 'real-answers' });

let server: AnswerServer | undefined;
afterEach(async () => {
  await server?.stub.close();
  server = undefined;
});

/** The listing of a fixture, read through the client. */
async function listingOf(file: string) {
  server = await serveAnswers(routesOf(loadFixture(file)));
  return server.client.listNetwork();
}

describe('1. a VLAN on a bridge ("exists": null) no longer makes the whole network unknown', () => {
  it.each(['network-pve7-vlan-on-bridge.json', 'network-pve8-vlans-on-bridge.json'])('%s: the scan reads the network and phase 2 plans the bridges', async (file) => {
    // Every other read of an empty node: lists are empty, option objects are empty.
    server = await serveAnswers(routesOf(loadFixture(file)), (method, path, res) =>
      method === 'GET' ? answer(res, 200, /\/options$/.test(path) ? {} : []) : answer(res, 501, null, { reason: 'not implemented' }),
    );
    const state = await scanLab({ pve: server.client }, spec, 2);
    expect(state.network.known, state.network.known ? '' : state.network.reason).toBe(true);
    const result = plan(state, 'phase2');
    expect(result.unknowns.map((u) => u.what)).not.toContain('host network (bridges)');
    // Each bridge of the spec the node lacks is created and activated; the ones it has are left alone.
    const onNode = state.network.known ? state.network.value.map((b) => b.iface) : [];
    const missing = ['vmbr0', 'vmbr1', 'vmbr2'].filter((iface) => !onNode.includes(iface));
    expect(missing.length).toBeGreaterThan(0);
    const ids = result.actions.map((a) => a.id);
    expect(ids.filter((id) => id.startsWith('network.bridge.create:'))).toEqual(missing.map((iface) => `network.bridge.create:${iface}`));
    expect(ids).toContain('network.apply');
  });
});

describe('4. ZFS pools with log, cache and spare sections', () => {
  it('reads the layout from the data vdevs and lists the sections apart (openzfs/zfs#3877 through ZFS.pm)', async () => {
    const fixture = loadFixture('zfs-detail-logs-cache-spares.derived.json');
    server = await serveAnswers(routesOf(fixture));
    const detail = await server.client.zfsPoolDetail('zones');
    const pool = N.zfsPool({ name: 'zones', size: 1, alloc: 0, free: 1, health: 'ONLINE' }, detail);
    expect(pool).toMatchObject({
      raidlevel: 'raid10',
      devices: ['ata-SAMSUNG_HD103SJ_S246J9DZC01225', 'ata-SAMSUNG_HD103SJ_S246J9DZC01216', 'ata-SAMSUNG_HD103SJ_S246J9DZC01218', 'ata-SAMSUNG_HD103SJ_S246J9DZC01222'],
      logs: ['ata-INTEL_SSDSA2M040G2GC_CVGB0375006V040NGN'],
      cache: ['ata-Corsair_Force_3_SSD_11476510000011541375-part1'],
      spares: ['ata-SAMSUNG_HD103SJ_S246J9DZC01214'],
    });
  });

  it('a pool with sections is compared by its layout, never by its own name', async () => {
    const fixture = loadFixture('zfs-detail-logs-cache-spares.derived.json');
    // The same tree under the spec's pool name: its data vdevs are two mirrors, the spec wants one.
    const renamed = JSON.parse(JSON.stringify(fixture.answer).replaceAll('"zones"', '"tank"')) as { data: ZfsPoolDetail };
    server = await serveAnswers({ '/nodes/proxmox/disks/zfs/tank': renamed });
    const tank = N.zfsPool({ name: 'tank', size: 8e12, alloc: 1e12, free: 7e12, health: 'ONLINE' }, await server.client.zfsPoolDetail('tank'));
    const state = phase0State();
    state.zfsPools = known([tank]);
    const warning = plan(state, 'phase1').warnings.find((w) => w.code === 'zfs-pool-drift');
    expect(warning?.message).toBe('pool tank is raid10, the spec says mirror; an existing pool is never recreated');
  });

  it('a recorded single-disk pool (check_pve#83) is single, its device the by-id name of the -part1 path', async () => {
    server = await serveAnswers(routesOf(loadFixture('zfs-detail-single-disk.json')));
    const detail = await server.client.zfsPoolDetail('samsung-970-01');
    expect(N.zfsPool({ name: 'samsung-970-01', size: 1, alloc: 0, free: 1, health: 'ONLINE' }, detail)).toMatchObject({
      raidlevel: 'single',
      devices: ['nvme-Samsung_SSD_970_EVO_Plus_2TB_serial#Z-part1'],
    });
  });
});

describe('5. Open vSwitch bridges list their ports in ovs_ports', () => {
  it('an OVS bridge has the ports that connect it (the bond), not its internal ports and not "(none)"', async () => {
    const bridges = N.bridges(await listingOf('network-ovs-bridge.derived.json'));
    expect(bridges).toEqual([expect.objectContaining({ iface: 'vmbr1', type: 'OVSBridge', bridge_ports: ['bond0'], active: true, pending: false })]);
  });
});

describe('6. active means "up", not "applied"', () => {
  it('an applied bridge without an auto line is down, not staged; a bridge in the changes diff is staged', async () => {
    const bridges = N.bridges(await listingOf('network-down-and-staged.derived.json'));
    expect(bridges.find((b) => b.iface === 'vmbr1')).toMatchObject({ active: false, autostart: false, pending: false });
    expect(bridges.find((b) => b.iface === 'vmbr1')).not.toHaveProperty('stagedNew');
    expect(bridges.find((b) => b.iface === 'vmbr2')).toMatchObject({ active: false, autostart: true, pending: true, stagedNew: true });
    expect(bridges.find((b) => b.iface === 'vmbr0')).toMatchObject({ active: true, pending: false, bridge_ports: ['enp3s0'] });
  });

  it('phase 2 applies the staged bridge only, creates nothing twice and says why vmbr1 is down', async () => {
    const state = phase0State();
    state.network = known(N.bridges(await listingOf('network-down-and-staged.derived.json')));
    const result = plan(state, 'phase2');
    const ids = result.actions.map((a) => a.id);
    expect(ids).not.toContain('network.bridge.create:vmbr1');
    expect(ids).not.toContain('network.bridge.create:vmbr2');
    expect(result.actions.find((a) => a.id === 'network.apply')!.changes).toEqual([{ path: 'bridges.vmbr2', from: 'staged', to: 'active' }]);
    expect(result.warnings.find((w) => w.code === 'bridge-down')?.message).toContain('bridge vmbr1 exists but is down (no "auto" line');
  });
});

describe('7. real nodes send by_id_link, as a whole /dev/disk/by-id path', () => {
  it('the disks are found by their by-id names when phase 1 plans the pool', async () => {
    server = await serveAnswers(routesOf(loadFixture('disks-by-id.derived.json')));
    const disks = N.disks(await server.client.listDisks());
    expect(disks.map((d) => d.byId)).toEqual([['nvme-Samsung_SSD_980_PRO_1TB_S5GXNX0T123456A'], ['ata-WDC_WD40EFPX-68C6CN0_WD-WX12D3456789'], ['ata-WDC_WD40EFPX-68C6CN0_WD-WX12D3456790']]);
    const state = phase0State();
    state.disks = known(disks);
    const violations = plan(state, 'phase1').violations;
    // Both HDDs are found: one is refused because it is in use, none is reported missing.
    expect(violations.map((v) => v.ruleId)).not.toContain('zfs.device-missing');
    expect(violations.find((v) => v.ruleId === 'zfs.device-in-use')?.message).toContain('(/dev/sda) is in use (ZFS)');
  });
});
