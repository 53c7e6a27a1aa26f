// The facts probes print one `## name` header per section so one round trip answers everything; this splits them.
export function sections(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  let current: string | undefined;
  let lines: string[] = [];
  for (const line of stdout.split('\n')) {
    const header = /^## ([a-z0-9-]+)$/.exec(line);
    if (header) {
      if (current !== undefined) out.set(current, lines.join('\n'));
      current = header[1];
      lines = [];
    } else if (current !== undefined) lines.push(line);
  }
  if (current !== undefined) out.set(current, lines.join('\n'));
  return out;
}
