// Aligning a firewall chain's live rules with the rules a spec wants, respecting owners (planner/firewall-owner.ts).
// Rules are matched by meaning (every field, the comment without its owner tag) with a longest common subsequence, so
// the spec's order is kept and as few rules as possible change. A matched rule is kept as it is when this spec or
// another owns it (another spec's identical rule serves both), and tagged when no spec owned it yet. Between matches,
// the rules this spec owns or nobody owns are updated in place, deleted or joined by new ones; another spec's rules
// are skipped over and keep their place.
import { canonicalJson } from '../hash.ts';
import { ownerOf, withoutOwner } from '../firewall-owner.ts';

export type Comparable = Partial<Record<'type' | 'action' | 'enable' | 'source' | 'dest' | 'proto' | 'dport' | 'sport' | 'iface' | 'macro' | 'log' | 'comment', string>>;

export type Op =
  | { op: 'keep' }
  /** Another spec's rule between this spec's: it stays in its place. */
  | { op: 'skip' }
  | { op: 'update'; live: Comparable; want: Comparable }
  | { op: 'delete'; live: Comparable }
  | { op: 'insert'; want: Comparable };

const meaning = (rule: Comparable): string => canonicalJson({ ...rule, comment: withoutOwner(rule.comment) });

/** Edit script turning `live` into `want` (which carries `owner`'s tag) without touching other owners' rules. */
export function alignRules(live: Comparable[], want: Comparable[], owner: string): Op[] {
  const a = live.map(meaning);
  const b = want.map(meaning);
  const foreign = live.map((rule) => {
    const tag = ownerOf(rule.comment);
    return tag !== undefined && tag !== owner;
  });
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: Op[] = [];
  const gapLive: number[] = [];
  const gapWant: Comparable[] = [];
  const flush = () => {
    let next = 0;
    for (const index of gapLive) {
      if (foreign[index]) ops.push({ op: 'skip' });
      else if (next < gapWant.length) ops.push({ op: 'update', live: live[index]!, want: gapWant[next++]! });
      else ops.push({ op: 'delete', live: live[index]! });
    }
    for (; next < gapWant.length; next++) ops.push({ op: 'insert', want: gapWant[next]! });
    gapLive.length = 0;
    gapWant.length = 0;
  };
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      flush();
      const untagged = ownerOf(live[i]!.comment) === undefined;
      // Nobody owned it yet: it becomes this spec's (its comment gets the tag); an owner's stays as it is.
      ops.push(untagged && live[i]!.comment !== want[j]!.comment ? { op: 'update', live: live[i]!, want: want[j]! } : { op: 'keep' });
      i++;
      j++;
    } else if (j < b.length && (i >= a.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      gapWant.push(want[j++]!);
    } else {
      gapLive.push(i++);
    }
  }
  flush();
  return ops;
}
