// bin/jarvis.js runs dist/ only while it is current, else the sources through tsx. Proven on a private copy of the
// package, so no real source is touched: a marker placed in the bundle shows when dist/ runs, an edited source
// shows the fallback.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freshBuild } from '../../bin/fresh-build.js';
import { buildDist } from '../../scripts/build.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGE = ['app', 'bin', 'bot', 'cli', 'commands', 'deploy', 'infra', 'lib', 'monitor', 'planner', 'sim', 'scripts', 'specs', 'package.json', 'slack-app-manifest.yaml', 'tsconfig.json'];
const SUMMARY = 'validate specs (schema + guardrails)';
const AN_HOUR_AGO = new Date(Date.now() - 3_600_000);

const copies: string[] = [];
afterEach(() => {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function age(path: string): void {
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) age(child);
    else if (entry.isFile()) utimesSync(child, AN_HOUR_AGO, AN_HOUR_AGO);
  }
}

/** A copy of the package whose sources are an hour old, sharing node_modules, optionally built. */
async function packageCopy(built = true): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'jarvis-bin-'));
  copies.push(dir);
  for (const name of PACKAGE) cpSync(join(ROOT, name), join(dir, name), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  age(dir);
  if (built) await buildDist(dir);
  return dir;
}

function jarvis(dir: string, args: string[], extra: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, JARVIS_DEBUG: '1', ...extra };
  delete env.JARVIS_ENV_FILE;
  const result = spawnSync(process.execPath, ['bin/jarvis.js', ...args], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Marks the bundled command summary, so the output tells which code ran. */
function markBundle(dir: string): void {
  const main = join(dir, 'dist', 'main.js');
  const text = readFileSync(main, 'utf8');
  expect(text).toContain(SUMMARY);
  writeFileSync(main, text.replace(SUMMARY, 'validate specs [from dist]'));
}

describe('bin/jarvis.js', () => {
  it('runs dist/ when it was built after every source', async () => {
    const dir = await packageCopy();
    markBundle(dir);
    const run = jarvis(dir, ['help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('validate specs [from dist]');
    expect(run.stderr).toBe('');
  });

  it('runs the sources through tsx once a source is newer than the build', async () => {
    const dir = await packageCopy();
    markBundle(dir);
    const source = join(dir, 'cli', 'main.ts');
    writeFileSync(source, readFileSync(source, 'utf8').replace(SUMMARY, 'validate specs [from source]'));
    const run = jarvis(dir, ['help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('validate specs [from source]');
    expect(run.stdout).not.toContain('[from dist]');
    expect(run.stderr).toContain('jarvis: running the sources through tsx: cli/main.ts changed after the build');
  });

  it('runs the sources when there is no build', async () => {
    const dir = await packageCopy(false);
    const run = jarvis(dir, ['help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(SUMMARY);
    expect(run.stderr).toContain('running the sources through tsx: no build (npm run build)');
  });

  it('runs, bundled, the commands that read files kept beside their sources (schema.json, the simulator)', async () => {
    const dir = await packageCopy();
    // The simulated node's site (sim/site.yaml, found beside the bundled simulator's sources): no placeholders.
    const check = jarvis(dir, ['check'], { JARVIS_SITE_FILE: 'sim/site.yaml' });
    expect(check.stderr).not.toContain('through tsx');
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('specs/jarvis-homelab.desired.yaml: ok');

    // `jarvis sim` validates every request against lib/pve-schema/schema.json and seeds guests from sim/guest/shims.
    const child = spawn(process.execPath, ['bin/jarvis.js', 'sim'], { cwd: dir, env: { ...process.env, JARVIS_DEBUG: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    await new Promise<void>((resolve, reject) => {
      const ready = (): void => {
        if (out.includes('JARVIS_MGMT_SSH_PORT=') && err.includes('Ctrl-C to stop')) resolve();
      };
      child.stdout.on('data', (chunk: Buffer) => ((out += chunk.toString()), ready()));
      child.stderr.on('data', (chunk: Buffer) => ((err += chunk.toString()), ready()));
      void exited.then((code) => reject(new Error(`jarvis sim exited ${code}: ${err}`)));
    });
    // jarvis sim installs its signal handlers just after printing, so the status of this stop is not asserted.
    child.kill('SIGTERM');
    await exited;
    expect(err).toContain('jarvis sim: scenario fresh on https://127.0.0.1:');
    expect(err).not.toContain('through tsx');
    expect(err).not.toContain('error');
    expect(out).toMatch(/^PROXMOX_URL='https:\/\/127\.0\.0\.1:\d+'$/m);
  });
});

describe('freshBuild', () => {
  it('names the source that is gone or newer, and accepts a current build', async () => {
    const dir = await packageCopy();
    expect(freshBuild(dir)).toEqual({ entry: join(dir, 'dist', 'main.js') });
    const manifest = JSON.parse(readFileSync(join(dir, 'dist', 'manifest.json'), 'utf8')) as { inputs: string[] };
    expect(manifest.inputs).toEqual(expect.arrayContaining(['cli/main.ts', 'cli/commands/check.ts', 'lib/pve-schema/index.ts']));
    utimesSync(join(dir, 'lib', 'config.ts'), new Date(), new Date());
    expect(freshBuild(dir)).toEqual({ stale: 'lib/config.ts changed after the build' });
    utimesSync(join(dir, 'lib', 'config.ts'), AN_HOUR_AGO, AN_HOUR_AGO);
    rmSync(join(dir, 'lib', 'errors.ts'));
    expect(freshBuild(dir)).toEqual({ stale: 'lib/errors.ts is gone' });
  });

  it('treats the build as stale when an inlined package is not the installed version', async () => {
    const dir = await packageCopy();
    const path = join(dir, 'dist', 'manifest.json');
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as { packages: Record<string, string> };
    const installed = (JSON.parse(readFileSync(join(ROOT, 'node_modules', 'zod', 'package.json'), 'utf8')) as { version: string }).version;
    expect(manifest.packages.zod).toBe(installed);
    writeFileSync(path, JSON.stringify({ ...manifest, packages: { ...manifest.packages, zod: '0.0.1' } }));
    expect(freshBuild(dir)).toEqual({ stale: `zod ${installed} is installed, the build inlined 0.0.1` });
  });

  it('treats a missing or foreign manifest as no build', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jarvis-bin-'));
    copies.push(dir);
    expect(freshBuild(dir)).toEqual({ stale: 'no build (npm run build)' });
    cpSync(join(ROOT, 'package.json'), join(dir, 'dist', 'manifest.json'));
    expect(statSync(join(dir, 'dist', 'manifest.json')).isFile()).toBe(true);
    expect(freshBuild(dir)).toEqual({ stale: 'dist/manifest.json is not a build manifest' });
  });
});
