// Benchmark of the chat edge against the loopback fakes with the real discord.js and @slack/bolt:
//   ackP99Ms       slash command to ack (Discord deferReply callback / Slack socket-mode ack), p99 over 200
//                  commands per platform; the worse platform is reported.
//   planMessageMs  `/jarvis plan phase0` to the plan message posted, median over runs, worse platform. Pass the real
//                  services (simulator at 20 ms latency) to measure the whole path; without them a fixed plan is used.
// Run directly to print JSON: `node bin/run-ts.js bench/chat.ts`.
import { performance } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Approvals } from '../commands/approvals/state-machine.ts';
import { approvalPolicyFromEnv } from '../commands/approvals/policy.ts';
import { startDiscord } from '../bot/discord/adapter.ts';
import { startSlack } from '../bot/slack/adapter.ts';
import { createDispatcher, type Dispatcher } from '../commands/dispatcher.ts';
import type { JarvisServices } from '../commands/services.ts';
import { createWorkQueue } from '../commands/work-queue.ts';
import { Secret } from '../lib/secret.ts';
import { FakeDiscord, FAKE_IDS, subcommand } from '../test/fakes/discord.ts';
import { FakeSlack } from '../test/fakes/slack.ts';
import { FakeServices } from '../test/bot/support/fake-services.ts';

export interface ChatBenchOptions {
  /** Services behind the commands (e.g. the real planner against a simulator at 20 ms latency). */
  services?: JarvisServices;
  commands?: number;
  planRuns?: number;
}

export interface ChatBenchResult {
  ackP99Ms: number;
  ackP99DiscordMs: number;
  ackP99SlackMs: number;
  planMessageMs: number;
  planMessageDiscordMs: number;
  planMessageSlackMs: number;
  commands: number;
  planRuns: number;
  planServices: 'given' | 'fixed-plan';
}

const quantile = (xs: number[], q: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return Number((sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN).toFixed(2));
};

function dispatcherFor(services: JarvisServices): { dispatcher: Dispatcher; close: () => void } {
  const approvals = new Approvals({ dbPath: ':memory:', policy: approvalPolicyFromEnv({ JARVIS_APPROVERS: 'discord:400,slack:U0OWNER' }), audit: () => undefined });
  const dispatcher = createDispatcher({ services, approvals, alerts: async () => undefined, work: createWorkQueue(() => undefined), log: () => undefined });
  return { dispatcher, close: () => approvals.close() };
}

async function benchDiscord(services: JarvisServices, commands: number, planRuns: number): Promise<{ ackP99: number; planMedian: number }> {
  const fake = await new FakeDiscord().start();
  const { dispatcher, close } = dispatcherFor(services);
  const adapter = await startDiscord({ token: new Secret('bench-token'), dispatcher, apiBase: fake.apiBase, log: () => undefined });
  const user = { id: '400', username: 'owner' };
  try {
    const acks: number[] = [];
    for (let i = 0; i < commands; i++) {
      const interaction = fake.slashCommand(user, subcommand('status'));
      const started = performance.now();
      fake.dispatch('INTERACTION_CREATE', interaction);
      await fake.waitForRest((c) => c.path.startsWith(`/interactions/${interaction.id as string}/`), 'ack');
      acks.push(performance.now() - started);
      await fake.waitForRest((c) => c.method === 'PATCH' && c.path.includes(interaction.token as string), 'status reply');
    }
    const plans: number[] = [];
    for (let i = 0; i < planRuns; i++) {
      const interaction = fake.slashCommand(user, subcommand('plan', { phase: 'phase0' }));
      const started = performance.now();
      fake.dispatch('INTERACTION_CREATE', interaction);
      await fake.waitForRest((c) => c.method === 'PATCH' && c.path === `/webhooks/${FAKE_IDS.application}/${interaction.token as string}/messages/@original`, 'plan message', 30_000);
      plans.push(performance.now() - started);
    }
    return { ackP99: quantile(acks, 0.99), planMedian: quantile(plans, 0.5) };
  } finally {
    await adapter.stop();
    await fake.stop();
    close();
  }
}

async function benchSlack(services: JarvisServices, commands: number, planRuns: number): Promise<{ ackP99: number; planMedian: number }> {
  const fake = await new FakeSlack().start();
  const { dispatcher, close } = dispatcherFor(services);
  const adapter = await startSlack({ botToken: new Secret('xoxb-bench'), mode: { kind: 'socket', appToken: new Secret('xapp-bench') }, dispatcher, apiUrl: fake.apiUrl, retries: 0, log: () => undefined });
  try {
    const acks: number[] = [];
    for (let i = 0; i < commands; i++) {
      const posted = fake.api('chat.postMessage').length;
      const started = performance.now();
      await fake.sendEnvelope('slash_commands', fake.slashCommand('U0OWNER', 'status'));
      acks.push(performance.now() - started);
      await fake.waitFor(() => fake.api('chat.postMessage').length > posted, 'status reply');
    }
    const plans: number[] = [];
    for (let i = 0; i < planRuns; i++) {
      const posted = fake.api('chat.postMessage').length;
      const started = performance.now();
      void fake.sendEnvelope('slash_commands', fake.slashCommand('U0OWNER', 'plan phase0'));
      await fake.waitFor(() => fake.api('chat.postMessage').length > posted, 'plan message', 30_000);
      plans.push(performance.now() - started);
      await fake.waitFor(() => fake.api('reactions.add').length >= 2 * (i + 1), 'plan reactions', 30_000);
    }
    return { ackP99: quantile(acks, 0.99), planMedian: quantile(plans, 0.5) };
  } finally {
    await adapter.stop();
    await fake.stop();
    close();
  }
}

export async function benchChat(options: ChatBenchOptions = {}): Promise<ChatBenchResult> {
  const commands = options.commands ?? 200;
  const planRuns = options.planRuns ?? 10;
  const services = options.services ?? new FakeServices();
  const discord = await benchDiscord(services, commands, planRuns);
  const slack = await benchSlack(services, commands, planRuns);
  return {
    ackP99Ms: Math.max(discord.ackP99, slack.ackP99),
    ackP99DiscordMs: discord.ackP99,
    ackP99SlackMs: slack.ackP99,
    planMessageMs: Math.max(discord.planMedian, slack.planMedian),
    planMessageDiscordMs: discord.planMedian,
    planMessageSlackMs: slack.planMedian,
    commands,
    planRuns,
    planServices: options.services ? 'given' : 'fixed-plan',
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  console.log(JSON.stringify(await benchChat(), null, 2));
}
