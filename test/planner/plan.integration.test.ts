// `jarvis plan` end to end against the in-process simulator (--sim), through the real client and spec loader.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import type { CliIo } from '../../cli/io.ts';
import { validatePveRequest } from '../../lib/pve-schema/index.ts';
import type { Plan } from '../../planner/plan.ts';
import { startSim } from '../../sim/server.ts';

const root = new URL('../../', import.meta.url).pathname;
let out: string;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'jarvis-plan-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

async function plan(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: { JARVIS_DATA_DIR: out, ...env }, cwd: root };
  const code = await main(['plan', ...args], io);
  return { code, stdout, stderr };
}

async function planJson(args: string[]): Promise<{ code: number; plan: Plan }> {
  const result = await plan([...args, '--json', '--out', out]);
  expect(result.stderr).not.toMatch(/error/i);
  return { code: result.code, plan: JSON.parse(result.stdout) as Plan };
}

/** Every Proxmox request of a plan passes the official schema (what the real node would accept). */
function expectSchemaValid(p: Plan): void {
  for (const action of p.actions) {
    if (action.params.channel !== 'pve') continue;
    for (const request of [...action.params.requests, ...(action.params.revert ?? [])]) {
      const result = validatePveRequest(request.method, request.path, request.params);
      expect(result, `${action.id}: ${request.method} ${request.path} ${JSON.stringify(result)}`).toMatchObject({ ok: true });
    }
  }
}

const ids = (p: Plan) => p.actions.map((a) => a.id);

describe('jarvis plan --sim', () => {
  it('phase0 on a fresh node: the three VMs to the build standards, guest steps, backup job with the SSD warning', async () => {
    const { code, plan: p } = await planJson(['phase0', '--sim', 'fresh']);
    expect(code).toBe(0);
    expect(ids(p)).toEqual(
      expect.arrayContaining([
        'storage.content:local',
        'vm.cloudinit.vendor:100',
        'vm.create:100',
        'vm.disk.resize:100:scsi0',
        'vm.create:300',
        'vm.create:400',
        'vm.haos.import:400',
        'guest.tailscale.join:100',
        'manual.step:400:tailscale',
        'guest.docker.install:300',
        'guest.naas.layout:300',
        'backup.job.create:jarvis-daily',
      ]),
    );
    // One verified download of Debian's image for both VMs, checksum read from the published SHA512SUMS on the node.
    const downloads = p.actions.filter((a) => a.type === 'image.download');
    expect(downloads).toHaveLength(1);
    expect((downloads[0]!.params as { requests: Array<{ params: Record<string, unknown> }> }).requests[0]!.params).toMatchObject({ content: 'import', 'checksum-algorithm': 'sha512', checksum: expect.stringMatching(/^[0-9a-f]{128}$/) });
    // HAOS gets no apt: its Tailscale is the owner's add-on.
    expect(ids(p).filter((id) => id.startsWith('guest.') && id.endsWith(':400'))).toEqual([]);
    const create300 = p.actions.find((a) => a.id === 'vm.create:300')!;
    const params = (create300.params as { requests: Array<{ params: Record<string, unknown> }> }).requests[0]!.params;
    expect(params).toMatchObject({ scsihw: 'virtio-scsi-single', agent: '1', net0: 'virtio,bridge=vmbr0,firewall=1' });
    expect(String(params.scsi0)).toContain('cache=none');
    expect(p.actions.some((a) => a.type.startsWith('network.'))).toBe(false);
    expect(p.warnings.map((w) => w.code)).toContain('backup-on-ssd');
    expect(ids(p).indexOf('vm.start:300')).toBeLessThan(ids(p).indexOf('guest.docker.install:300'));
    expectSchemaValid(p);
    const files = await readdir(out);
    expect(files).toEqual(expect.arrayContaining([`${p.id}.json`, `${p.id}.md`]));
    expect(JSON.parse(await readFile(join(out, `${p.id}.json`), 'utf8')).planHash).toBe(p.planHash);
  });

  it('phase1 on phase 0: the tank mirror (critical), datasets, storage, migrations, snapshots, backups to tank', async () => {
    const { code, plan: p } = await planJson(['phase1', '--sim', 'phase0']);
    expect(code).toBe(0);
    const pool = p.actions.find((a) => a.id === 'zfs.pool.create:tank')!;
    expect(pool.risk).toBe('critical');
    expect(ids(p)).toEqual(expect.arrayContaining(['zfs.dataset.create:tank/media', 'zfs.dataset.create:tank/appdata', 'zfs.dataset.create:tank/backups', 'storage.add:tank-backups', 'zfs.snapshot.policy:tank/media', 'zfs.snapshot.policy:tank/appdata', 'migration.data:plex-media', 'migration.data:docker-appdata', 'backup.job.update:jarvis-daily']));
    const at = (id: string) => ids(p).indexOf(id);
    expect(at('zfs.pool.create:tank')).toBeLessThan(at('zfs.dataset.create:tank/backups'));
    expect(at('zfs.dataset.create:tank/backups')).toBeLessThan(at('storage.add:tank-backups'));
    expect(at('storage.add:tank-backups')).toBeLessThan(at('backup.job.update:jarvis-daily'));
    expect(p.summary.maxRisk).toBe('critical');
    expectSchemaValid(p);
  });

  it('phase2 on phase 1: bridges before the moves, router 150 with three NICs, pre-snapshots, the firewall matrix', async () => {
    const { code, plan: p } = await planJson(['phase2', '--sim', 'phase1']);
    expect(code).toBe(0);
    // The node has a VLAN on vmbr0 (vmbr0.10, "exists": null as PVE sends it): the network is read, the bridges planned.
    expect(p.unknowns).toEqual([]);
    expect(ids(p)).toEqual(expect.arrayContaining(['network.bridge.create:vmbr1', 'network.bridge.create:vmbr2', 'network.apply']));
    const at = (id: string) => ids(p).indexOf(id);
    expect(at('network.apply')).toBeLessThan(at('vm.nic.reattach:300:net0'));
    expect(at('vm.start:150')).toBeLessThan(at('vm.nic.reattach:400:net0'));
    // The router is built with its installer (read on the node: the release's SHA-256 list) and gates the moves.
    expect(at('image.download:OPNsense-25.7-dvd-amd64-' + p.actions.find((a) => a.type === 'image.download')!.id.slice(-16, -4) + '.iso')).toBeLessThan(at('vm.create:150'));
    expect(at('manual.step:150:router')).toBeLessThan(at('vm.nic.reattach:300:net0'));
    expect(p.actions.find((a) => a.id === 'vm.nic.reattach:300:net0')!.dependsOn).toContain('manual.step:150:router');
    for (const vmid of [300, 400]) {
      const move = p.actions.find((a) => a.id === `vm.nic.reattach:${vmid}:net0`)!;
      expect(move.preSnapshot).toBeTruthy();
      expect(move.rollbackHint).toContain((move.preSnapshot as { name: string }).name);
      expect(move.expectedDowntimeSeconds).toBeGreaterThan(0);
    }
    expect(p.actions.some((a) => a.changes.some((c) => c.to === 'IN ACCEPT +seg-iot → any tcp/8123 "IOT to Home Assistant"'))).toBe(true);
    expect(p.actions.find((a) => a.id === 'network.apply')!.commitConfirm).toBe(true);
    expectSchemaValid(p);
  });

  it('firewall on phase 1 builds the firewall wave only', async () => {
    const { code, plan: p } = await planJson(['firewall', '--sim', 'phase1']);
    expect(code).toBe(0);
    expect(p.actions.length).toBeGreaterThan(0);
    expect(p.actions.every((a) => a.type.startsWith('firewall.'))).toBe(true);
    expect(p.violations).toEqual([]);
    expectSchemaValid(p);
  });

  it('refuses a DROP policy without management access (exit 1, rule id and action named)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jarvis-spec-'));
    const text = await readFile(join(root, 'specs/jarvis-homelab.desired.yaml'), 'utf8');
    const broken = text.replace(/    rules:\n      - \{ action: ACCEPT, source: !site lan\.cidr[\s\S]*?Tailscale management \}\n/, '    rules: []\n');
    expect(broken).not.toBe(text);
    const specFile = join(dir, 'no-mgmt.yaml');
    await (await import('node:fs/promises')).writeFile(specFile, broken);
    const result = await plan(['phase2', '--spec', specFile, '--sim', 'phase1', '--out', out]);
    await rm(dir, { recursive: true, force: true });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/\[firewall.lockout\] after firewall\.options:cluster .*192\.168\.1\.0\/24 → 22/);
    expect(result.stdout).toContain('Refused');
  });

  it('lived-in: an OVS uplink, a pool with log/cache/spare and a bridge that is down plan without false drift', async () => {
    const phase1 = (await planJson(['phase1', '--sim', 'lived-in'])).plan;
    expect(ids(phase1)).toEqual([]);
    expect(phase1.unknowns).toEqual([]);
    expect(phase1.warnings.map((w) => w.code)).not.toContain('zfs-pool-drift');
    expect(phase1.warnings.map((w) => w.code)).not.toContain('bridge-drift');
    const phase2 = (await planJson(['phase2', '--sim', 'lived-in'])).plan;
    expect(ids(phase2)).toContain('network.bridge.create:vmbr2');
    expect(ids(phase2)).not.toContain('network.bridge.create:vmbr1');
    // vmbr1 is applied: another network apply would not bring it up, so none is planned for it.
    expect(phase2.actions.find((a) => a.id === 'network.apply')!.changes).toEqual([{ path: 'bridges.vmbr2', from: null, to: 'active' }]);
    expect(phase2.warnings.find((w) => w.code === 'bridge-down')?.message).toMatch(/^bridge vmbr1 exists but is down \(no "auto" line/);
    expect(phase2.warnings.map((w) => w.code)).not.toContain('bridge-drift');
    expectSchemaValid(phase2);
  });

  it('converges: each phase against the scenario that has it is empty, but for what the owner does by hand', async () => {
    // In the phase2 scenario the owner has installed and configured OPNsense: the router gate is seen open.
    const owners: Record<string, string[]> = { phase0: [], phase1: [], phase2: [] };
    for (const [phase, scenario] of [['phase0', 'phase0'], ['phase1', 'phase1'], ['phase2', 'phase2']] as const) {
      const { code, plan: p } = await planJson([phase, '--sim', scenario]);
      expect(code, phase).toBe(0);
      expect(ids(p), `${phase} --sim ${scenario}`).toEqual(owners[phase]);
      // Empty because everything was read and matches, not because something could not be read.
      expect(p.unknowns, `${phase} --sim ${scenario}`).toEqual([]);
    }
  });

  it('drifted shows exactly the drift: memory of 300 and the tags of 400, not the reordered tags of 100', async () => {
    const { plan: p } = await planJson(['phase0', '--sim', 'drifted']);
    expect(ids(p)).toEqual(['vm.update:300:memory', 'vm.tags:400', 'vm.reboot:300']);
    expect(p.unknowns).toEqual([]);
    expect(p.warnings.map((w) => w.code)).toContain('tailnet-funnel');
  });
});

describe('jarvis plan: bad input and unreachable lab', () => {
  it('unknown phase → exit 2', async () => {
    const result = await plan(['phase9']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown phase "phase9"');
  });

  it('missing spec → exit 2 naming the file', async () => {
    const result = await plan(['phase1', '--spec', 'specs/nope.yaml', '--sim', 'fresh']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('specs/nope.yaml');
  });

  it('unreachable lab → exit 4 naming the URL', async () => {
    const result = await plan(['phase0'], { PROXMOX_URL: 'https://127.0.0.1:9', PROXMOX_TOKEN_ID: 'root@pam!jarvis', PROXMOX_TOKEN_SECRET: 'not-a-real-secret', PROXMOX_FINGERPRINT: Array(32).fill('AB').join(':'), PROXMOX_TIMEOUT_MS: '2000' });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('127.0.0.1:9');
  });

  it('wrong TLS pin → exit 4 naming the URL and the fingerprint mismatch', async () => {
    const sim = await startSim({ scenario: 'fresh' });
    try {
      const result = await plan(['phase0'], { PROXMOX_URL: sim.url, PROXMOX_TOKEN_ID: sim.tokenId, PROXMOX_TOKEN_SECRET: sim.tokenSecret, PROXMOX_FINGERPRINT: Array(32).fill('AB').join(':') });
      expect(result.code).toBe(4);
      expect(result.stderr).toContain(sim.url.replace(/\/$/, ''));
      expect(result.stderr).toMatch(/fingerprint/i);
      expect(result.stderr).not.toContain(sim.tokenSecret);
    } finally {
      await sim.close();
    }
  });
});
