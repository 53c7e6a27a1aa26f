// The real shape of the deployed bot: `jarvis bot` as a process of its own (the node flags of the unit's ExecStart and
// its Environment=), with both adapters connected to the local Discord and Slack fakes, against a `jarvis sim` running
// as another process (no simulator in the bot's process), and the watchers on a schedule that runs one round 25 s
// after the start.
//   startupMs             process start to the "Jarvis is ready" log line (both adapters connected), median
//   idleRssMb             resident memory 15 s after ready, median. V8's memory reducer collects what start-up left
//                         about 8 s after it (the same bot 3 s after ready holds ~6 MB more), so this is what the idle
//                         bot keeps between watcher rounds and chat commands.
//   rssAfterFirstWatchMb  resident memory 10 s after the first watcher round completed (its heartbeat in the alert
//                         store): that round loads the SSH client, reads the host's facts over SSH, plans the drift
//                         watch's phase and posts the alerts it raises to both fakes, median
// Run directly to print JSON: `node bin/run-ts.js bench/bot.ts`. dist/ must be current (`npm run build`): otherwise
// the bot runs its sources through tsx and the figures are those of tsx.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freshBuild } from '../bin/fresh-build.js';
import { readWatchState } from '../monitor/alert-store.ts';
import { FAKE_IDS, FakeDiscord } from '../test/fakes/discord.ts';
import { FakeSlack, SLACK_IDS } from '../test/fakes/slack.ts';

const READY = 'Jarvis is ready';
const JARVIS = 'bin/jarvis.js';
const UNIT = 'deploy/edge-gateway/jarvis.service';
const IDLE_AFTER_READY_MS = 15_000;
const ROUND_AFTER_START_MS = 25_000;
const SETTLE_AFTER_ROUND_MS = 10_000;

/** The node flags of the unit's ExecStart and the variables of its Environment= lines: the process the gateway runs. */
function unitProcess(): { flags: string[]; env: Record<string, string> } {
  const unit = readFileSync(UNIT, 'utf8');
  const exec = /^ExecStart=\S+ (.*) \/opt\/jarvis\/bin\/jarvis\.js bot$/m.exec(unit)?.[1] ?? '';
  const env = Object.fromEntries([...unit.matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  return { flags: exec.split(/\s+/).filter((word) => word.startsWith('--')), env };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A six-field cron (croner's seconds first) that fires once a day at `at`, read in UTC (the bot runs with TZ=UTC). */
const dailyAt = (at: Date): string => `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} * * *`;

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

/** Waits for the bot's first completed watcher round, as status reads it from the alert store. */
async function firstRound(dataDir: string, exited: () => boolean, output: () => string): Promise<void> {
  const limitMs = ROUND_AFTER_START_MS + 60_000;
  const until = Date.now() + limitMs;
  while (!readWatchState(dataDir, Date.now()).watchers?.some((w) => w.name === 'bot' && w.lastRoundAt !== undefined)) {
    if (exited()) throw new Error(`jarvis bot exited before its first watcher round:\n${output()}`);
    if (Date.now() > until) throw new Error(`jarvis bot completed no watcher round within ${limitMs / 1000} s:\n${output()}`);
    await sleep(250);
  }
}

interface BotRun {
  startupMs: number;
  idleRssMb?: number;
  rssAfterFirstWatchMb?: number;
}

async function botOnce(env: NodeJS.ProcessEnv, flags: string[], measureMemory: boolean): Promise<BotRun> {
  const dataDir = mkdtempSync(join(tmpdir(), 'jarvis-bench-bot-'));
  const started = performance.now();
  const round = dailyAt(new Date(Date.now() + ROUND_AFTER_START_MS));
  const child = spawn(process.execPath, [...flags, JARVIS, 'bot'], {
    env: { ...env, JARVIS_DATA_DIR: dataDir, TZ: 'UTC', ...(measureMemory ? { JARVIS_WATCH_SCHEDULE: round } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
    if (!measureMemory) return { startupMs };
    if (startupMs + IDLE_AFTER_READY_MS >= ROUND_AFTER_START_MS) {
      throw new Error(`jarvis bot took ${Math.round(startupMs)} ms to start: the idle sample would fall after the watcher round`);
    }
    await sleep(IDLE_AFTER_READY_MS);
    const idleRssMb = rssMb(child.pid!);
    await firstRound(dataDir, () => child.exitCode !== null, () => output);
    await sleep(SETTLE_AFTER_ROUND_MS);
    return { startupMs, idleRssMb, rssAfterFirstWatchMb: rssMb(child.pid!) };
  } finally {
    await stop(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export interface BotBenchResult {
  startupMs: number;
  idleRssMb: number;
  rssAfterFirstWatchMb: number;
  runs: number;
  memoryRuns: number;
  nodeFlags: string[];
  adapters: string[];
}

export async function benchBot(runs = 5, memoryRuns = 3): Promise<BotBenchResult> {
  const build = freshBuild(process.cwd());
  if (!build.entry) throw new Error(`dist/ is not current (${build.stale}): run \`npm run build\`, or the bot runs through tsx and the figures are tsx's`);
  const unit = unitProcess();
  const sim = await startSim();
  const discord = await new FakeDiscord().start();
  const slack = await new FakeSlack().start();
  try {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...unit.env,
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
    const all: BotRun[] = [];
    for (let i = 0; i < runs; i++) all.push(await botOnce(env, unit.flags, i < memoryRuns));
    const measured = all.filter((run) => run.idleRssMb !== undefined);
    const mb = (values: number[]): number => Math.round(median(values) * 10) / 10;
    return {
      startupMs: Math.round(median(all.map((run) => run.startupMs))),
      idleRssMb: mb(measured.map((run) => run.idleRssMb!)),
      rssAfterFirstWatchMb: mb(measured.map((run) => run.rssAfterFirstWatchMb!)),
      runs,
      memoryRuns,
      nodeFlags: unit.flags,
      adapters: ['discord', 'slack'],
    };
  } finally {
    await discord.stop();
    await slack.stop();
    await stop(sim.child);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  console.log(JSON.stringify(await benchBot(), null, 2));
}
