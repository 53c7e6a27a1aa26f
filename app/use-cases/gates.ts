// The lab's change gates behind `/jarvis lock`, `unlock`, `freeze` and `unfreeze`. The manual lock is the apply
// lock held under MANUAL_LOCK: while it is held, only its holder (by exact qualified id) may apply (the hold is lifted
// for their apply and put back after it) or unlock it; another approver needs `unlock force`, which is audited.
// Freeze stops every apply until unfreeze and is kept across restarts.
import { qualifiedId, type GateResult, type GateState, type Requester } from '../../commands/services.ts';
import type { Journal } from '../../deploy/journal.ts';
import { acquireApplyLock, freeze, freezeState, readLockHolder, unfreeze, type ApplyLock, type LockAttempt, type LockHolder } from '../../deploy/lock.ts';

/** The plan id the manual lock is recorded under (history skips it). */
export const MANUAL_LOCK = 'manual-lock';

/** The manual lock this process holds, if any (the hold ends when the bot restarts). */
export class ManualLock {
  private held: ApplyLock | undefined;

  constructor(private readonly journal: Journal) {}

  /** `who` is the holder's exact qualified id; `reason` is kept beside it. */
  take(who: string, reason?: string): LockAttempt {
    const attempt = acquireApplyLock(this.journal, { who, planId: MANUAL_LOCK, now: Date.now, ...(reason ? { reason } : {}) });
    if (attempt.acquired) this.held = attempt.lock;
    return attempt;
  }

  release(): void {
    this.held?.release();
    this.journal.db.prepare('DELETE FROM apply_lock WHERE id = 1 AND plan_id = ?').run(MANUAL_LOCK);
    this.held = undefined;
  }
}

/** What the gates work on (a UseCaseContext has both). */
export interface GateStore {
  journal: Journal;
  manualLock: ManualLock;
}

export function gateState(journal: Journal): GateState {
  const holder = readLockHolder(journal);
  const frozen = freezeState(journal);
  const reason = (held: NonNullable<typeof holder>): string =>
    held.planId === MANUAL_LOCK ? `locked by hand${held.reason ? `: ${held.reason}` : ''}` : `applying plan ${held.planId}`;
  return {
    ...(holder ? { lock: { holder: holder.who, since: holder.since, reason: reason(holder) } } : {}),
    ...(frozen ? { freeze: { by: frozen.who, since: frozen.since, reason: frozen.why } } : {}),
  };
}

/** The manual lock, when one is held. */
function manualHolder(journal: Journal): LockHolder | undefined {
  const holder = readLockHolder(journal);
  return holder?.planId === MANUAL_LOCK ? holder : undefined;
}

/**
 * Runs an apply through `/jarvis lock`: the holder — the very same qualified id, not one that merely starts the same
 * way — may apply (the hold is lifted for the apply and put back after it); anyone else gets `refuse(message)`.
 */
export async function throughManualLock<T>(ctx: GateStore, requester: Requester, apply: () => Promise<T>, refuse: (message: string) => T): Promise<T> {
  const held = manualHolder(ctx.journal);
  const mine = held !== undefined && held.who === qualifiedId(requester);
  if (held && !mine) return refuse(`the lab is locked by ${held.who} since ${held.since}; ask them to /jarvis unlock`);
  if (mine) ctx.manualLock.release();
  try {
    return await apply();
  } finally {
    if (mine) ctx.manualLock.take(held.who, held.reason);
  }
}

export function lockLab(ctx: GateStore, requester: Requester, reason?: string): GateResult {
  const attempt = ctx.manualLock.take(qualifiedId(requester), reason);
  if (!attempt.acquired) return { ok: false, code: 'locked', message: attempt.message };
  ctx.journal.audit({ kind: 'lock.on', actor: qualifiedId(requester), data: { reason: reason ?? null } });
  return { ok: true, state: gateState(ctx.journal) };
}

/** Releases the manual lock: its holder may; anyone else (an approver) only with `force`, which the audit trail records. */
export function unlockLab(ctx: GateStore, requester: Requester, options: { force?: boolean } = {}): GateResult {
  const holder = readLockHolder(ctx.journal);
  if (!holder) return { ok: true, state: gateState(ctx.journal) };
  if (holder.planId !== MANUAL_LOCK) return { ok: false, code: 'locked', message: `an apply is running (plan ${holder.planId}); it releases the lock when it ends` };
  const who = qualifiedId(requester);
  const forced = holder.who !== who;
  if (forced && !options.force) {
    return {
      ok: false,
      code: 'locked',
      message: `the lab is locked by ${holder.who} since ${holder.since}; only they can unlock it. To override their lock: /jarvis unlock force (recorded in the audit trail)`,
    };
  }
  ctx.manualLock.release();
  ctx.journal.audit({ kind: 'lock.off', actor: who, data: { heldBy: holder.who, since: holder.since, forced } });
  return { ok: true, state: gateState(ctx.journal) };
}

export function freezeLab(ctx: GateStore, requester: Requester, reason?: string): GateResult {
  freeze(ctx.journal, qualifiedId(requester), reason ?? 'no reason given', Date.now);
  return { ok: true, state: gateState(ctx.journal) };
}

export function unfreezeLab(ctx: GateStore, requester: Requester): GateResult {
  unfreeze(ctx.journal, qualifiedId(requester));
  return { ok: true, state: gateState(ctx.journal) };
}
