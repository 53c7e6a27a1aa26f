// Execution order: a dependency graph from what actions provide and require (bridge before a NIC moves onto it;
// pool → datasets → storage → backup job; VM create → start → in-guest steps; router up before VMs move behind it;
// IP sets before the rules that use them; allow rules before a DROP policy) plus explicit same-target sequences.
// Kahn's algorithm with the diff's emission order as tie-break gives a stable order; a cycle is an error naming it.
import type { DraftAction } from './diff/types.ts';

export class DependencyCycleError extends Error {
  constructor(readonly cycle: string[]) {
    super(`dependency cycle: ${cycle.join(' → ')}`);
    this.name = 'DependencyCycleError';
  }
}

/** dependsOn per action id (sorted, unique), from provides/requires and explicit `after`. */
export function dependencies(actions: DraftAction[]): Map<string, string[]> {
  const providers = new Map<string, string[]>();
  for (const a of actions) for (const key of a.provides) providers.set(key, [...(providers.get(key) ?? []), a.id]);
  const ids = new Set(actions.map((a) => a.id));
  const deps = new Map<string, string[]>();
  for (const a of actions) {
    const set = new Set<string>(a.after.filter((id) => ids.has(id)));
    for (const key of a.requires) for (const p of providers.get(key) ?? []) if (p !== a.id) set.add(p);
    deps.set(a.id, [...set].sort());
  }
  return deps;
}

export function orderActions<T extends DraftAction>(actions: T[]): Array<T & { dependsOn: string[] }> {
  const ids = actions.map((a) => a.id);
  if (new Set(ids).size !== ids.length) throw new Error(`duplicate action ids: ${ids.filter((id, i) => ids.indexOf(id) !== i).join(', ')}`);
  const deps = dependencies(actions);
  const rank = new Map(actions.map((a, i) => [a.id, i]));
  const remaining = new Map(actions.map((a) => [a.id, new Set(deps.get(a.id))]));
  const dependents = new Map<string, string[]>();
  for (const [id, ds] of deps) for (const d of ds) dependents.set(d, [...(dependents.get(d) ?? []), id]);
  const ready = actions.filter((a) => remaining.get(a.id)!.size === 0).map((a) => a.id);
  const out: Array<T & { dependsOn: string[] }> = [];
  const byId = new Map(actions.map((a) => [a.id, a]));
  while (ready.length) {
    ready.sort((x, y) => rank.get(x)! - rank.get(y)!);
    const id = ready.shift()!;
    out.push({ ...byId.get(id)!, dependsOn: deps.get(id)! });
    for (const next of dependents.get(id) ?? []) {
      const pending = remaining.get(next)!;
      pending.delete(id);
      if (pending.size === 0) ready.push(next);
    }
    remaining.delete(id);
  }
  if (remaining.size > 0) throw new DependencyCycleError(findCycle(remaining));
  return out;
}

function findCycle(remaining: Map<string, Set<string>>): string[] {
  const start = [...remaining.keys()].sort()[0]!;
  const path: string[] = [];
  const seen = new Map<string, number>();
  let current = start;
  while (!seen.has(current)) {
    seen.set(current, path.length);
    path.push(current);
    current = [...remaining.get(current)!].filter((d) => remaining.has(d)).sort()[0]!;
  }
  return [...path.slice(seen.get(current)!), current];
}
