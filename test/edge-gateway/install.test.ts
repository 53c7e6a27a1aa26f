// install.sh in a throwaway root ($JARVIS_ROOT, as the provisioning scripts): the commands run for real with the
// recording stand-ins (apt-get, useradd, npm, node, systemctl, getent) where a tool cannot run here.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { linkHarmlessTools, SHIMS_DIR } from '../../sim/guest/runner.ts';
import { readShimCalls, seedDebianCloudImage } from '../../sim/guest/seed.ts';

const REPO = new URL('../../', import.meta.url).pathname;
const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A Debian 13 cloud guest's root with systemd running, and the PATH a sandboxed script gets. */
function sandbox(): { root: string; path: string } {
  const base = mkdtempSync(join(tmpdir(), 'jarvis-install-'));
  roots.push(base);
  const root = join(base, 'root');
  const bin = join(base, 'bin');
  mkdirSync(bin, { recursive: true });
  linkHarmlessTools(bin);
  seedDebianCloudImage(root);
  mkdirSync(join(root, 'run/systemd/system'), { recursive: true });
  return { root, path: `${SHIMS_DIR}:${bin}` };
}

function install(box: { root: string; path: string }, env: Record<string, string> = {}) {
  const result = spawnSync('bash', [join(REPO, 'deploy/edge-gateway/install.sh')], {
    encoding: 'utf8',
    env: { PATH: box.path, JARVIS_ROOT: box.root, JARVIS_REAL_NODE: process.execPath, HOME: box.root, ...env },
  });
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);
const owner = (path: string): string => `${statSync(path).uid}:${statSync(path).gid}`;
const jarvisIds = (root: string): string => /^jarvis:x:(\d+):(\d+):/m.exec(readFileSync(join(root, 'etc/passwd'), 'utf8'))!.slice(1, 3).join(':');

describe('install.sh', () => {
  it('installs Node from Debian, the jarvis account, its key, the env file, the specs, the unit and the wrapper, then starts the service', { timeout: 60_000 }, () => {
    const box = sandbox();
    const { code, out } = install(box);
    expect(out).toContain('Jarvis installed in /opt/jarvis');
    expect(code).toBe(0);
    const r = (p: string) => join(box.root, p);
    const calls = readShimCalls(box.root).map((c) => `${c.tool} ${c.argv}`);
    expect(calls).toContain('apt-get install -y -q nodejs npm');
    expect(calls).toContain('useradd --system --home-dir /var/lib/jarvis --shell /usr/sbin/nologin --user-group jarvis');
    expect(calls).toContain('npm ci --omit=dev --ignore-scripts --no-audit --no-fund');
    expect(calls).toContain('npm rebuild better-sqlite3');
    const ids = jarvisIds(box.root);
    const gid = ids.split(':')[1];
    // The key exists before anyone is told to copy it, owned by the service, 0600 (README step order).
    expect([owner(r('etc/jarvis/id_ed25519')), mode(r('etc/jarvis/id_ed25519'))]).toEqual([ids, '600']);
    expect(readFileSync(r('etc/jarvis/id_ed25519.pub'), 'utf8')).toMatch(/^ssh-ed25519 AAAA\S+ jarvis@edge-gateway\n$/);
    expect([owner(r('var/lib/jarvis')), mode(r('var/lib/jarvis'))]).toEqual([ids, '700']);
    expect([owner(r('etc/jarvis')), mode(r('etc/jarvis'))]).toEqual([`0:${gid}`, '750']);
    // The env file names the gateway's own paths: the data directory the unit may write, the specs outside the code.
    const env = readFileSync(r('etc/jarvis/jarvis.env'), 'utf8');
    expect([owner(r('etc/jarvis/jarvis.env')), mode(r('etc/jarvis/jarvis.env'))]).toEqual([`0:${gid}`, '640']);
    expect(env).toMatch(/^JARVIS_DATA_DIR=\/var\/lib\/jarvis$/m);
    expect(env).toMatch(/^JARVIS_SPECS_DIR=\/etc\/jarvis\/specs$/m);
    expect(env).toMatch(/^SSH_KEY_PATH=\/etc\/jarvis\/id_ed25519$/m);
    for (const name of ['nas.desired.yaml', 'jarvis-homelab.desired.yaml', 'preprod.firewall.desired.yaml', 'site.yaml']) {
      expect(readFileSync(r(`etc/jarvis/specs/${name}`), 'utf8')).toBe(readFileSync(join(REPO, 'specs', name), 'utf8'));
    }
    expect(existsSync(r('opt/jarvis/bin/jarvis.js'))).toBe(true);
    expect(existsSync(r('opt/jarvis/node_modules/.jarvis-shim-install'))).toBe(true);
    expect(existsSync(r('opt/jarvis/.git'))).toBe(false);
    expect(owner(r('opt/jarvis/bin/jarvis.js'))).toBe('0:0');
    expect(readFileSync(r('etc/systemd/system/jarvis.service'), 'utf8')).toBe(readFileSync(join(REPO, 'deploy/edge-gateway/jarvis.service'), 'utf8'));
    expect(mode(r('usr/local/bin/jarvis'))).toBe('755');
    expect(calls).toEqual(expect.arrayContaining(['systemctl daemon-reload', 'systemctl enable jarvis.service', 'systemctl restart jarvis.service']));
    expect(existsSync(r('.shim/state/systemd/jarvis.active'))).toBe(true);
  });

  it('is the upgrade path: run again, it replaces the code and keeps the env file, the specs, the key and the data', { timeout: 60_000 }, () => {
    const box = sandbox();
    expect(install(box).code).toBe(0);
    const r = (p: string) => join(box.root, p);
    writeFileSync(r('etc/jarvis/jarvis.env'), 'JARVIS_APPROVERS=discord:111111111111111111\n');
    writeFileSync(r('etc/jarvis/specs/site.yaml'), '# mine\n');
    writeFileSync(r('var/lib/jarvis/journal-marker'), 'x');
    writeFileSync(r('opt/jarvis/stale-file'), 'old release');
    const key = readFileSync(r('etc/jarvis/id_ed25519'), 'utf8');
    const again = install(box);
    expect(again.code).toBe(0);
    expect(again.out).toContain('kept /etc/jarvis/jarvis.env');
    expect(readFileSync(r('etc/jarvis/jarvis.env'), 'utf8')).toBe('JARVIS_APPROVERS=discord:111111111111111111\n');
    expect(readFileSync(r('etc/jarvis/specs/site.yaml'), 'utf8')).toBe('# mine\n');
    expect(readFileSync(r('var/lib/jarvis/journal-marker'), 'utf8')).toBe('x');
    expect(readFileSync(r('etc/jarvis/id_ed25519'), 'utf8')).toBe(key);
    expect(existsSync(r('opt/jarvis/stale-file'))).toBe(false);
    expect(readShimCalls(box.root).filter((c) => c.tool === 'useradd')).toHaveLength(1);
  });

  it('refuses a Node older than 20 with what to do, and installs nothing', () => {
    const box = sandbox();
    const fake = join(box.root, '..', 'node18');
    writeFileSync(fake, '#!/bin/sh\n[ "$1" = --version ] && echo v18.19.0 || echo 18\n');
    chmodSync(fake, 0o755);
    const { code, out } = install(box, { JARVIS_REAL_NODE: fake });
    expect(code).toBe(1);
    expect(out).toContain('Node.js >= 20 is required, found v18.19.0 (Debian 12 ships Node 18): use Debian 13, or install Node 20 from NodeSource');
    expect(existsSync(join(box.root, 'opt/jarvis'))).toBe(false);
    expect(readShimCalls(box.root).some((c) => c.tool === 'useradd')).toBe(false);
  });
});
