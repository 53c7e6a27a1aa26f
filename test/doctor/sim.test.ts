// `jarvis doctor` against the simulated node: healthy with what `jarvis sim` prints; each broken setting named.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type RunningSim } from '../../sim/server.ts';
import { byId, doctor, simEnv, tempDataDir } from './support.ts';
import { registerDiscordCommands } from '../../cli/commands/register-discord.ts';
import { FAKE_IDS, FakeDiscord } from '../fakes/discord.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FLIPPED = (fingerprint: string): string => (fingerprint.startsWith('AA') ? `BB${fingerprint.slice(2)}` : `AA${fingerprint.slice(2)}`);

/** Starts `jarvis sim` as a user would and reads the variables it prints. */
async function jarvisSim(): Promise<{ env: Record<string, string>; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['bin/jarvis.js', 'sim'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const env = await new Promise<Record<string, string>>((resolve, reject) => {
    // Ready once both the variables and the stderr banner (written just before it waits for a signal) are out.
    const ready = (): void => {
      if (!out.includes('JARVIS_MGMT_SSH_PORT=') || !err.includes('Ctrl-C to stop')) return;
      const pairs = [...out.matchAll(/^([A-Z_]+)='(.*)'$/gm)].map((m) => [m[1]!, m[2]!.replace(/'\\''/g, "'")]);
      resolve(Object.fromEntries(pairs));
    };
    child.stdout.on('data', (chunk: Buffer) => ((out += chunk.toString()), ready()));
    child.stderr.on('data', (chunk: Buffer) => ((err += chunk.toString()), ready()));
    child.once('exit', (code) => reject(new Error(`jarvis sim exited ${code}: ${err}`)));
  });
  return {
    env,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describe('jarvis doctor against the environment `jarvis sim` prints', () => {
  it('passes every Proxmox, SSH and Tailscale check and exits 0 (with Discord and an approver, on the local fake)', async () => {
    const sim = await jarvisSim();
    const discord = await new FakeDiscord().start();
    try {
      discord.users.set('400000000000000400', 'alice');
      discord.members.set('400000000000000400', []);
      const chat = { DISCORD_TOKEN: 'doctor-sim-token', DISCORD_APP_ID: FAKE_IDS.application, DISCORD_GUILD_ID: FAKE_IDS.guild, DISCORD_ALERT_CHANNEL_ID: FAKE_IDS.alertChannel, DISCORD_API_BASE: discord.apiBase, JARVIS_APPROVERS: 'discord:400000000000000400' };
      await registerDiscordCommands(chat);
      const { code, checks, text } = await doctor({ ...sim.env, ...chat, JARVIS_DATA_DIR: tempDataDir() });
      for (const id of ['config', 'placeholders', 'proxmox.reach', 'proxmox.privileges', 'clock', 'node.storages', 'ssh.proxmox', 'tailscale.devices', 'tailscale.policy', 'tailscale.authkey', 'chat', 'approvers.discord:400000000000000400', 'alerts.discord', 'webhook', 'data-dir']) {
        expect(byId(checks, id), id).toMatchObject({ status: 'pass' });
      }
      expect(checks.filter((c) => c.status === 'fail')).toEqual([]);
      // A fresh PVE 9 node: enterprise repositories without a subscription (a warning with the way out, not a failure).
      expect(byId(checks, 'node.apt')).toMatchObject({ status: 'warn', summary: expect.stringMatching(/pve-enterprise\.sources.*without subscription credentials: apt-get update fails with 401/), fix: expect.stringContaining('pve-no-subscription') });
      expect(code).toBe(0);
      expect(text).toMatch(/^✓ Proxmox: VE \S+ at https:\/\/127\.0\.0\.1:\d+, node proxmox; certificate matches the pinned fingerprint$/m);
      expect(text).toContain(`✓ SSH proxmox (root@127.0.0.1:${sim.env.JARVIS_MGMT_SSH_PORT}): host key matches the pin ${sim.env.SSH_HOST_PINS!.split('=')[1]}; login works`);
      expect(text).toMatch(/^all \d+ checks passed/m);
      expect(text).not.toContain(sim.env.PROXMOX_TOKEN_SECRET!);
    } finally {
      await discord.stop();
      await sim.stop();
    }
  });
});

describe('jarvis doctor against a simulated node that is set up wrong', () => {
  let sim: RunningSim;
  const readOnly = { tokenId: 'audit@pve!ro', secret: '11111111-2222-3333-4444-555555555555' };
  beforeAll(async () => {
    sim = await startSim({ tokens: [{ tokenId: 'jarvis@pve!chatops', secret: '99999999-8888-7777-6666-555555555555', privileges: 'admin' }, { ...readOnly, privileges: 'readonly' }] });
  });
  afterAll(() => sim.close());

  it('fails on a wrong PROXMOX_FINGERPRINT, naming the expected and the presented fingerprint', async () => {
    const wrong = FLIPPED(sim.fingerprint);
    const { code, checks, text } = await doctor(simEnv(sim, { PROXMOX_FINGERPRINT: wrong }));
    expect(code).toBe(1);
    const tls = byId(checks, 'proxmox.tls');
    expect(tls.status).toBe('fail');
    expect(tls.summary).toContain(`presented a certificate with SHA-256 ${sim.fingerprint}`);
    expect(tls.summary).toContain(`PROXMOX_FINGERPRINT expects ${wrong}`);
    expect(tls.fix).toContain('pvenode cert info');
    expect(text).toContain(`✗ Proxmox TLS pin: ${sim.url} presented a certificate with SHA-256 ${sim.fingerprint}`);
    // Nothing else is asked of a node that may not be ours.
    expect(checks.map((c) => c.id)).not.toContain('proxmox.privileges');
    expect(checks.map((c) => c.id)).not.toContain('clock');
  });

  it('fails a read-only token, naming the missing privileges and the pveum recipe for that token', async () => {
    const { code, checks } = await doctor(simEnv(sim, { PROXMOX_TOKEN_ID: readOnly.tokenId, PROXMOX_TOKEN_SECRET: readOnly.secret }));
    expect(code).toBe(1);
    const privileges = byId(checks, 'proxmox.privileges');
    expect(privileges.status).toBe('fail');
    expect(privileges.summary).toContain(`token ${readOnly.tokenId} lacks`);
    for (const missing of ['VM.Allocate', 'Sys.Modify', 'VM.Snapshot', 'VM.GuestAgent.Unrestricted']) expect(privileges.summary).toContain(missing);
    expect(privileges.summary).not.toContain('VM.Audit (');
    expect(privileges.fix).toContain('pveum role add JarvisOps -privs "Sys.Audit,Sys.Modify,');
    expect(privileges.fix).toContain(`pveum acl modify / -token '${readOnly.tokenId}' -role JarvisOps`);
    expect(byId(checks, 'proxmox.reach').status).toBe('pass');
  });

  it('fails a wrong SSH pin, showing the key the host presented', async () => {
    const pinned = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const { code, checks } = await doctor(simEnv(sim, { SSH_HOST_PINS: `proxmox=${pinned}` }));
    expect(code).toBe(1);
    const ssh = byId(checks, 'ssh.proxmox');
    expect(ssh).toMatchObject({ status: 'fail', summary: `SSH proxmox (root@127.0.0.1:${sim.mgmtSshPort}): host key ${sim.mgmtSshFingerprint} does not match the pinned ${pinned}` });
    expect(ssh.fix).toContain('SSH_HOST_PINS');
  });

  it('fails an SSH host without a pin and never logs in to it', async () => {
    const { checks } = await doctor(simEnv(sim, { SSH_HOST_PINS: undefined }));
    const ssh = byId(checks, 'ssh.proxmox');
    expect(ssh.status).toBe('fail');
    expect(ssh.summary).toContain('no pinned host key in SSH_HOST_PINS');
    expect(ssh.fix).toContain(`ssh-keyscan -p ${sim.mgmtSshPort} -t ed25519 127.0.0.1 | ssh-keygen -lf -`);
  });

  it('fails a wrong token secret as refused, without printing either secret', async () => {
    const secret = 'canary-0000-not-the-secret';
    const { checks, text } = await doctor(simEnv(sim, { PROXMOX_TOKEN_ID: 'jarvis@pve!chatops', PROXMOX_TOKEN_SECRET: secret }));
    expect(byId(checks, 'proxmox.reach')).toMatchObject({ status: 'fail', summary: expect.stringContaining('refused token jarvis@pve!chatops') });
    expect(text).not.toContain(secret);
    expect(text).not.toContain(sim.tokenSecret);
  });

  it('fails an unreachable node with what to check', async () => {
    const port = await closedPort();
    const { checks } = await doctor(simEnv(sim, { PROXMOX_URL: `https://127.0.0.1:${port}` }));
    const reach = byId(checks, 'proxmox.reach');
    expect(reach.status).toBe('fail');
    expect(reach.summary).toContain(`https://127.0.0.1:${port}`);
    expect(reach.summary).toContain('ECONNREFUSED');
    expect(reach.fix).toContain('PROXMOX_URL');
  });

  it('fails a wrong node name', async () => {
    const { checks } = await doctor(simEnv(sim, { PROXMOX_NODE: 'pve2' }));
    expect(byId(checks, 'proxmox.reach')).toMatchObject({ status: 'fail', summary: expect.stringContaining('node "pve2"'), fix: expect.stringContaining('PROXMOX_NODE') });
  });

  it('fails a rejected Tailscale API key', async () => {
    const { checks } = await doctor(simEnv(sim, { TAILSCALE_API_KEY: 'tskey-api-wrong' }));
    expect(byId(checks, 'tailscale.devices')).toMatchObject({ status: 'fail', summary: expect.stringContaining('API key rejected') });
    expect(byId(checks, 'tailscale.policy').status).toBe('fail');
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
