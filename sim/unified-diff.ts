// `diff -u` of two line lists, as GNU diff prints it: a `---`/`+++` header, then hunks with three lines of context.
// The simulator sends it as the network list's `changes`, which PVE fills with `diff -b -N -u` (pve-common
// src/PVE/INotify.pm ccache_compute_diff).

type Edit = { op: ' ' | '-' | '+'; line: string; a: number; b: number };

/** The edit script of a longest common subsequence (the files are a few dozen lines, so O(n·m) is fine). */
function edits(before: readonly string[], after: readonly string[]): Edit[] {
  const n = before.length;
  const m = after.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i]![j] = before[i] === after[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const out: Edit[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && before[i] === after[j]) out.push({ op: ' ', line: before[i]!, a: i++, b: j++ });
    else if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) out.push({ op: '+', line: after[j]!, a: i, b: j++ });
    else out.push({ op: '-', line: before[i]!, a: i++, b: j });
  }
  return out;
}

const range = (start: number, count: number): string => (count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`);

/** The unified diff, or '' when the two are equal. */
export function unifiedDiff(before: readonly string[], after: readonly string[], names: { from: string; to: string }, context = 3): string {
  const script = edits(before, after);
  const changed = script.map((edit, index) => (edit.op === ' ' ? -1 : index)).filter((index) => index >= 0);
  if (changed.length === 0) return '';
  const hunks: Array<[number, number]> = [];
  for (const index of changed) {
    const start = Math.max(0, index - context);
    const end = Math.min(script.length - 1, index + context);
    const last = hunks[hunks.length - 1];
    if (last && start <= last[1] + 1) last[1] = Math.max(last[1], end);
    else hunks.push([start, end]);
  }
  const lines = [`--- ${names.from}`, `+++ ${names.to}`];
  for (const [start, end] of hunks) {
    const part = script.slice(start, end + 1);
    const fromCount = part.filter((edit) => edit.op !== '+').length;
    const toCount = part.filter((edit) => edit.op !== '-').length;
    lines.push(`@@ -${range(part[0]!.a + 1, fromCount)} +${range(part[0]!.b + 1, toCount)} @@`);
    for (const edit of part) lines.push(`${edit.op}${edit.line}`);
  }
  return `${lines.join('\n')}\n`;
}
