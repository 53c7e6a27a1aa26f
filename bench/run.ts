// `npm run bench`: runs every benchmark of the project and writes bench/results/latest.json plus a Markdown table
// with the goals beside the figures. Figures are medians of repeated runs; ratios are measured in the same run.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { openSimLab } from '../app/lab.ts';
import { createServices } from '../app/services.ts';
import { loadConfig } from '../lib/config.ts';
import { cpus, totalmem } from 'node:os';
import { benchApply } from './apply.ts';
import { benchBot } from './bot.ts';
import { benchChat } from './chat.ts';
import { benchCheck } from './check.ts';
import { benchClient } from './client.ts';
import { benchPlan } from './plan.ts';
import { benchProcess } from './process.ts';
import { benchSim } from './sim.ts';
import { benchStatus } from './status.ts';

interface Goal {
  key: string;
  goal: number;
  unit: string;
  /** lower: the figure must be at most the goal. */
  better: 'lower' | 'higher';
  what: string;
}

const GOALS: Goal[] = [
  { key: 'ackP99Ms', goal: 50, unit: 'ms', better: 'lower', what: 'slash command to ack, p99 over 200 commands (loopback fakes)' },
  { key: 'planMessageMs', goal: 1000, unit: 'ms', better: 'lower', what: 'command to plan message posted, simulator at 20 ms latency' },
  { key: 'planPhase2WallMs', goal: 400, unit: 'ms', better: 'lower', what: '`plan phase2`, simulator at 20 ms latency, median wall' },
  { key: 'planPhase2CriticalRoundTrips', goal: 3, unit: '', better: 'lower', what: 'dependent Proxmox round trips on the scan critical path' },
  { key: 'plan1000VmsCpuMs', goal: 300, unit: 'ms', better: 'lower', what: 'planning 1,000 managed VMs, CPU time' },
  { key: 'idleRssMb', goal: 90, unit: 'MB', better: 'lower', what: '`jarvis bot` idle, Discord and Slack connected (local fakes), the lab in another process, RSS' },
  { key: 'startupMs', goal: 1000, unit: 'ms', better: 'lower', what: '`jarvis bot` process start to ready, both adapters connected' },
  { key: 'checkWallMs', goal: 300, unit: 'ms', better: 'lower', what: '`jarvis check` of the three specs, whole process, median' },
  { key: 'statusWallMs', goal: 300, unit: 'ms', better: 'lower', what: '`status`, simulator at 20 ms latency, median wall' },
  { key: 'applyPhase0Ratio', goal: 1.2, unit: '×', better: 'lower', what: 'apply phase 0 from fresh: wall / critical path of task durations and guest boot delays' },
];

/** Command to plan message with the real planner scanning a simulated node that answers every request after 20 ms. */
async function chatWithRealServices(): Promise<unknown> {
  const dataDir = mkdtempSync(join(tmpdir(), 'jarvis-bench-chat-'));
  const lab = await openSimLab({ scenario: 'fresh', latencyMs: 20 });
  const running = createServices({ lab, config: loadConfig({ JARVIS_DATA_DIR: dataDir }), cwd: process.cwd(), env: {} });
  try {
    return await benchChat({ services: running.services, commands: 20, planRuns: 5 });
  } finally {
    running.close();
    await lab.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function section<T>(name: string, run: () => Promise<T>): Promise<T | { error: string }> {
  process.stderr.write(`bench: ${name}…\n`);
  const started = performance.now();
  try {
    const result = await run();
    process.stderr.write(`bench: ${name} done in ${Math.round(performance.now() - started)} ms\n`);
    return result;
  } catch (error) {
    process.stderr.write(`bench: ${name} FAILED: ${(error as Error).stack ?? error}\n`);
    return { error: (error as Error).message };
  }
}

// Process-level figures measure what a user runs: the bundled CLI (dist/), built fresh from these sources.
execFileSync('npm', ['run', '--silent', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });

const raw = {
  check: await section('check', () => benchCheck()),
  client: await section('client', () => benchClient()),
  sim: await section('sim', () => benchSim()),
  plan: await section('plan', () => benchPlan()),
  apply: await section('apply', () => benchApply()),
  status: await section('status', () => benchStatus()),
  chat: await section('chat', () => benchChat()),
  chatRealServices: await section('chat with the real services, simulator at 20 ms', () => chatWithRealServices()),
  process: await section('process (the demo: console and an in-process simulator)', () => benchProcess()),
  bot: await section('jarvis bot with both adapters, the lab in another process', () => benchBot()),
};

const pick = (obj: unknown, key: string): number | undefined => {
  const value = (obj as Record<string, unknown> | undefined)?.[key];
  return typeof value === 'number' ? value : undefined;
};

const figures: Record<string, number | undefined> = {
  ackP99Ms: pick(raw.chat, 'ackP99Ms'),
  planMessageMs: pick(raw.chatRealServices, 'planMessageMs'),
  planPhase2WallMs: pick(raw.plan, 'planPhase2WallMs'),
  planPhase2CriticalRoundTrips: pick(raw.plan, 'planPhase2CriticalRoundTrips'),
  plan1000VmsCpuMs: pick(raw.plan, 'plan1000VmsCpuMs'),
  idleRssMb: pick(raw.bot, 'idleRssMb'),
  startupMs: pick(raw.bot, 'startupMs'),
  checkWallMs: pick(raw.check, 'checkWallMsMedian'),
  statusWallMs: pick(raw.status, 'statusWallMs'),
  applyPhase0Ratio: pick(raw.apply, 'ratio'),
};

const machine = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30) };
const result = { measuredAt: new Date().toISOString(), machine, ...figures, goals: Object.fromEntries(GOALS.map((g) => [g.key, g.goal])), raw };

const rows = GOALS.map((g) => {
  const value = figures[g.key];
  const met = value === undefined ? 'not measured' : (g.better === 'lower' ? value <= g.goal : value >= g.goal) ? 'met' : 'MISSED';
  const shown = value === undefined ? '—' : `${Math.round(value * 100) / 100}${g.unit ? ` ${g.unit}` : ''}`;
  return `| ${g.key} | ${shown} | ${g.better === 'lower' ? '≤' : '≥'} ${g.goal}${g.unit ? ` ${g.unit}` : ''} | ${met} | ${g.what} |`;
});
const markdown = [
  `# Benchmark results (${result.measuredAt})`,
  '',
  `Machine: Node ${machine.node}, ${machine.cpus} × ${machine.cpuModel ?? 'CPU'}, ${machine.memoryGb} GiB. Figures are medians unless named p99.`,
  '',
  '| figure | measured | goal | | what |',
  '|---|---|---|---|---|',
  ...rows,
  '',
].join('\n');

mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/latest.json', `${JSON.stringify(result, null, 2)}\n`);
writeFileSync('bench/results/latest.md', markdown);
process.stdout.write(markdown);
