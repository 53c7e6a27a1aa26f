// Pre-snapshots: before a risky VM action, take `jarvis-pre-<plan>` and record it. When the VM's storage cannot
// snapshot, back the VM up with vzdump instead (or refuse the action, by setting). Afterwards, Jarvis's own older
// `jarvis-pre-*` snapshots beyond the retention are pruned; snapshots made by people are never touched.
import { PveError } from '../infra/proxmox/errors.ts';
import type { SnapshotInfo, TaskResult } from '../infra/proxmox/api.ts';
import { ActionFailure, type ActionRun } from './executors/run.ts';

export const JARVIS_SNAPSHOT_PREFIX = 'jarvis-pre-';

const CANNOT_SNAPSHOT = /snapshot feature is not available|does not support snapshot|snapshots? (are|is) not supported|cannot snapshot/i;

export interface TakenSnapshot {
  vmid: number;
  name: string;
  kind: 'snapshot' | 'vzdump';
  /** True when an earlier (interrupted) run had already taken it. */
  earlier: boolean;
}

type Attempt = { ok: true; upid: string } | { ok: false; reason: string; logTail: string[] };

async function runTask(run: ActionRun, step: string, detail: unknown, start: () => Promise<string>): Promise<Attempt> {
  const previous = run.previous.get(step);
  let upid = previous?.phase === 'upid' ? previous.upid ?? undefined : undefined;
  if (!upid) {
    run.intent(step, detail);
    try {
      upid = await start();
    } catch (error) {
      const reason = error instanceof PveError ? error.pveMessage : error instanceof Error ? error.message : String(error);
      run.outcome(step, 'failed', reason);
      if (!(error instanceof PveError)) throw new ActionFailure(`${step}: no definite answer (${reason})`, 'failed', [], true);
      return { ok: false, reason, logTail: [] };
    }
    run.upid(step, upid);
  }
  const result: TaskResult = await run.waitForTask(upid);
  if (result.ok) {
    run.outcome(step, 'done', result.exitstatus);
    return { ok: true, upid };
  }
  run.outcome(step, 'failed', result.exitstatus);
  return { ok: false, reason: result.exitstatus, logTail: result.logTail };
}

export async function takePreSnapshot(run: ActionRun, target: { vmid: number; name: string }): Promise<TakenSnapshot> {
  const { ctx, plan, action } = run;
  const recorded = ctx.journal.snapshot(plan.planHash, target.vmid, target.name);
  if (recorded) return { vmid: target.vmid, name: target.name, kind: recorded.kind, earlier: true };

  // A snapshot task that an interrupted run left behind is followed by its UPID below, not mistaken for done.
  const inFlight = run.previous.get('pre-snapshot')?.phase === 'upid';
  const existing = inFlight ? [] : await ctx.pve.listSnapshots(target.vmid);
  const found = existing.find((snapshot) => snapshot.name === target.name);
  if (found?.snapstate) throw new ActionFailure(`refused: ${halfMade(target.vmid, target.name, found.snapstate)}; the action was not started`, 'refused');
  if (found) {
    ctx.journal.recordSnapshot(plan.planHash, target.vmid, target.name, 'snapshot', target.name);
    return { vmid: target.vmid, name: target.name, kind: 'snapshot', earlier: true };
  }
  const description = `Jarvis: before plan ${plan.id} (${action.id})`;
  const snap = await runTask(run, 'pre-snapshot', { vmid: target.vmid, snapname: target.name }, () =>
    ctx.pve.createSnapshot(target.vmid, target.name, description),
  );
  if (snap.ok) {
    ctx.journal.recordSnapshot(plan.planHash, target.vmid, target.name, 'snapshot', target.name);
    ctx.journal.audit({ kind: 'snapshot.taken', planId: plan.id, planHash: plan.planHash, data: { actionId: action.id, vmid: target.vmid, name: target.name, kind: 'snapshot' } });
    return { vmid: target.vmid, name: target.name, kind: 'snapshot', earlier: false };
  }
  const cannot = CANNOT_SNAPSHOT.test(snap.reason) || snap.logTail.some((line) => CANNOT_SNAPSHOT.test(line));
  if (!cannot || (ctx.snapshotFallback ?? 'vzdump') === 'refuse') {
    throw new ActionFailure(`refused: pre-snapshot ${target.name} of VM ${target.vmid} failed (${snap.reason}); the action was not started`, 'refused', snap.logTail);
  }
  run.log(`VM ${target.vmid} cannot snapshot on its storage (${snap.reason}); backing it up with vzdump instead`);
  const backup = await runTask(run, 'pre-backup', { vmid: target.vmid, mode: 'snapshot' }, () =>
    ctx.pve.vzdump({ vmid: String(target.vmid), mode: 'snapshot', ...(ctx.backupStorage ? { storage: ctx.backupStorage } : {}) }),
  );
  if (!backup.ok) {
    throw new ActionFailure(
      `refused: VM ${target.vmid} cannot snapshot (${snap.reason}) and the vzdump backup failed too (${backup.reason}); the action was not started`,
      'refused',
      backup.logTail,
    );
  }
  ctx.journal.recordSnapshot(plan.planHash, target.vmid, target.name, 'vzdump', backup.upid);
  ctx.journal.audit({ kind: 'snapshot.taken', planId: plan.id, planHash: plan.planHash, data: { actionId: action.id, vmid: target.vmid, name: target.name, kind: 'vzdump', upid: backup.upid } });
  return { vmid: target.vmid, name: target.name, kind: 'vzdump', earlier: false };
}

/**
 * A VM's snapshots as a rollback sees them: the complete ones, and the half-made ones (a `snapstate`, `prepare` or
 * `delete`: their task is running or died), which Proxmox refuses to roll back to. The `current` entry is neither.
 */
export function snapshotStates(list: readonly SnapshotInfo[]): { complete: SnapshotInfo[]; halfMade: SnapshotInfo[] } {
  const real = list.filter((snapshot) => snapshot.name !== 'current');
  return { complete: real.filter((snapshot) => !snapshot.snapstate), halfMade: real.filter((snapshot) => snapshot.snapstate) };
}

/** Why a snapshot still marked `prepare` or `delete` cannot stand for a taken one, and how to clear it. */
export function halfMade(vmid: number, name: string, snapstate: string): string {
  const what = snapstate === 'prepare' ? 'its creation never finished' : snapstate === 'delete' ? 'its deletion never finished' : `snapstate ${snapstate}`;
  return (
    `snapshot ${name} of VM ${vmid} is half made (${what}); Proxmox cannot roll back to it. ` +
    `If no snapshot task of VM ${vmid} is running, remove it with "qm delsnapshot ${vmid} ${name} --force" (and "qm unlock ${vmid}" if the VM stays locked)`
  );
}

/**
 * Deletes Jarvis's own snapshots of `vmid` beyond the newest `keep`, never one in `protect`. Half-made ones (a
 * `snapstate`) neither count as kept nor are touched: deleting them needs `--force`, a call for a person. Returns the
 * names pruned.
 */
export async function pruneJarvisSnapshots(
  pve: ActionRun['ctx']['pve'],
  vmid: number,
  keep: number,
  protect: ReadonlySet<string>,
): Promise<string[]> {
  const snapshots = await pve.listSnapshots(vmid);
  const ours = snapshots
    .filter((snapshot) => snapshot.name.startsWith(JARVIS_SNAPSHOT_PREFIX) && !snapshot.snapstate)
    .sort((a, b) => (b.snaptime ?? 0) - (a.snaptime ?? 0) || b.name.localeCompare(a.name));
  const kept = new Set([...protect].filter((name) => ours.some((snapshot) => snapshot.name === name)));
  for (const snapshot of ours) {
    if (kept.size >= keep) break;
    kept.add(snapshot.name);
  }
  const pruned: string[] = [];
  for (const snapshot of ours) {
    if (kept.has(snapshot.name)) continue;
    const upid = await pve.deleteSnapshot(vmid, snapshot.name);
    const result = await pve.waitForTask(upid);
    if (!result.ok) throw new Error(`deleting snapshot ${snapshot.name} of VM ${vmid} failed: ${result.exitstatus}`);
    pruned.push(snapshot.name);
  }
  return pruned;
}
