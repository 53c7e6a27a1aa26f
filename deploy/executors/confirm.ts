// Commit-confirm for firewall and network actions: after the change, management must answer on NEW connections
// (deploy/probe.ts); otherwise the previous state is restored over the API connection that is already open (the
// node's conntrack keeps ESTABLISHED connections alive while it drops new ones).
// A firewall change is not in force when it is written: pve-firewall compiles and loads the configuration on its update
// cycle (pve-firewall src/PVE/Service/pve_firewall.pm, `$updatetime = 10`), and until then the previous ruleset
// stands. So probes count only once the daemon has loaded the change (`pve-firewall status` over SSH no longer says
// "pending changes"; without SSH, one cycle and a half has passed), and probing covers at least two cycles after that.
// The restore is a firewall change too: management is probed again only once the daemon has loaded it.
import type { PveRequest } from '../../planner/plan.ts';
import { sendRequests } from './pve.ts';
import { ActionFailure, type ActionRun } from './run.ts';

const PROBE_INTERVAL_MS = 1_000;
const STEP = 'confirm';
/** The update cycles probing covers after the daemon loaded the change. */
const CYCLES_PROBED = 2;

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

const isFirewallAction = (run: ActionRun): boolean => run.action.type.startsWith('firewall.');

/**
 * Until pve-firewall has loaded what was written: its status says so, or (no status to read) a cycle and a half has
 * passed, which always contains one whole update. Bounded by `deadline`.
 */
async function waitLoaded(run: ActionRun, deadline: number): Promise<string> {
  const { ctx } = run;
  const cycle = ctx.firewallCycleMs;
  const started = ctx.now();
  if (ctx.firewallStatus) {
    const poll = Math.max(50, Math.min(PROBE_INTERVAL_MS, Math.floor(cycle / 5)));
    for (;;) {
      let status;
      try {
        status = await ctx.firewallStatus();
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        run.emit({ type: 'warning', message: `cannot read pve-firewall status (${why}); waiting one update cycle instead` });
        break;
      }
      if (!status.pending) return `pve-firewall loaded the change after ${((ctx.now() - started) / 1000).toFixed(1)} s (${status.line})`;
      if (ctx.now() >= deadline) return `pve-firewall still shows pending changes after ${((ctx.now() - started) / 1000).toFixed(1)} s`;
      await run.sleep(Math.min(poll, Math.max(0, deadline - ctx.now())));
    }
  }
  await run.sleep(Math.min(Math.round(cycle * 1.5), Math.max(0, deadline - ctx.now())));
  return `waited ${((ctx.now() - started) / 1000).toFixed(1)} s for pve-firewall's update cycle`;
}

/**
 * Probes until management is confirmed or the window is over. For a firewall change, only probes after the daemon
 * loaded it count, and the confirmation needs a good probe at least two cycles after that.
 */
async function probeUntil(run: ActionRun, deadline: number): Promise<{ ok: boolean; detail: string; loaded?: string }> {
  const { ctx } = run;
  const interval = Math.max(100, Math.min(PROBE_INTERVAL_MS, Math.floor(ctx.confirmWindowMs / 10)));
  const loaded = isFirewallAction(run) ? await waitLoaded(run, deadline) : undefined;
  const coverUntil = loaded ? ctx.now() + CYCLES_PROBED * ctx.firewallCycleMs : ctx.now();
  const end = Math.max(deadline, coverUntil);
  let last = { ok: false, detail: 'not probed' };
  for (;;) {
    last = await ctx.probeManagement();
    run.emit({ type: 'confirm.probe', actionId: run.action.id, ok: last.ok, detail: last.detail });
    if (last.ok && ctx.now() >= coverUntil) return { ...last, ...(loaded ? { loaded } : {}) };
    const left = end - ctx.now();
    if (left <= 0) return { ...last, ...(loaded ? { loaded } : {}) };
    await touchApiConnection(run);
    await run.sleep(Math.min(interval, Math.max(0, end - ctx.now())));
  }
}

export async function confirmOrRevert(run: ActionRun, revert: PveRequest[] | undefined): Promise<ConfirmResult> {
  const { ctx } = run;
  if (run.previous.get(STEP)?.phase === 'done') return { detail: 'management reachability confirmed in an earlier run' };
  run.intent(STEP, { windowMs: ctx.confirmWindowMs });
  const started = ctx.now();
  const probe = await probeUntil(run, started + ctx.confirmWindowMs);
  const loaded = probe.loaded ? `${probe.loaded}; ` : '';
  if (probe.ok) {
    const covered = probe.loaded ? `, over ${CYCLES_PROBED} update cycles` : '';
    run.outcome(STEP, 'done', `${loaded}${probe.detail}`);
    return { detail: `${loaded}management reachable after the change${covered} (${probe.detail})` };
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
  // The restored rules, too, are in force only once pve-firewall has loaded them.
  const restored = isFirewallAction(run) ? `; ${await waitLoaded(run, ctx.now() + 3 * ctx.firewallCycleMs)}` : '';
  const after = await ctx.probeManagement();
  run.emit({ type: 'confirm.probe', actionId: run.action.id, ok: after.ok, detail: after.detail });
  run.outcome(STEP, 'failed', `reverted: ${probe.detail}`);
  const state = after.ok ? 'management reachable again' : `management STILL unreachable (${after.detail}); restore by hand: ${run.action.rollbackHint}`;
  throw new ActionFailure(`reverted: management was unreachable after the change (${loaded}${probe.detail}); previous state restored after ${seconds} s${restored}; ${state}`, 'reverted');
}
