// Waiting for a guest's QEMU agent before anything runs inside it. After a create, start or reboot the agent comes up
// late in the boot (on a first cloud-init boot only after cloud-init installed it), and until then PVE answers 500
// "QEMU guest agent is not running" (qemu-server PVE/QemuServer/Agent.pm assert_agent_available). Only that answer is
// waited out, with backoff capped at one second (so the wait ends at most ~1 s after the agent does); anything else
// fails at once. Progress is reported while the wait lasts; a timeout says what to look at.
import { PveError } from '../../infra/proxmox/errors.ts';
import type { AgentWait } from '../../planner/plan.ts';
import { ActionFailure, type ActionRun } from './run.ts';

const NOT_RUNNING = 'QEMU guest agent is not running';
const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 1_000;
/** A progress line every this often while waiting. */
export const AGENT_PROGRESS_EVERY_MS = 10_000;

export interface AgentWaitPorts {
  ping(vmid: number): Promise<void>;
  now(): number;
  sleep(ms: number): Promise<void>;
  progress(line: string): void;
}

export function agentNotRunning(error: unknown): boolean {
  return error instanceof PveError && error.status === 500 && error.pveMessage.includes(NOT_RUNNING);
}

const seconds = (ms: number): string => `${Math.round(ms / 1000)} s`;

function whatToLookAt(wait: AgentWait): string {
  const console = `the VM console (Proxmox UI > VM ${wait.vmid} > Console)`;
  switch (wait.os) {
    case 'debian-13':
      return `look at ${console} and, once logged in, \`cloud-init status --long\` and /var/log/cloud-init-output.log: the vendor data installs and starts qemu-guest-agent at the first boot (it needs the Debian mirrors)`;
    case 'haos':
      return `look at ${console}: Home Assistant OS starts its own guest agent once it has booted`;
    case 'opnsense':
      return `look at ${console}: OPNsense answers the guest agent only with its os-qemu-guest-agent plugin installed and enabled`;
    case 'none':
      return `this VM runs your own install (os: none): install and start qemu-guest-agent in it, then look at ${console}`;
  }
}

/** Resolves once the agent answers; throws an ActionFailure on timeout or on any other answer. */
export async function waitForAgent(wait: AgentWait, ports: AgentWaitPorts): Promise<{ waitedMs: number }> {
  const started = ports.now();
  const limitMs = wait.seconds * 1000;
  let delay = FIRST_POLL_MS;
  let reported: number | undefined;
  for (;;) {
    try {
      await ports.ping(wait.vmid);
      const waitedMs = ports.now() - started;
      if (reported !== undefined) ports.progress(`VM ${wait.vmid}'s guest agent answers after ${seconds(waitedMs)}`);
      return { waitedMs };
    } catch (error) {
      if (!agentNotRunning(error)) {
        const message = error instanceof Error ? error.message : String(error);
        throw new ActionFailure(`VM ${wait.vmid}'s guest agent cannot be used: ${message}`, 'failed');
      }
    }
    const elapsed = ports.now() - started;
    if (elapsed >= limitMs) {
      throw new ActionFailure(`VM ${wait.vmid}'s guest agent did not answer within ${seconds(limitMs)} (agentWaitSeconds): ${whatToLookAt(wait)}; nothing ran inside the guest`, 'failed');
    }
    if (reported === undefined) {
      ports.progress(`waiting for VM ${wait.vmid}'s guest agent (up to ${seconds(limitMs)}${wait.os === 'debian-13' ? '; a first boot installs it with cloud-init' : ''})`);
      reported = elapsed;
    } else if (elapsed - reported >= AGENT_PROGRESS_EVERY_MS) {
      ports.progress(`waiting for VM ${wait.vmid}'s guest agent: ${seconds(elapsed)}`);
      reported = elapsed;
    }
    await ports.sleep(Math.min(delay, limitMs - elapsed));
    delay = Math.min(Math.round(delay * 1.5), MAX_POLL_MS);
  }
}

/** waitForAgent with an action's ports: the lab's ping, the context's clock, progress as the action's own events. */
export function awaitAgent(run: ActionRun, wait: AgentWait): Promise<{ waitedMs: number }> {
  return waitForAgent(wait, {
    ping: (vmid) => run.ctx.pve.agentPing(vmid),
    now: run.ctx.now,
    sleep: (ms) => run.sleep(ms),
    progress: (detail) => run.emit({ type: 'action.progress', actionId: run.action.id, target: run.action.target, detail }),
  });
}
