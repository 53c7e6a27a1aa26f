// Runs a provisioning step (deploy/steps, H5) on the node's shell or inside a guest: wait for the guest's agent when
// the step works inside a guest, check first, apply only when the check says not done, then check again, so a step is
// never applied twice and "accepted" really means "in place".
import type { PlanAction } from '../../planner/plan.ts';
import { awaitAgent } from './agent-wait.ts';
import { ActionFailure, type ActionRun, type ExecutorResult } from './run.ts';

type StepParams = Extract<PlanAction['params'], { channel: 'host' | 'guest' }>;

export async function executeStep(run: ActionRun, params: StepParams): Promise<ExecutorResult> {
  const { ctx } = run;
  const shell = params.channel === 'host' ? ctx.shells.host : ctx.shells.guest(params.vmid);
  const where = params.channel === 'host' ? `the node ${ctx.pve.node}` : `VM ${params.vmid}`;
  if (!shell) {
    throw new ActionFailure(`no shell to ${where} for step ${params.step} (SSH not configured, or the guest agent is not answering)`, 'failed');
  }
  const step = ctx.steps(params.step);
  // A step that works inside a guest never starts before the guest's agent answers.
  if (params.agentWait) await awaitAgent(run, params.agentWait);
  const before = await step.check(shell, params.args);
  if (before.done) return { detail: `already in place: ${before.detail}`, alreadyDone: true };

  run.intent('apply', { step: params.step, on: shell.host, args: params.args });
  const output: string[] = [];
  try {
    await step.apply(shell, params.args, {
      secrets: ctx.stepSecrets,
      onOutput: (line) => {
        output.push(line);
        if (output.length > 20) output.shift();
        run.log(line);
      },
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    run.outcome('apply', 'failed', message);
    throw new ActionFailure(`step ${params.step} on ${where} failed: ${message}`, 'failed', output);
  }
  const after = await step.check(shell, params.args);
  if (!after.done) {
    run.outcome('apply', 'failed', after.detail);
    throw new ActionFailure(`step ${params.step} on ${where} ran, but its check still says: ${after.detail}`, 'failed', output);
  }
  run.outcome('apply', 'done', after.detail);
  return { detail: after.detail, logTail: output };
}
