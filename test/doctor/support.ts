// Drives `jarvis doctor` in-process and builds the environment `jarvis sim` prints from a running simulator.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main.ts';
import type { CheckResult } from '../../app/doctor/result.ts';
import type { RunningSim } from '../../sim/server.ts';

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'jarvis-doctor-'));
}

/** The variables `jarvis sim` prints (cli/commands/sim.ts), plus a private data directory. */
export function simEnv(sim: RunningSim, overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const host = new URL(sim.url).hostname;
  return {
    PROXMOX_URL: sim.url,
    PROXMOX_FINGERPRINT: sim.fingerprint,
    PROXMOX_TOKEN_ID: sim.tokenId,
    PROXMOX_TOKEN_SECRET: sim.tokenSecret,
    PROXMOX_NODE: sim.node,
    TAILSCALE_API_URL: sim.tailscaleUrl,
    TAILSCALE_API_KEY: sim.tailscaleApiKey,
    TAILSCALE_TAILNET: '-',
    SSH_HOSTS: `${sim.node}=${host}:${sim.mgmtSshPort}`,
    SSH_HOST_PINS: `${sim.node}=${sim.mgmtSshFingerprint}`,
    SSH_KEY_PATH: sim.mgmtSshKeyPath,
    SSH_USER: 'root',
    JARVIS_DATA_DIR: tempDataDir(),
    ...overrides,
  };
}

export interface DoctorRun {
  code: number;
  text: string;
  checks: CheckResult[];
}

/** Runs `jarvis doctor --json` and `jarvis doctor` with this environment. */
export async function doctor(env: Record<string, string | undefined>): Promise<DoctorRun> {
  let json = '';
  let text = '';
  const io = (sink: (s: string) => void) => ({ stdout: sink, stderr: sink, env, cwd: tmpdir() });
  const code = await main(['doctor', '--json'], io((s) => (json += s)));
  const textCode = await main(['doctor'], io((s) => (text += s)));
  if (textCode !== code) throw new Error(`--json exited ${code}, text exited ${textCode}`);
  const parsed = JSON.parse(json) as { ok: boolean; checks: CheckResult[] };
  if (parsed.ok !== (code === 0)) throw new Error(`ok=${parsed.ok} but exit ${code}`);
  return { code, text, checks: parsed.checks };
}

export function byId(checks: CheckResult[], id: string): CheckResult {
  const found = checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id} in ${checks.map((c) => c.id).join(', ')}`);
  return found;
}
