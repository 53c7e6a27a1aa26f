// `jarvis rollback`: the CLI is where Jarvis's own VM may be rolled back, from another machine only (not from inside
// that VM, whose NICs carry the MACs its config names).
import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedMacs } from '../../cli/commands/rollback.ts';
import { main } from '../../cli/main.ts';
import { createProxmoxClient } from '../../infra/proxmox/client.ts';
import { Secret } from '../../lib/secret.ts';
import { startSim, type RunningSim } from '../../sim/server.ts';

let sim: RunningSim;
let dir: string;
beforeAll(async () => {
  sim = await startSim({ scenario: 'phase0', taskSeconds: 0.05 });
  dir = mkdtempSync(join(tmpdir(), 'jarvis-cli-rollback-'));
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

async function jarvis(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const env = {
    PROXMOX_URL: sim.url,
    PROXMOX_FINGERPRINT: sim.fingerprint,
    PROXMOX_TOKEN_ID: sim.tokenId,
    PROXMOX_TOKEN_SECRET: sim.tokenSecret,
    JARVIS_DATA_DIR: dir,
    JARVIS_SITE_FILE: sim.siteFile,
  };
  const code = await main(['rollback', ...args], { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env, cwd: process.cwd() });
  return { code, out, err };
}

describe('jarvis rollback', () => {
  it('plans the rollback of Jarvis’s own VM from another machine, saying Jarvis goes offline', async () => {
    const pve = createProxmoxClient({ url: sim.url, node: 'proxmox', tokenId: sim.tokenId, tokenSecret: new Secret(sim.tokenSecret), fingerprint: sim.fingerprint });
    try {
      expect((await pve.waitForTask(await pve.createSnapshot(100, 'before-upgrade', 'test'))).ok).toBe(true);
    } finally {
      await pve.close();
    }
    const { code, out, err } = await jarvis(['100', 'before-upgrade']);
    expect(err).toMatch(/saved as plan-\d{8}-[0-9a-f]{8}; apply it with: jarvis apply plan-\S+ --yes/);
    expect(code).toBe(0);
    expect(out).toContain('Jarvis itself goes offline for ~60 s (its VM is rolled back to a snapshot');
  });

  it('refuses an unknown snapshot (exit 1) and a VM id that is not one (exit 2)', async () => {
    expect((await jarvis(['100', 'nope'])).code).toBe(1);
    expect((await jarvis(['1x', 'nope'])).code).toBe(2);
  });

  it('knows when it runs inside the VM: a NIC MAC of the VM is one of this machine’s', () => {
    const local = Object.values(networkInterfaces()).flatMap((a) => a ?? []).find((a) => !a.internal && a.mac !== '00:00:00:00:00:00')?.mac.toUpperCase();
    const config = { net0: `virtio=${local ?? 'BC:24:11:00:00:01'},bridge=vmbr0,firewall=1`, memory: '2048' };
    expect(sharedMacs(config, local ? [local] : [])).toEqual(local ? [local] : []);
    expect(sharedMacs({ net0: 'virtio=BC:24:11:AA:BB:CC,bridge=vmbr0' }, local ? [local] : [])).toEqual([]);
  });
});
