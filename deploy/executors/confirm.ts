// Commit-confirm for firewall and network actions: after the change, management must answer on NEW connections
// (deploy/probe.ts) within the window; otherwise the previous state is restored over the API connection that is
// already open (the node's conntrack keeps ESTABLISHED connections alive while it drops new ones).
import type { PveRequest } from '../../planner/plan.ts';
import { sendRequests } from './pve.ts';
import { ActionFailure, type ActionRun } from './run.ts';

const PROBE_INTERVAL_MS = 1_000;
const STEP = 'confirm';

export interface ConfirmResult {
  detail: string;
}

/** Keeps the established API connection in use while probing, so the client's pool does not let it idle out. */
async function touchApiConnection(run: ActionRun): Promise<void> {
  try {
    await run.ctx.pve.clusterResources('node');
  } catch {
    // A refused read changes nothing here: the probe decides.
  }
}

async function probeUntil(run: ActionRun, deadline: number): Promise<{ ok: boolean; detail: string }> {
  const { ctx } = run;
  const interval = Math.max(100, Math.min(PROBE_INTERVAL_MS, Math.floor(ctx.confirmWindowMs / 10)));
  let last = { ok: false, detail: 'not probed' };
  for (;;) {
    last = await ctx.probeManagement();
    run.emit({ type: 'confirm.probe', actionId: run.action.id, ok: last.ok, detail: last.detail });
    if (last.ok) return last;
    const left = deadline - ctx.now();
    if (left <= 0) return last;
    await touchApiConnection(run);
    await run.sleep(Math.min(interval, Math.max(0, deadline - ctx.now())));
  }
}

export async function confirmOrRevert(run: ActionRun, revert: PveRequest[] | undefined): Promise<ConfirmResult> {
  const { ctx } = run;
  if (run.previous.get(STEP)?.phase === 'done') return { detail: 'management reachability confirmed in an earlier run' };
  run.intent(STEP, { windowMs: ctx.confirmWindowMs });
  const started = ctx.now();
  const probe = await probeUntil(run, started + ctx.confirmWindowMs);
  if (probe.ok) {
    run.outcome(STEP, 'done', probe.detail);
    return { detail: `management reachable after the change (${probe.detail})` };
  }
  if (!revert || revert.length === 0) {
    run.outcome(STEP, 'failed', probe.detail);
    throw new ActionFailure(
      `management unreachable after the change (${probe.detail}) and the plan holds no previous state to restore; restore by hand: ${run.action.rollbackHint}`,
      'failed',
    );
  }
  try {
    await sendRequests(run, revert, 'revert');
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    run.outcome(STEP, 'failed', `revert failed: ${message}`);
    throw new ActionFailure(
      `management unreachable after the change (${probe.detail}) and restoring the previous state failed: ${message}; restore by hand: ${run.action.rollbackHint}`,
      'failed',
      error instanceof ActionFailure ? error.logTail : [],
    );
  }
  const seconds = ((ctx.now() - started) / 1000).toFixed(1);
  const after = await ctx.probeManagement();
  run.emit({ type: 'confirm.probe', actionId: run.action.id, ok: after.ok, detail: after.detail });
  run.outcome(STEP, 'failed', `reverted: ${probe.detail}`);
  const state = after.ok ? 'management reachable again' : `management STILL unreachable (${after.detail}); restore by hand: ${run.action.rollbackHint}`;
  throw new ActionFailure(`reverted: management was unreachable after the change (${probe.detail}); previous state restored after ${seconds} s; ${state}`, 'reverted');
}
