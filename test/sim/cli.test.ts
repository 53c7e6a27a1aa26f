import { loadConfig } from '../../lib/config.ts';
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { Agent, request } from 'undici';
import { parseCommandLine } from '../../cli/args.ts';
import { command, simOptionsFrom } from '../../cli/commands/sim.ts';

/** The startSim options a `jarvis sim` command line asks for, through the CLI's parser. */
function parseSimArgs(args: string[]): { options: ReturnType<typeof simOptionsFrom> } {
  const parsed = parseCommandLine(command.spec, args);
  if (parsed === 'help') throw new Error('unexpected --help');
  return { options: simOptionsFrom(parsed) };
}

const JARVIS = fileURLToPath(new URL('../../bin/jarvis.js', import.meta.url));

describe('jarvis sim', () => {
  it('parses options and refuses a non-loopback listen address unless allowed', () => {
    const { options } = parseSimArgs(['--scenario', 'phase1', '--task-seconds', '0.5', '--fault', '5xx:0.1', '--fault', 'task-fail:vzdump', '--listen', '127.0.0.1:8006', '--token', 'jarvis@pve!ci=abc-123']);
    expect(options).toMatchObject({ scenario: 'phase1', taskSeconds: 0.5, faults: ['5xx:0.1', 'task-fail:vzdump'], host: '127.0.0.1', port: 8006, tokens: [{ tokenId: 'jarvis@pve!ci', secret: 'abc-123' }] });
    expect(() => parseSimArgs(['--listen', '0.0.0.0:8006'])).toThrow(/loopback only/);
    expect(parseSimArgs(['--listen', '0.0.0.0:8006', '--allow-non-loopback']).options.host).toBe('0.0.0.0');
    expect(() => parseSimArgs(['--scenario', 'phase9'])).toThrow(/--scenario: unknown value "phase9"/);
    expect(() => parseSimArgs(['--token', 'no-realm=abc'])).toThrow(/USER@REALM!TOKENID=SECRET/);
  });

  it('prints sourceable variables, serves them, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [JARVIS, 'sim', '--scenario', 'phase0', '--task-seconds', '0.05'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        stdout += chunk.toString();
        if (stdout.includes('JARVIS_MGMT_SSH_PORT=')) resolve();
      });
      child.on('exit', () => reject(new Error(`exited early: ${stderr}`)));
    });
    const env = Object.fromEntries(stdout.trim().split('\n').map((line) => {
      const match = /^([A-Z_]+)='(.*)'$/.exec(line)!;
      return [match[1], match[2]];
    }));
    expect(Object.keys(env)).toEqual(['PROXMOX_URL', 'PROXMOX_FINGERPRINT', 'PROXMOX_TOKEN_ID', 'PROXMOX_TOKEN_SECRET', 'PROXMOX_NODE', 'TAILSCALE_API_URL', 'TAILSCALE_API_KEY', 'TAILSCALE_TAILNET', 'TAILSCALE_AUTHKEY_FILE', 'SSH_HOSTS', 'SSH_HOST_PINS', 'SSH_KEY_PATH', 'SSH_USER', 'JARVIS_SITE_FILE', 'JARVIS_GATEWAY_ADDRESS', 'JARVIS_MGMT_HOST', 'JARVIS_MGMT_SSH_PORT', 'JARVIS_FIREWALL_CYCLE_SECONDS']);
    // pve-firewall's 10 s cycle, scaled like every simulated duration (the default task duration stands for real time).
    expect(Number(env.JARVIS_FIREWALL_CYCLE_SECONDS)).toBeGreaterThan(0);
    // The printed environment is a complete Jarvis configuration for this lab.
    expect(() => loadConfig(env)).not.toThrow();
    expect(env.SSH_HOST_PINS).toMatch(/^proxmox=SHA256:[A-Za-z0-9+/]{43}$/);
    expect(env.PROXMOX_URL).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    // Pin: fetch the served certificate, check it against PROXMOX_FINGERPRINT, then trust exactly that certificate.
    const url = new URL(env.PROXMOX_URL!);
    const served = await new Promise<X509Certificate>((resolve, reject) => {
      const socket = connect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false }, () => {
        resolve(socket.getPeerX509Certificate()!);
        socket.end();
      });
      socket.on('error', reject);
    });
    expect(served.fingerprint256).toBe(env.PROXMOX_FINGERPRINT);
    const agent = new Agent({ connect: { ca: served.toString(), servername: 'proxmox' } });
    const res = await request(`${env.PROXMOX_URL}/api2/json/nodes`, { dispatcher: agent, headers: { authorization: `PVEAPIToken=${env.PROXMOX_TOKEN_ID}=${env.PROXMOX_TOKEN_SECRET}` } });
    expect(res.statusCode).toBe(200);
    const nodes = (await res.body.json()) as { data: Array<{ node: string; ssl_fingerprint: string }> };
    expect(nodes.data[0]).toMatchObject({ node: 'proxmox', ssl_fingerprint: env.PROXMOX_FINGERPRINT });
    await agent.close();
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (exitCode) => resolve(exitCode));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
    expect(stderr).toContain('stopped');
  });
});
