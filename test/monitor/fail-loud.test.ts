// Monitoring never goes silent when Jarvis cannot read the lab: `jarvis watch --once` and `jarvis status` against a
// simulated node that answers 401 to a token it no longer accepts (as pveproxy does for a removed or mistyped token),
// then against the same node with the right token.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import type { CliIo } from '../../cli/io.ts';
import type { StatusReport } from '../../monitor/types.ts';
import { startSim, type RunningSim } from '../../sim/server.ts';

const TOKEN = { tokenId: 'jarvis@pve!chatops', secret: 'a1b2c3d4-0000-4000-8000-fail1oud0401' };
const WRONG = 'a1b2c3d4-0000-4000-8000-000000000bad';

let sim: RunningSim;
let dataDir: string;
beforeAll(async () => {
  sim = await startSim({ scenario: 'phase0', tokens: [{ ...TOKEN, privileges: 'readonly' }] });
  dataDir = mkdtempSync(join(tmpdir(), 'jarvis-fail-loud-'));
});
afterAll(async () => {
  await sim.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function jarvis(args: string[], secret: string, env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    env: {
      JARVIS_DATA_DIR: dataDir,
      PROXMOX_URL: sim.url,
      PROXMOX_FINGERPRINT: sim.fingerprint,
      PROXMOX_TOKEN_ID: TOKEN.tokenId,
      PROXMOX_TOKEN_SECRET: secret,
      TAILSCALE_API_URL: sim.tailscaleUrl,
      TAILSCALE_API_KEY: sim.tailscaleApiKey,
      JARVIS_DRIFT_PHASE: 'off',
      ...env,
    },
    cwd: process.cwd(),
  };
  const code = await main(args, io);
  return { code, out, err };
}

const alertKeys = (out: string): string[] => [...out.matchAll(/^ {2}key: (.*)$/gm)].map((m) => m[1]!);

describe('a node answering 401', () => {
  it('jarvis watch --once raises one critical alert, exits 4 each time, and announces the recovery once when the token works again', async () => {
    const first = await jarvis(['watch', '--once'], WRONG);
    expect(first.code).toBe(4);
    expect(alertKeys(first.out)).toEqual(['lab-unreadable']);
    expect(first.out).toMatch(/^✗ CRITICAL {2}Jarvis cannot read Proxmox/);
    expect(first.out).toContain('error: Proxmox answered 401 to GET');
    expect(first.out).toContain('fix: the API token was rejected: check PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET');
    expect(first.err).toMatch(/cannot read Proxmox at https:\/\/127\.0\.0\.1:\d+: Proxmox answered 401 .*\n {2}fix: the API token was rejected/);

    const second = await jarvis(['watch', '--once'], WRONG);
    expect(second.code).toBe(4);
    expect(alertKeys(second.out)).toEqual([]);
    expect(second.err).toMatch(/0 alerts raised, 1 already raised/);

    const back = await jarvis(['watch', '--once'], TOKEN.secret);
    expect(back.code).toBe(0);
    const recovered = back.out.split(/\n(?=\S)/).filter((block) => /key: recovered:lab-unreadable:/.test(block));
    expect(recovered).toHaveLength(1);
    expect(recovered[0]).toMatch(/^ℹ INFO {2}Jarvis can read Proxmox again/);

    const later = await jarvis(['watch', '--once'], TOKEN.secret);
    expect(later.code).toBe(0);
    expect(alertKeys(later.out).filter((k) => k.includes('lab-unreadable'))).toEqual([]);

    for (const run of [first, second, back, later]) expect(`${run.out}${run.err}`).not.toContain(WRONG);
  });

  it('jarvis status exits 4 with a critical headline naming the 401 and the fix, and 0 once the token works', async () => {
    const refused = await jarvis(['status', '--json'], WRONG);
    expect(refused.code).toBe(4);
    const report = JSON.parse(refused.out) as StatusReport;
    expect(report.level).toBe('critical');
    expect(report.unreadable?.reason).toMatch(/^Proxmox answered 401 to GET /);
    expect(report.attention).toHaveLength(1);
    expect(report.headline).toMatch(/^1 thing needs attention: Jarvis cannot read Proxmox, so nothing below is current: Proxmox answered 401/);
    expect(refused.err).toContain('fix: the API token was rejected');

    const readable = await jarvis(['status'], TOKEN.secret);
    expect(readable.code).toBe(0);
    expect(readable.out).not.toContain('cannot read Proxmox');
  });
});

describe('a node whose certificate is not the pinned one', () => {
  it('is unreadable too: status exits 4 with the certificate fix, and watch raises the alert', async () => {
    const flipped = sim.fingerprint.startsWith('AA') ? `BB${sim.fingerprint.slice(2)}` : `AA${sim.fingerprint.slice(2)}`;
    const status = await jarvis(['status'], TOKEN.secret, { PROXMOX_FINGERPRINT: flipped, JARVIS_DATA_DIR: join(dataDir, 'pin') });
    expect(status.code).toBe(4);
    expect(status.err).toMatch(/fix: the node's certificate is not the one PROXMOX_FINGERPRINT \(or PROXMOX_CA_FILE\) names/);
    const watch = await jarvis(['watch', '--once'], TOKEN.secret, { PROXMOX_FINGERPRINT: flipped, JARVIS_DATA_DIR: join(dataDir, 'pin') });
    expect(watch.code).toBe(4);
    expect(alertKeys(watch.out)).toEqual(['lab-unreadable']);
  });
});
