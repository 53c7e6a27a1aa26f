// A manual step: Jarvis does nothing and sends nothing. It looks for the result the step names (the device online in
// the tailnet, the guest agent answering): seen, the step is done; not yet, it is "waiting for the owner", which is
// not a failure: the rest of the plan goes on.
import type { PlanAction } from '../../planner/plan.ts';
import { deviceMatches } from '../../planner/diff/manual.ts';
import { runNetProbe } from '../../infra/facts/net-probe.ts';
import { describeProbe } from '../../lib/net-checks.ts';
import { agentNotRunning } from './agent-wait.ts';
import type { ActionRun, ExecutorResult } from './run.ts';

type OwnerParams = Extract<PlanAction['params'], { channel: 'owner' }>;

async function observed(run: ActionRun, params: OwnerParams): Promise<{ done: boolean; detail: string }> {
  const observe = params.observe;
  if (observe.kind === 'tailnet-device-online') {
    if (!run.ctx.tailnet) return { done: false, detail: `the tailnet is not configured, so Jarvis cannot see ${observe.hostname}` };
    const devices = await run.ctx.tailnet.listDevices();
    const device = devices.find((d) => deviceMatches(d, observe.hostname));
    if (device?.connectedToControl) return { done: true, detail: `${observe.hostname} is online in the tailnet` };
    return { done: false, detail: device ? `${observe.hostname} is in the tailnet but offline` : `${observe.hostname} is not in the tailnet yet` };
  }
  if (observe.kind === 'router-routes') {
    for (const probe of observe.probes) {
      const result = await runNetProbe(run.ctx.pve, observe.fromVmid, probe);
      if (!result.ok) return { done: false, detail: `the router does not route yet: from VM ${observe.fromVmid}, ${result.detail}` };
    }
    return { done: true, detail: `VM ${observe.fromVmid} reaches ${observe.probes.map(describeProbe).join(', ')} through router VM ${observe.routerVmid}` };
  }
  try {
    await run.ctx.pve.agentPing(observe.vmid);
    return { done: true, detail: `VM ${observe.vmid}'s guest agent answers` };
  } catch (error) {
    if (agentNotRunning(error)) return { done: false, detail: `VM ${observe.vmid}'s guest agent does not answer yet` };
    return { done: false, detail: `VM ${observe.vmid}'s guest agent cannot be asked: ${error instanceof Error ? error.message : String(error)}` };
  }
}

export async function executeManual(run: ActionRun, params: OwnerParams): Promise<ExecutorResult> {
  const seen = await observed(run, params);
  if (seen.done) return { detail: `done by the owner: ${seen.detail}`, alreadyDone: true };
  return { detail: `waiting for the owner: ${seen.detail}`, waitingForOwner: params.instructions };
}
