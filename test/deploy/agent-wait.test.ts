// Waiting for a guest agent on a simulated clock: only PVE's "QEMU guest agent is not running" is waited out, polls
// never pause more than a second, progress is reported while it lasts, and a timeout says what to look at.
import { describe, expect, it } from 'vitest';
import { waitForAgent, type AgentWaitPorts } from '../../deploy/executors/agent-wait.ts';
import { ActionFailure } from '../../deploy/executors/run.ts';
import { PveError } from '../../infra/proxmox/errors.ts';
import type { AgentWait } from '../../planner/plan.ts';

const NOT_RUNNING = new PveError(500, 'QEMU guest agent is not running', {}, 'POST /nodes/proxmox/qemu/300/agent/ping');

/** A clock that only moves when the wait sleeps; the agent answers from `upAtMs` on. */
function ports(upAtMs: number, other?: Error) {
  let now = 0;
  const sleeps: number[] = [];
  const progress: Array<[number, string]> = [];
  let pings = 0;
  const p: AgentWaitPorts = {
    ping: async () => {
      pings += 1;
      if (other) throw other;
      if (now < upAtMs) throw NOT_RUNNING;
    },
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    progress: (line) => progress.push([now, line]),
  };
  return { p, sleeps, progress, pings: () => pings, now: () => now };
}

const wait: AgentWait = { vmid: 300, seconds: 600, os: 'debian-13' };

describe('waiting for the guest agent', () => {
  it('waits out "agent not running", reports every 10 s, and ends within a second of the agent', async () => {
    const t = ports(42_300);
    const { waitedMs } = await waitForAgent(wait, t.p);
    expect(waitedMs).toBeGreaterThanOrEqual(42_300);
    expect(waitedMs - 42_300).toBeLessThanOrEqual(1_000);
    expect(Math.max(...t.sleeps)).toBeLessThanOrEqual(1_000);
    const lines = t.progress.map(([, line]) => line);
    expect(lines[0]).toBe("waiting for VM 300's guest agent (up to 600 s; a first boot installs it with cloud-init)");
    expect(lines).toContain("waiting for VM 300's guest agent: 10 s");
    expect(lines).toContain("waiting for VM 300's guest agent: 40 s");
    expect(lines.at(-1)).toMatch(/^VM 300's guest agent answers after 4[23] s$/);
    const times = t.progress.slice(1, -1).map(([at]) => at);
    times.slice(1).forEach((at, i) => expect(at - times[i]!).toBeGreaterThanOrEqual(10_000));
  });

  it('says nothing when the agent answers at once', async () => {
    const t = ports(0);
    await waitForAgent(wait, t.p);
    expect(t.progress).toEqual([]);
    expect(t.pings()).toBe(1);
  });

  it('fails at once on any other answer', async () => {
    const t = ports(0, new PveError(500, 'No QEMU guest agent configured', {}, 'POST /nodes/proxmox/qemu/300/agent/ping'));
    const error = await waitForAgent(wait, t.p).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ActionFailure);
    expect((error as Error).message).toMatch(/VM 300's guest agent cannot be used: .*No QEMU guest agent configured/);
    expect(t.pings()).toBe(1);
  });

  it('times out at the VM\'s limit with what to look at', async () => {
    const t = ports(Number.POSITIVE_INFINITY);
    const error = await waitForAgent({ vmid: 300, seconds: 30, os: 'debian-13' }, t.p).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ActionFailure);
    expect((error as Error).message).toMatch(/did not answer within 30 s .*Console.*cloud-init status --long/);
    expect(t.now()).toBeGreaterThanOrEqual(30_000);
    expect(t.now()).toBeLessThan(31_000);
    const none = await waitForAgent({ vmid: 150, seconds: 10, os: 'none' }, ports(Number.POSITIVE_INFINITY).p).catch((e: unknown) => e);
    expect((none as Error).message).toMatch(/your own install \(os: none\): install and start qemu-guest-agent/);
  });
});
