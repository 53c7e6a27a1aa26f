import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../cli/io.ts';
import { main } from '../../cli/main.ts';
import { SIM_SITE_FILE } from '../support/site.ts';
import { FIREWALL, lineOf, NAS, REFERENCE, ROOT } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'jarvis-check-'));
// The specs name `site: site.yaml` beside them: the simulated node's site, whose values are no placeholders.
copyFileSync(SIM_SITE_FILE, join(dir, 'site.yaml'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function check(args: string[], cwd = ROOT, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env, cwd };
  const code = await main(['check', ...args], io);
  return { code, out, err };
}

function write(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

describe('jarvis check (in-process)', () => {
  it('names every placeholder of the shipped specs/site.yaml as an error, with the phase it blocks (exit 1)', async () => {
    const { code, out } = await check([]);
    expect(code).toBe(1);
    const site = readFileSync(join(ROOT, 'specs/site.yaml'), 'utf8');
    expect(out).toMatch(new RegExp(`^specs/site\\.yaml:${lineOf(site, 'placeholder-REPLACE')}:\\d+: error \\[site\\.placeholder\\] sshKeys: still the shipped placeholder: plans of phase 0 and later are refused`, 'm'));
    expect(out).toMatch(new RegExp(`^specs/site\\.yaml:${lineOf(site, 'REPLACE-with-the-first-hdd')}:\\d+: error \\[site\\.placeholder\\] zfs\\.tankDisks: still the shipped placeholder: plans of phase 1 and later .+ — fix: list the node's disks`, 'm'));
    expect(out).toContain('specs/jarvis-homelab.desired.yaml: refused (2 errors');
    expect(out).not.toContain('specs/site.yaml: ');
  });

  it('checks every spec with the simulated node\'s site (JARVIS_SITE_FILE) by default: exit 0, warnings printed', async () => {
    const { code, out } = await check([], ROOT, { JARVIS_SITE_FILE: SIM_SITE_FILE });
    expect(code).toBe(0);
    expect(out).toMatch(/^specs\/nas\.desired\.yaml:\d+:\d+: warning \[backups\.ssd-space\] backups\.jobs\[0\]\.storage: .+ — fix: .+$/m);
    for (const name of ['jarvis-homelab.desired.yaml', 'nas.desired.yaml', 'preprod.firewall.desired.yaml']) {
      expect(out).toContain(`specs/${name}: ok (0 errors`);
    }
  });

  // [what, base spec, text to replace, replacement, rule, exit code, text on the line the error must name (last match)]
  const mutations: Array<[string, string, string, string, string, number, string]> = [
    ['a tag with =', REFERENCE, '[env-lab, role-app-host, tier-lan', '[env=lab, role-app-host, tier-lan', 'tags.format', 1, 'env=lab'],
    ['an IP:port source', REFERENCE, "source: !site lan.cidr, proto: tcp, dport: '8006'", "source: '192.168.1.20:8006', proto: tcp, dport: '8006'", 'firewall.source-format', 1, '192.168.1.20:8006'],
    ['DROP without the management rules', FIREWALL, "      - { action: ACCEPT, source: 100.64.0.0/10, proto: tcp, dport: '22,8006', comment: Tailscale management }\n", '', 'firewall.lockout', 1, 'policy_in: DROP'],
    ['a duplicated VMID', NAS, '  - vmid: 400', '  - vmid: 300', 'input.duplicate-vmid', 2, 'vmid: 300'],
    ['a misspelled key', NAS, '    disks:\n      - { storage: local-lvm, size: 128 }', '    disk:\n      - { storage: local-lvm, size: 128 }', 'input.unknown-key', 2, 'disk:'],
    ['an unknown os', NAS, '    os: debian-13\n    cloudInit:\n      user: debian\n      sshKeys: !site sshKeys #', '    os: ubuntu-24\n    cloudInit:\n      user: debian\n      sshKeys: !site sshKeys #', 'input.value', 2, 'os: ubuntu-24'],
    ['a VM with no os', NAS, '    agent: true\n    os: debian-13 # the official', '    agent: true\n    # the official', 'input.os-missing', 2, 'vmid: 100'],
    ['an image URL without a checksum', NAS, '    os: debian-13 # the official', '    image: { url: https://example.org/images/debian.qcow2 }\n    os: debian-13 # the official', 'input.image-checksum', 2, 'https://example.org/images/debian.qcow2'],
    ['a cloud-init key that is not an SSH public key', NAS, "      sshKeys: !site sshKeys # yours and Jarvis's (site.yaml)\n", '      sshKeys:\n        - ssh-ed25519 not-a-key placeholder\n', 'input.ssh-key', 2, 'not-a-key'],
  ];
  it.each(mutations)('refuses %s, naming file:line and the rule', async (what, base, from, to, ruleId, exit, needle) => {
    expect(base).toContain(from);
    const text = base.replace(from, to);
    const name = write(`${ruleId}.yaml`, text);
    const { code, out } = await check([name], dir);
    expect(code).toBe(exit);
    const line = text.split('\n').findLastIndex((l) => l.includes(needle)) + 1;
    const escape = (s: string) => s.replace(/[.[\]]/g, '\\$&');
    expect(out, what).toMatch(new RegExp(`^${escape(name)}:${line}:\\d+: error \\[${escape(ruleId)}\\] \\S+: .+ — fix: .+$`, 'm'));
  });

  it('exits 2 when one of several files is invalid input, and 1 for guardrails alone', async () => {
    const bad = write('tag.yaml', REFERENCE.replace('[env-lab, role-edge-gateway', '[env=lab, role-edge-gateway'));
    const empty = write('empty.yaml', '');
    expect((await check([bad], dir)).code).toBe(1);
    const both = await check([bad, empty], dir);
    expect(both.code).toBe(2);
    expect(both.out).toMatch(/^empty\.yaml:1:1: error \[input\.empty\]/m);
  });

  it('--json prints only JSON with the findings and the exit code', async () => {
    const name = write('funnel.yaml', NAS.replace('  funnel: false # remote', '  funnel: true # remote'));
    const { code, out, err } = await check([name, '--json'], dir);
    expect(code).toBe(1);
    expect(err).toBe('');
    const report = JSON.parse(out) as { ok: boolean; exitCode: number; files: unknown[]; findings: Array<{ ruleId: string; line: number; path: string }> };
    expect(report).toMatchObject({ ok: false, exitCode: 1, files: [{ file: name, valid: true, errors: 1, warnings: 1 }] });
    expect(report.findings.find((f) => f.ruleId === 'exposure.public')).toMatchObject({ path: 'tailscale.funnel', line: lineOf(NAS, 'funnel: false # remote') });
  });

  it('prints help, refuses unknown options, and explains a missing specs/ directory', async () => {
    expect((await check(['--help'])).out).toMatch(/usage: jarvis check \[FILES…\] \[--json\]/);
    const unknown = await check(['--jsn']);
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.err).toContain('jarvis check: unknown option "--jsn"; did you mean "--json"?');
    const empty = join(dir, 'nothing-here');
    mkdirSync(empty);
    const none = await check([], empty);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/no specs directory in .+ \(JARVIS_SPECS_DIR\)/);
  });
});

describe('jarvis check (real bin)', () => {
  it('runs through bin/jarvis.js and exits 0 on the canonical specs, 2 on a missing file', () => {
    const ok = spawnSync(process.execPath, ['bin/jarvis.js', 'check'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, JARVIS_SITE_FILE: SIM_SITE_FILE } });
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('specs/preprod.firewall.desired.yaml: ok (0 errors, 0 warnings)');
    const missing = spawnSync(process.execPath, ['bin/jarvis.js', 'check', 'specs/nope.yaml'], { cwd: ROOT, encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stdout).toMatch(/^specs\/nope\.yaml:1:1: error \[input\.file\] file not found/m);
  });
});
