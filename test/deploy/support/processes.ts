// Integration helpers: the simulator as a separate `jarvis sim` process, plans made against it with the real planner,
// and `jarvis apply` as a child process that a test can kill -9 at a journaled point.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyDbPath } from '../../../deploy/db.ts';
import { Journal } from '../../../deploy/journal.ts';
import { createProxmoxClient, type ProxmoxClient } from '../../../infra/proxmox/client.ts';
import { Secret } from '../../../lib/secret.ts';
import { loadConfig } from '../../../lib/config.ts';
import { openConfiguredLab } from '../../../app/lab.ts';
import { scanPortsOf } from '../../../app/planning.ts';
import { buildPlan, phaseNumberOf, scanLab } from '../../../planner/index.ts';
import type { Plan, PlanPhase } from '../../../planner/plan.ts';
import { checkSpec } from '../../../planner/spec/guardrails.ts';
import { loadSpec, type LoadedSpec } from '../../../planner/spec/load.ts';
import { SIM_SITE_FILE } from '../../support/site.ts';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const JARVIS = join(REPO, 'bin/jarvis.js');
export const SPEC_PATH = 'specs/jarvis-homelab.desired.yaml';

export interface SimProcess {
  env: Record<string, string>;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startSimProcess(args: string[]): Promise<SimProcess> {
  const child = spawn(process.execPath, [JARVIS, 'sim', ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      stdout += chunk.toString();
      if (stdout.includes('JARVIS_FIREWALL_CYCLE_SECONDS=')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`jarvis sim exited early (${code}): ${stderr}`)));
  });
  const env = Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((line) => /^([A-Z_]+)='(.*)'$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
  return {
    env,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export function clientFor(env: Record<string, string>): ProxmoxClient {
  return createProxmoxClient({
    url: env.PROXMOX_URL!,
    node: env.PROXMOX_NODE,
    tokenId: env.PROXMOX_TOKEN_ID!,
    tokenSecret: new Secret(env.PROXMOX_TOKEN_SECRET!),
    fingerprint: env.PROXMOX_FINGERPRINT,
  });
}

export async function loadTestSpec(specPath: string = SPEC_PATH, site: string = SIM_SITE_FILE): Promise<LoadedSpec> {
  return loadSpec(isAbsolute(specPath) ? specPath : join(REPO, specPath), { cwd: REPO, site });
}

/** Plans against the `jarvis sim` process exactly as `jarvis plan` would: API, guest agent, host SSH and tailnet. */
export async function planAgainst(env: Record<string, string>, phase: PlanPhase, id: string, specPath: string = SPEC_PATH, opts: { selfVmid?: number } = {}): Promise<Plan> {
  // The site `jarvis sim` printed, as the `jarvis apply` child reads it.
  const loaded = await loadTestSpec(specPath, env.JARVIS_SITE_FILE ?? SIM_SITE_FILE);
  const { spec, source } = loaded;
  const lab = await openConfiguredLab(loadConfig(env));
  try {
    const state = await scanLab(scanPortsOf(lab.ports), spec, phaseNumberOf(phase, spec));
    return buildPlan({ spec, specPath, specSha256: source.sha256, phase, state, specFindings: checkSpec(loaded), requestedBy: 'cli:test', now: new Date().toISOString(), id, ...opts });
  } finally {
    await lab.close();
  }
}

export function savePlan(dataDir: string, plan: Plan): void {
  mkdirSync(join(dataDir, 'plans'), { recursive: true });
  writeFileSync(join(dataDir, 'plans', `${plan.id}.json`), JSON.stringify(plan, null, 2));
}

export interface ApplyRun {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startApply(args: string[], env: Record<string, string>, dataDir: string, extraEnv: Record<string, string> = {}): ApplyRun {
  const child = spawn(process.execPath, [JARVIS, 'apply', ...args], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, JARVIS_DATA_DIR: dataDir, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

/** Polls the apply store (read-only use of the journal API) until `ready` holds. */
export async function waitForJournal(dataDir: string, ready: (journal: Journal) => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const journal = Journal.open(applyDbPath(dataDir));
      try {
        if (ready(journal)) return;
      } finally {
        journal.close();
      }
    } catch {
      // The child may be creating the store right now.
    }
    if (Date.now() > deadline) throw new Error('the journal never reached the expected state');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
