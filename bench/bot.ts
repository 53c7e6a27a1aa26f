// The real shape of the deployed bot: `jarvis bot` as a process of its own (the node flags of the unit's ExecStart),
// with both adapters connected to the local Discord and Slack fakes, against a `jarvis sim` running as another process
// (no simulator in the bot's process), and the watchers on their schedule.
//   startupMs   process start to the "Jarvis is ready" log line (both adapters connected), median
//   idleRssMb   resident memory 3 s after ready, median
// Run directly to print JSON: `node bin/run-ts.js bench/bot.ts`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FAKE_IDS, FakeDiscord } from '../test/fakes/discord.ts';
import { FakeSlack, SLACK_IDS } from '../test/fakes/slack.ts';

const READY = 'Jarvis is ready';
const JARVIS = 'bin/jarvis.js';

/** The node flags of the unit's ExecStart (deploy/edge-gateway/jarvis.service): the process the gateway runs. */
function unitFlags(): string[] {
  const unit = readFileSync('deploy/edge-gateway/jarvis.service', 'utf8');
  const exec = /^ExecStart=\S+ (.*) \/opt\/jarvis\/bin\/jarvis\.js bot$/m.exec(unit)?.[1] ?? '';
  return exec.split(/\s+/).filter((word) => word.startsWith('--'));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

/** `jarvis sim` in its own process; resolves with the variables it prints. */
async function startSim(): Promise<{ env: Record<string, string>; child: ChildProcess }> {
  const child = spawn(process.execPath, [JARVIS, 'sim', '--scenario', 'phase0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((ok, fail) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('JARVIS_MGMT_SSH_PORT=')) ok();
    });
    child.once('exit', (code) => fail(new Error(`jarvis sim exited ${code}`)));
  });
  const env = Object.fromEntries(out.trim().split('\n').map((line) => /^([A-Z_]+)='(.*)'$/.exec(line)).filter((m): m is RegExpExecArray => m !== null).map((m) => [m[1]!, m[2]!]));
  return { env, child };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killer);
}

async function botOnce(env: NodeJS.ProcessEnv, idleMs: number): Promise<{ startupMs: number; rssMb?: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'jarvis-bench-bot-'));
  const started = performance.now();
  const child = spawn(process.execPath, [...unitFlags(), JARVIS, 'bot'], { env: { ...env, JARVIS_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  try {
    const startupMs = await new Promise<number>((ok, fail) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes(READY)) ok(performance.now() - started);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => fail(new Error(`jarvis bot exited ${code} before ready:\n${output}`)));
      setTimeout(() => fail(new Error(`jarvis bot not ready within 30 s:\n${output}`)), 30_000).unref();
    });
    let rss: number | undefined;
    if (idleMs > 0) {
      await new Promise((r) => setTimeout(r, idleMs));
      rss = rssMb(child.pid!);
    }
    return { startupMs, ...(rss !== undefined ? { rssMb: rss } : {}) };
  } finally {
    await stop(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export interface BotBenchResult {
  startupMs: number;
  idleRssMb: number;
  runs: number;
  adapters: string[];
}

export async function benchBot(runs = 5): Promise<BotBenchResult> {
  const sim = await startSim();
  const discord = await new FakeDiscord().start();
  const slack = await new FakeSlack().start();
  try {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...sim.env,
      JARVIS_LOG_LEVEL: 'info',
      JARVIS_APPROVERS: 'discord:400000000000000400',
      DISCORD_TOKEN: 'bench-discord-token',
      DISCORD_APP_ID: FAKE_IDS.application,
      DISCORD_GUILD_ID: FAKE_IDS.guild,
      DISCORD_ALERT_CHANNEL_ID: FAKE_IDS.alertChannel,
      DISCORD_API_BASE: discord.apiBase,
      SLACK_BOT_TOKEN: 'xoxb-bench',
      SLACK_APP_TOKEN: 'xapp-bench',
      SLACK_ALERT_CHANNEL: SLACK_IDS.alertChannel,
      SLACK_API_URL: slack.apiUrl,
    };
    const startups: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < runs; i++) {
      const run = await botOnce(env, i < 3 ? 3_000 : 0);
      startups.push(run.startupMs);
      if (run.rssMb !== undefined) rss.push(run.rssMb);
    }
    return { startupMs: Math.round(median(startups)), idleRssMb: Math.round(median(rss) * 10) / 10, runs, adapters: ['discord', 'slack'] };
  } finally {
    await discord.stop();
    await slack.stop();
    await stop(sim.child);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  console.log(JSON.stringify(await benchBot(), null, 2));
}
