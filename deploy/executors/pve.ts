// Replays a `pve` action's requests exactly as the plan holds them (the `digest` read at plan time included, so the
// node itself refuses a concurrent edit). Each request is journaled before it leaves; a task call is followed by its
// UPID to the end, and a failed task carries its log tail. A resumed action skips finished requests, follows a
// journaled UPID, and reconciles an intent without UPID by reading the target back (never a second create).
import { PveError } from '../../infra/proxmox/errors.ts';
import { EXIT, JarvisError } from '../../lib/errors.ts';
import type { AgentWait, PveRequest } from '../../planner/plan.ts';
import { awaitAgent } from './agent-wait.ts';
import { requestEffect, requestVmid } from '../reconcile.ts';
import { ActionFailure, type ActionRun, type ExecutorResult } from './run.ts';

const UPID = /^UPID:/;
const NETWORK_APPLY = /^\/nodes\/[^/]+\/network$/;

export const describeRequest = (request: PveRequest): string => `${request.method} ${request.path}`;

/** A rejection PVE gave for certain (the write did not happen), as opposed to a lost answer. */
function definitelyRejected(error: unknown): boolean {
  return error instanceof PveError && error.status >= 400 && error.status <= 501;
}

function failureFrom(error: unknown, request: PveRequest): ActionFailure {
  const message = error instanceof Error ? error.message : String(error);
  if (definitelyRejected(error)) return new ActionFailure(message, 'failed');
  // Refused on this side before anything was sent (e.g. a path that fails validation).
  const local = error instanceof JarvisError && !(error instanceof PveError) && error.exitCode !== EXIT.unreachable && error.code !== 'pve-bad-response';
  if (local) return new ActionFailure(message, 'failed');
  return new ActionFailure(`${describeRequest(request)}: no definite answer (${message}); the journal keeps it for reconciliation`, 'failed', [], true);
}

async function followTask(run: ActionRun, step: string, upid: string, request: PveRequest): Promise<string[]> {
  const result = await run.waitForTask(upid);
  if (result.ok) {
    run.outcome(step, 'done', `task ${result.exitstatus}`);
    return result.logTail;
  }
  run.outcome(step, 'failed', `task ${upid} ended: ${result.exitstatus}`);
  throw new ActionFailure(`${describeRequest(request)}: task failed: ${result.exitstatus}`, 'failed', result.logTail);
}

/** Tasks a lost request may have started on its VM (e.g. a qmcreate still running): wait for them to end. */
async function waitForLeftoverTasks(run: ActionRun, request: PveRequest): Promise<void> {
  const vmid = requestVmid(request);
  if (vmid === undefined) return;
  const active = await run.ctx.pve.listTasks({ source: 'active', vmid });
  for (const task of active) {
    if (task.id !== undefined && task.id !== String(vmid)) continue;
    const result = await run.waitForTask(task.upid);
    if (!result.ok) throw new ActionFailure(`task ${task.type} on VM ${vmid} left by the interrupted run ended: ${result.exitstatus}`, 'failed', result.logTail);
  }
}

/** Undoes staged (interfaces.new) changes after a failed network apply, so the node is not left half-configured. */
async function revertPendingNetwork(run: ActionRun): Promise<string> {
  try {
    await run.ctx.pve.revertNetwork();
    return 'pending network changes reverted';
  } catch (error) {
    return `reverting the pending network changes failed too: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** Sends `requests` in order under journal steps `<prefix>:<i>`; returns the last task's log tail. */
export async function sendRequests(run: ActionRun, requests: PveRequest[], prefix: string): Promise<{ sent: number; reconciled: number; logTail: string[] }> {
  let sent = 0;
  let reconciled = 0;
  let logTail: string[] = [];
  for (const [index, request] of requests.entries()) {
    const step = `${prefix}:${index}`;
    const previous = run.previous.get(step);
    if (previous?.phase === 'done') continue;
    if (previous?.phase === 'upid' && previous.upid) {
      logTail = await followTask(run, step, previous.upid, request);
      reconciled += 1;
      continue;
    }
    if (previous) {
      const effect = await requestEffect(run.ctx.pve, request, Date.parse(previous.updatedAt));
      if (effect === 'unknown') {
        throw new ActionFailure(
          `${describeRequest(request)} was interrupted and Proxmox cannot tell whether it took effect; check ${run.action.target} by hand, then re-plan`,
          'refused',
        );
      }
      if (effect === 'applied') {
        if (request.async) await waitForLeftoverTasks(run, request);
        run.outcome(step, 'done', 'reconciled: already in effect after an interrupted run');
        reconciled += 1;
        continue;
      }
    }
    run.intent(step, { method: request.method, path: request.path, params: request.params });
    let answer: unknown;
    try {
      answer = await run.ctx.pve.request(request.method, request.path, request.params);
    } catch (error) {
      const failure = failureFrom(error, request);
      if (!failure.unreachable) run.outcome(step, 'failed', failure.message);
      if (request.method === 'PUT' && NETWORK_APPLY.test(request.path)) {
        throw new ActionFailure(`${failure.message}; ${await revertPendingNetwork(run)}`, failure.outcome, failure.logTail, failure.unreachable);
      }
      throw failure;
    }
    sent += 1;
    if (request.async && typeof answer === 'string' && UPID.test(answer)) {
      run.upid(step, answer);
      try {
        logTail = await followTask(run, step, answer, request);
      } catch (error) {
        if (error instanceof ActionFailure && request.method === 'PUT' && NETWORK_APPLY.test(request.path)) {
          throw new ActionFailure(`${error.message}; ${await revertPendingNetwork(run)}`, error.outcome, error.logTail);
        }
        throw error;
      }
    } else {
      run.outcome(step, 'done', 'accepted');
    }
  }
  return { sent, reconciled, logTail };
}

export async function executePve(run: ActionRun, requests: PveRequest[], agentWait?: AgentWait): Promise<ExecutorResult> {
  const { sent, reconciled, logTail } = await sendRequests(run, requests, 'request');
  const parts = [`${sent} request${sent === 1 ? '' : 's'} sent`];
  if (reconciled > 0) parts.push(`${reconciled} reconciled from an interrupted run`);
  // A start or reboot is over when the guest is back: its agent answers (nothing is written while waiting).
  if (agentWait) parts.push(`guest agent answers${await waitedText(run, agentWait)}`);
  return { detail: parts.join(', '), logTail };
}

async function waitedText(run: ActionRun, wait: AgentWait): Promise<string> {
  const { waitedMs } = await awaitAgent(run, wait);
  return waitedMs >= 1000 ? ` after ${Math.round(waitedMs / 1000)} s` : '';
}
