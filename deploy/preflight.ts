// Checks that run before anything is written: the plan's shape (format version, violations, a sound dependency
// graph), and staleness (every remaining target still has the fingerprint the plan — or this plan's own earlier,
// interrupted run — left it with). A target that could not be read is not a changed one: it is read again a few
// times, and if it still cannot be read the apply stops as "could not read", never as "stale".
import { setTimeout as sleepFor } from 'node:timers/promises';
import { UnreachableError } from '../lib/errors.ts';
import type { TargetReading } from '../planner/index.ts';
import { PLAN_FORMAT_VERSION, type Plan } from '../planner/plan.ts';
import type { ActionRecord } from './journal.ts';
import type { Refusal } from './types.ts';

export function checkPlanShape(plan: Plan): Refusal | undefined {
  if (plan.formatVersion !== PLAN_FORMAT_VERSION) {
    return {
      code: 'format',
      message: `plan ${plan.id} has format version ${plan.formatVersion}; this Jarvis applies version ${PLAN_FORMAT_VERSION} only: re-plan with this version`,
    };
  }
  if (plan.violations.length > 0) {
    const list = plan.violations.map((v) => `${v.ruleId}${v.actionId ? ` (${v.actionId})` : ''}: ${v.message}`).join('; ');
    return { code: 'violations', message: `plan ${plan.id} breaks ${plan.violations.length} guardrail(s) and cannot be applied: ${list}` };
  }
  const ids = new Set<string>();
  for (const action of plan.actions) {
    if (ids.has(action.id)) return { code: 'format', message: `plan ${plan.id} lists action ${action.id} twice` };
    ids.add(action.id);
  }
  for (const action of plan.actions) {
    const unknownDep = action.dependsOn.find((dep) => !ids.has(dep));
    if (unknownDep) return { code: 'format', message: `action ${action.id} depends on ${unknownDep}, which is not in plan ${plan.id}` };
  }
  const cycle = findCycle(plan);
  if (cycle) return { code: 'format', message: `plan ${plan.id} has a dependency cycle: ${cycle.join(' → ')}` };
  return undefined;
}

function findCycle(plan: Plan): string[] | undefined {
  const deps = new Map(plan.actions.map((action) => [action.id, action.dependsOn]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'visiting');
    path.push(id);
    for (const dep of deps.get(id) ?? []) {
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const action of plan.actions) {
    const cycle = visit(action.id);
    if (cycle) return cycle;
  }
  return undefined;
}

/** A fingerprint the planner could not read: there is nothing to compare it with. */
const UNREADABLE = 'unknown';

/**
 * What each remaining target's fingerprint should be now: the plan's, or — for a target this plan already changed in
 * an earlier run — the fingerprint recorded right after that change (an action records its own target and the
 * targets of the actions that depend on it). A target whose last change was interrupted or failed cannot be predicted
 * and is left to reconciliation; nor can its dependents' targets, which that change may have moved too (advertising
 * routes in a guest moves the tailnet the next action approves them in).
 */
export function expectedFingerprints(plan: Plan, records: Map<string, ActionRecord>): Map<string, string | null> {
  const expected = new Map<string, string | null>();
  for (const action of plan.actions) {
    if (!expected.has(action.targetKey)) expected.set(action.targetKey, plan.stateFingerprint[action.targetKey] ?? null);
  }
  const unpredictable = new Set<string>();
  const finished = [...records.values()].sort((a, b) => (a.finishedAt ?? '').localeCompare(b.finishedAt ?? ''));
  const byId = new Map(plan.actions.map((action) => [action.id, action]));
  for (const record of finished) {
    const action = byId.get(record.actionId);
    if (!action) continue;
    if (record.status !== 'done') {
      unpredictable.add(action.targetKey);
      for (const other of plan.actions) if (other.dependsOn.includes(action.id)) unpredictable.add(other.targetKey);
      continue;
    }
    const parsed: unknown = record.postFingerprint === null ? undefined : JSON.parse(record.postFingerprint);
    const after = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, string | null>) : undefined;
    if (!after || !(action.targetKey in after)) unpredictable.add(action.targetKey);
    for (const [key, value] of Object.entries(after ?? {})) expected.set(key, value);
  }
  for (const key of unpredictable) expected.delete(key);
  for (const [key, value] of expected) if (value === UNREADABLE) expected.delete(key);
  return expected;
}

/** Pauses before each new read of targets that could not be read (a few seconds in all). */
export const REREAD_DELAYS_MS = [500, 1_000, 2_000] as const;

export interface StaleCheckOptions {
  sleep?: (ms: number) => Promise<void>;
  rereadDelaysMs?: readonly number[];
}

/** One read of the targets; a lab that does not answer at all leaves every key unreadable, with its message. */
async function readOnce(read: (keys: string[]) => Promise<TargetReading>, keys: string[]): Promise<TargetReading> {
  try {
    return await read(keys);
  } catch (error) {
    if (!(error instanceof UnreachableError)) throw error;
    return { fingerprints: {}, unreadable: Object.fromEntries(keys.map((key) => [key, error.message])) };
  }
}

export async function checkStale(
  plan: Plan,
  records: Map<string, ActionRecord>,
  read: (keys: string[]) => Promise<TargetReading>,
  options: StaleCheckOptions = {},
): Promise<Refusal | undefined> {
  // A manual step writes nothing, so there is nothing for it to find stale.
  const remaining = new Set(plan.actions.filter((action) => records.get(action.id)?.status !== 'done' && action.channel !== 'owner').map((action) => action.targetKey));
  const expected = expectedFingerprints(plan, records);
  const keys = [...remaining].filter((key) => expected.has(key));
  if (keys.length === 0) return undefined;
  const sleep = options.sleep ?? ((ms: number) => sleepFor(ms));
  const live: Record<string, string> = {};
  let unreadable: Record<string, string> = {};
  let toRead = keys;
  for (const delay of [0, ...(options.rereadDelaysMs ?? REREAD_DELAYS_MS)]) {
    if (delay > 0) await sleep(delay);
    const reading = await readOnce(read, toRead);
    Object.assign(live, reading.fingerprints);
    // A key still unreadable after a read keeps its latest cause; a key read at last drops it.
    unreadable = Object.fromEntries(toRead.filter((key) => key in reading.unreadable).map((key) => [key, reading.unreadable[key]!]));
    toRead = keys.filter((key) => key in unreadable && live[key] !== expected.get(key));
    // A target that did change needs a new plan whatever the others say; reading them again cannot help.
    if (movedTargets(plan, records, expected, keys, live, unreadable).length > 0 || toRead.length === 0) break;
  }
  const moved = movedTargets(plan, records, expected, keys, live, unreadable);
  if (moved.length > 0) {
    return {
      code: 'stale',
      message: `plan ${plan.id} is stale: ${moved.length} target(s) changed since it was made (${moved.map((m) => m.targetKey).join(', ')}); re-plan with \`jarvis plan ${plan.phase}\``,
      moved,
    };
  }
  if (toRead.length === 0) return undefined;
  const causes = toRead.map((key) => ({ targetKey: key, reason: unreadable[key]! }));
  return {
    code: 'unreadable',
    message: `could not read ${causes.map((c) => `${c.targetKey}: ${c.reason}`).join('; ')}; nothing was changed, try again`,
    unreadable: causes,
  };
}

function movedTargets(
  plan: Plan,
  records: Map<string, ActionRecord>,
  expected: Map<string, string | null>,
  keys: string[],
  live: Record<string, string>,
  unreadable: Record<string, string>,
): NonNullable<Refusal['moved']> {
  return keys
    .filter((key) => !(key in unreadable))
    .map((key) => ({
      targetKey: key,
      planned: expected.get(key) ?? null,
      now: live[key] ?? null,
      actions: plan.actions.filter((action) => action.targetKey === key && records.get(action.id)?.status !== 'done').map((action) => action.id),
    }))
    .filter((entry) => entry.planned !== entry.now);
}
