import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GUARDRAILS } from '../../planner/spec/guardrails.ts';
import { edit, FIREWALL, findingsOf, NAS, REFERENCE, ROOT, type Edit } from './helpers.ts';

interface Case {
  base: string;
  /** Edits that break the rule, and the field path the finding must name. */
  fail: Edit[];
  path: string;
  /** Edits that keep (or make) the spec clean for this rule; default: the base as is. */
  pass?: Edit[];
}

const RULE = ['firewall', 'cluster', 'rules'];
const SEGMENTS = ['firewall', 'segmentation', 'segments'];
const ALLOW = ['firewall', 'segmentation', 'allow'];
const CASES: Record<string, Case> = {
  'node.single': { base: REFERENCE, fail: [[['node', 'name'], 'pve2']], path: 'node.name' },
  'vmid.stable-unique': { base: REFERENCE, fail: [[['vms', 2, 'vmid'], 301]], path: 'vms[2].vmid' },
  'tags.format': { base: REFERENCE, fail: [[['vms', 0, 'tags', 0], 'env=lab']], path: 'vms[0].tags[0]' },
  'tags.scheme': {
    base: REFERENCE,
    fail: [[['vms', 2, 'overrides', 'phase2', 'tags'], ['env-lab', 'role-app-host', 'tier-lan', 'owner-loic']]],
    path: 'vms[2].overrides.phase2.tags',
  },
  'vm.build-standards': { base: REFERENCE, fail: [[['vms', 0, 'net', 0, 'model'], 'e1000']], path: 'vms[0].net[0].model' },
  'vm.guest-agent': { base: REFERENCE, fail: [[['vms', 0, 'agent'], false]], path: 'vms[0].agent' },
  'vm.autostart': { base: REFERENCE, fail: [[['vms', 0, 'onboot'], false]], path: 'vms[0].onboot' },
  'provision.port-conflict': { base: NAS, fail: [[['vms', 1, 'provision', 'docker', 'stacks', 2, 'ports', 0], '32400:3000']], path: 'vms[1].provision.docker.stacks[2].ports[0]' },
  'backups.coverage': { base: REFERENCE, fail: [[['backups', 'jobs', 0, 'overrides', 'phase2', 'vmid'], [100, 300, 400]]], path: 'vms[1].vmid' },
  'vm.sizing': { base: REFERENCE, fail: [[['vms', 0, 'cores'], 8]], path: 'vms[0].cores' },
  'provision.standards': { base: NAS, fail: [[['vms', 1, 'provision', 'docker', 'stacks'], [{ name: 'plex' }]]], path: 'vms[1].provision.docker' },
  'phase0.host-network': {
    base: REFERENCE,
    fail: [[['network', 'bridges', 1, 'phase'], 0]],
    path: 'network.bridges[1].phase',
    pass: [[['network', 'bridges', 1, 'phase'], 0], [['safetyGuards', 'allowHostNetworkChanges'], true]],
  },
  'phase0.ssd-only': { base: REFERENCE, fail: [[['storage', 'zfs', 'pools', 0, 'phase'], 0]], path: 'storage.zfs.pools[0].phase' },
  'bridge.internal-no-ports': { base: REFERENCE, fail: [[['network', 'bridges', 1, 'bridge_ports'], ['enp4s0']]], path: 'network.bridges[1].bridge_ports' },
  'network.no-vlan': { base: REFERENCE, fail: [[['network', 'bridges', 0, 'bridge_vlan_aware'], true]], path: 'network.bridges[0].bridge_vlan_aware' },
  'network.bridge-refs': { base: REFERENCE, fail: [[['vms', 2, 'net', 0, 'bridge'], 'vmbr1']], path: 'vms[2].net[0].bridge' },
  'phase.consistency': { base: NAS, fail: [[['vms', 0, 'phase'], 1]], path: 'vms[0].phase' },
  'scope.firewall-only': { base: FIREWALL, fail: [[['tailscale'], { funnel: false }]], path: 'tailscale' },
  'firewall.source-format': { base: REFERENCE, fail: [[[...RULE, 0, 'source'], '192.168.1.5:22']], path: 'firewall.cluster.rules[0].source' },
  'firewall.port-format': { base: REFERENCE, fail: [[[...RULE, 0, 'dport'], '8000-8010']], path: 'firewall.cluster.rules[0].dport' },
  'firewall.references': { base: FIREWALL, fail: [[[...RULE, 0, 'source'], '+mgmt-admin']], path: 'firewall.cluster.rules[0].source' },
  'firewall.lockout': { base: FIREWALL, fail: [[[...RULE, 2], undefined]], path: 'firewall.cluster.options.policy_in' },
  'exposure.public': { base: REFERENCE, fail: [[['tailscale', 'funnel'], true]], path: 'tailscale.funnel' },
  'safety.management-cidrs': { base: REFERENCE, fail: [[['safetyGuards', 'managementAccessCidrs'], ['192.168.1.0/33']]], path: 'safetyGuards.managementAccessCidrs[0]' },
  'safety.snapshot-before-risk': { base: REFERENCE, fail: [[['safetyGuards', 'snapshotBeforeRisk'], false]], path: 'safetyGuards.snapshotBeforeRisk' },
  'safety.host-network-enabled': { base: REFERENCE, fail: [[['safetyGuards', 'allowHostNetworkChanges'], true]], path: 'safetyGuards.allowHostNetworkChanges' },
  'segmentation.default-deny': { base: REFERENCE, fail: [[['firewall', 'segmentation', 'defaultPolicy'], 'allow']], path: 'firewall.segmentation.defaultPolicy' },
  'segmentation.router': { base: REFERENCE, fail: [[['vms', 1, 'net', 2], undefined]], path: 'firewall.segmentation' },
  'segmentation.addressing': { base: REFERENCE, fail: [[[...SEGMENTS, 1, 'dhcp', 'from'], '10.10.30.100']], path: 'firewall.segmentation.segments[1].dhcp.from' },
  'segmentation.move-check': {
    base: REFERENCE,
    // app-host publishes no port and no allow flow goes to it: nothing but its own network can be checked after the move.
    fail: [[['vms', 2, 'provision', 'docker', 'stacks'], [{ name: 'plex' }, { name: 'jarvis' }, { name: 'monitoring' }, { name: 'kargo-preprod' }]], [[...ALLOW], [{ from: 'iot', to: 'home-assistant', proto: 'tcp', dport: 8123 }]]],
    path: 'vms[2].overrides.phase2.net[0].bridge',
  },
  'tailscale.routes': {
    base: REFERENCE,
    fail: [[['vms', 0, 'overrides', 'phase2', 'provision', 'tailscale', 'advertiseRoutes', 0], '10.10.20.5']],
    path: 'vms[0].overrides.phase2.provision.tailscale.advertiseRoutes[0]',
  },
  'storage.zfs-layout': { base: REFERENCE, fail: [[['storage', 'zfs', 'pools', 0, 'devices'], ['/dev/sda', '/dev/disk/by-id/ata-WDC_WD40EFPX-68C6CN0_WD-WX12D3456790']]], path: 'storage.zfs.pools[0].devices[0]' },
  'storage.references': { base: REFERENCE, fail: [[['storage', 'zfs', 'snapshots', 0, 'dataset'], 'tank/movies']], path: 'storage.zfs.snapshots[0].dataset' },
  'storage.zfs-protection': { base: REFERENCE, fail: [[['storage', 'zfs', 'snapshots'], []]], path: 'storage.zfs.snapshots' },
  'backups.schedule': { base: REFERENCE, fail: [[['backups', 'jobs', 0, 'schedule'], '25:00']], path: 'backups.jobs[0].schedule' },
  'backups.retention': { base: REFERENCE, fail: [[['backups', 'jobs', 0, 'prune-backups'], { 'keep-last': 3 }]], path: 'backups.jobs[0].prune-backups' },
  'backups.references': { base: REFERENCE, fail: [[['backups', 'jobs', 0, 'vmid'], [100, 150, 300, 400]]], path: 'backups.jobs[0].vmid[1]' },
  'backups.ssd-space': {
    base: REFERENCE,
    fail: [],
    path: 'backups.jobs[0].storage',
    pass: [[['backups', 'jobs', 0, 'phase'], 1], [['backups', 'jobs', 0, 'storage'], 'tank-backups'], [['backups', 'jobs', 0, 'overrides', 'phase1'], undefined]],
  },
  'migrations.references': { base: REFERENCE, fail: [[['migrations', 0, 'stacks', 0], 'plexx']], path: 'migrations[0].stacks[0]' },
};

/** Rules about the site file rather than the spec's own text: test/spec/site.test.ts breaks and passes them. */
const SITE_RULES = ['site.placeholder'];

describe('guardrail catalogue', () => {
  it('has a test case for every rule, and ids are unique', () => {
    const ids = GUARDRAILS.map((g) => g.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...Object.keys(CASES), ...SITE_RULES].sort()).toEqual([...ids].sort());
  });
  it('is documented, rule by rule, in docs/spec-reference.md', () => {
    const doc = readFileSync(`${ROOT}/docs/spec-reference.md`, 'utf8');
    for (const g of GUARDRAILS) expect(doc, g.id).toContain(`| \`${g.id}\` | ${g.severity} |`);
  });
  it('gives every rule a reason and an architecture pointer', () => {
    for (const g of GUARDRAILS) {
      expect(g.reason.length).toBeGreaterThan(10);
      expect(g.doc).toMatch(/§/);
    }
  });
});

describe.each(Object.entries(CASES))('%s', (ruleId, c) => {
  const severity = GUARDRAILS.find((g) => g.id === ruleId)?.severity;
  it('passes a spec that follows it', () => {
    const findings = findingsOf(edit(c.base, c.pass ?? []));
    expect(findings.filter((f) => f.ruleId === ruleId)).toEqual([]);
  });
  it(`reports a located ${severity} when it is broken`, () => {
    const text = edit(c.base, c.fail);
    const found = findingsOf(text, 'specs/x.yaml').filter((f) => f.ruleId === ruleId);
    expect(found.map((f) => f.path)).toContain(c.path);
    const finding = found.find((f) => f.path === c.path)!;
    expect(finding.severity).toBe(severity);
    expect(finding.file).toBe('specs/x.yaml');
    expect(finding.line).toBeGreaterThan(1);
    expect(finding.fix.length).toBeGreaterThan(5);
  });
});

describe('canonical specs', () => {
  it.each([
    ['reference', REFERENCE],
    ['nas', NAS],
    ['preprod firewall', FIREWALL],
  ])('%s spec has no errors', (_name, text) => {
    expect(findingsOf(text).filter((f) => f.severity === 'error')).toEqual([]);
  });
  it('warns about phase-0 backups on the SSD in the bootstrap spec', () => {
    expect(findingsOf(NAS).map((f) => f.ruleId)).toContain('backups.ssd-space');
  });
});

describe('specific hard constraints', () => {
  const rules = (text: string, id: string) => findingsOf(text).filter((f) => f.ruleId === id);
  it('DROP without the management rules locks out every management source on 22 and 8006', () => {
    const found = rules(edit(FIREWALL, [[RULE, []]]), 'firewall.lockout');
    expect(found.map((f) => f.message)).toEqual([
      expect.stringMatching(/192\.168\.1\.0\/24 cannot reach tcp\/22 and tcp\/8006/),
      expect.stringMatching(/100\.64\.0\.0\/10 cannot reach tcp\/22 and tcp\/8006/),
    ]);
  });
  it('does not require the tailnet rule when Tailscale management is not expected', () => {
    const text = edit(FIREWALL, [[[...RULE, 2], undefined], [['safetyGuards', 'tailscaleManagement', 'expected'], false]]);
    expect(rules(text, 'firewall.lockout')).toEqual([]);
  });
  it('a DROP rule placed before the management rules is a lock-out even with them present', () => {
    const text = edit(FIREWALL, [[RULE, [{ action: 'DROP', source: '192.168.1.0/24' }, { action: 'ACCEPT', source: '192.168.1.0/24', proto: 'tcp', dport: '22,8006' }, { action: 'ACCEPT', source: '100.64.0.0/10', proto: 'tcp', dport: '22,8006' }]]]);
    expect(rules(text, 'firewall.lockout')).toHaveLength(1);
  });
  it('checks VM-level DROP policies too', () => {
    const text = edit(REFERENCE, [[['vms', 0, 'firewall'], { options: { enable: true, policy_in: 'DROP' }, rules: [] }]]);
    expect(rules(text, 'firewall.lockout').map((f) => f.path)).toContain('vms[0].firewall.options.policy_in');
  });
  it('refuses a rule admitting 0.0.0.0/0 or ::/0, and an any-source ACCEPT to 8006', () => {
    const base = [[...RULE, 0, 'source'], '0.0.0.0/0'] as Edit;
    expect(rules(edit(FIREWALL, [base]), 'exposure.public')[0]?.message).toMatch(/whole internet/);
    expect(rules(edit(REFERENCE, [[['firewall', 'node'], { rules: [{ action: 'ACCEPT', source: '::/0', proto: 'tcp', dport: '443' }] }]]), 'exposure.public')).toHaveLength(1);
    expect(rules(edit(FIREWALL, [[[...RULE, 1, 'source'], undefined]]), 'exposure.public')[0]?.message).toMatch(/any address.*public|public/);
  });
  it('refuses a segmentation flow from the internet (a port-forward by another name)', () => {
    const text = edit(REFERENCE, [[['firewall', 'segmentation', 'allow', 0, 'from'], 'wan']]);
    expect(rules(text, 'exposure.public').map((f) => f.path)).toEqual(['firewall.segmentation.allow[0].from']);
    const cidr = edit(REFERENCE, [[['firewall', 'segmentation', 'allow', 0, 'from'], '0.0.0.0/0']]);
    expect(rules(cidr, 'exposure.public')).toHaveLength(1);
  });
  it('refuses Funnel on a guest', () => {
    const text = edit(NAS, [[['vms', 0, 'provision', 'tailscale', 'funnel'], true]]);
    expect(rules(text, 'exposure.public').map((f) => f.path)).toEqual(['vms[0].provision.tailscale.funnel']);
  });
  it('lets IOT reach Home Assistant only on 8123 and 1883 with MQTT', () => {
    const allow = ['firewall', 'segmentation', 'allow'];
    expect(rules(edit(REFERENCE, [[[...allow, 0, 'dport'], '8123,22']]), 'segmentation.default-deny')).toHaveLength(1);
    expect(rules(edit(REFERENCE, [[['vms', 3, 'provision', 'homeAssistant', 'mqtt'], false]]), 'segmentation.default-deny')).toHaveLength(1);
    expect(rules(edit(REFERENCE, [[['firewall', 'segmentation', 'blockManagementFrom'], ['services']]]), 'segmentation.default-deny')[0]?.message).toMatch(/IOT may reach Proxmox management/);
  });
  it('reports a backup job naming a VM before it exists once, at the list entry', () => {
    const found = rules(edit(REFERENCE, [[['backups', 'jobs', 0, 'vmid'], [100, 150]]]), 'backups.references');
    expect(found.map((f) => [f.path, f.message])).toEqual([['backups.jobs[0].vmid[1]', 'VM 150 only exists from phase 2, the job backs it up in phase 0']]);
  });
  it('names the stable VMID of each role', () => {
    expect(rules(edit(REFERENCE, [[['vms', 3, 'vmid'], 401]]), 'vmid.stable-unique')[0]?.fix).toBe('set vmid: 400');
  });
  it('refuses disk cache other than none', () => {
    expect(rules(edit(REFERENCE, [[['vms', 0, 'disks', 0, 'cache'], 'writeback']]), 'vm.build-standards').map((f) => f.path)).toEqual(['vms[0].disks[0].cache']);
  });
});
