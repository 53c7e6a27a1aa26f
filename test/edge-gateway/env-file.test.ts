// One environment file for the service and the commands run beside it: `jarvis register-discord` and `jarvis doctor`
// read the file JARVIS_ENV_FILE names (what /usr/local/bin/jarvis sets, as the unit's EnvironmentFile=), and the
// data directory comes from that file, never from the unit or a ./data of the working directory.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { FAKE_IDS, FakeDiscord } from '../fakes/discord.ts';

const REPO = new URL('../../', import.meta.url).pathname;

function jarvis(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO, 'bin/jarvis.js'), ...args], { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

let dir: string;
let discord: FakeDiscord;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jarvis-env-file-'));
  discord = await new FakeDiscord().start();
});
afterEach(async () => {
  await discord.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the environment file', () => {
  it('register-discord and doctor read the file JARVIS_ENV_FILE names; doctor creates no data directory', { timeout: 60_000 }, async () => {
    const data = join(dir, 'var-lib-jarvis');
    const envFile = join(dir, 'jarvis.env');
    writeFileSync(
      envFile,
      [`DISCORD_TOKEN=env-file-token`, `DISCORD_APP_ID=${FAKE_IDS.application}`, `DISCORD_GUILD_ID=${FAKE_IDS.guild}`, `DISCORD_API_BASE=${discord.apiBase}`, `JARVIS_DATA_DIR=${data}`, ''].join('\n'),
      { mode: 0o640 },
    );
    const registered = await jarvis(['register-discord'], { JARVIS_ENV_FILE: envFile }, dir);
    expect(registered.out).toContain(`registered /jarvis in guild ${FAKE_IDS.guild}`);
    expect(registered.code).toBe(0);
    expect(discord.calls('PUT', /\/commands$/)[0]?.authorization).toBe('Bot env-file-token');

    const checked = await jarvis(['doctor', '--json'], { JARVIS_ENV_FILE: envFile }, dir);
    const checks = (JSON.parse(checked.out.slice(checked.out.indexOf('{'))) as { checks: Array<{ id: string; summary: string; status: string }> }).checks;
    expect(checks.find((c) => c.id === 'discord.command')).toMatchObject({ status: 'pass' });
    expect(checks.find((c) => c.id === 'data-dir')).toMatchObject({ status: 'fail', summary: `data directory ${data}: does not exist` });
    expect(existsSync(data)).toBe(false);
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('under systemd the data directory is the unit’s StateDirectory when the file names none, and the unit no longer sets it', () => {
    expect(loadConfig({ STATE_DIRECTORY: '/var/lib/jarvis' }).dataDir).toBe('/var/lib/jarvis');
    expect(loadConfig({ STATE_DIRECTORY: '/var/lib/jarvis', JARVIS_DATA_DIR: '/srv/jarvis' }).dataDir).toBe('/srv/jarvis');
    const unit = readFileSync(join(REPO, 'deploy/edge-gateway/jarvis.service'), 'utf8');
    expect(unit).not.toMatch(/^Environment=JARVIS_DATA_DIR/m);
    expect(unit).toMatch(/^EnvironmentFile=\/etc\/jarvis\/jarvis\.env$/m);
    expect(unit).toMatch(/^StateDirectory=jarvis$/m);
  });
});
