// sanoid.conf sections for the daily-snapshot policies. Jarvis owns only the blocks between its markers, one per
// dataset, so datasets the owner configured by hand stay untouched. Parsing reads every `[dataset]` section.
import type { LiveSnapshotPolicy } from '../../planner/state.ts';

const PERIODS = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;

export const sanoidMarkers = (dataset: string) => ({ begin: `# BEGIN jarvis ${dataset}`, end: `# END jarvis ${dataset}` });

export function renderSanoidSection(policy: LiveSnapshotPolicy): string {
  const { begin, end } = sanoidMarkers(policy.dataset);
  const keep = (period: string): number => {
    const value = policy.retention[`keep-${period}`];
    if (period === 'hourly' && policy.frequency === 'hourly') return value ?? 24;
    return value ?? 0;
  };
  return [
    begin,
    `[${policy.dataset}]`,
    ...PERIODS.map((p) => `\t${p} = ${keep(p)}`),
    '\tautosnap = yes',
    '\tautoprune = yes',
    end,
  ].join('\n');
}

/** Policies of every section with `autosnap = yes`; templates and `use_template` are not followed. */
export function parseSanoidConf(text: string): LiveSnapshotPolicy[] {
  const policies: LiveSnapshotPolicy[] = [];
  let section: { name: string; values: Map<string, string> } | undefined;
  const flush = (): void => {
    if (!section || section.name.startsWith('template_') || section.values.get('autosnap') !== 'yes') return;
    const retention: Record<string, number> = {};
    for (const period of PERIODS) {
      const n = Number(section.values.get(period) ?? '0');
      if (Number.isInteger(n) && n > 0) retention[`keep-${period}`] = n;
    }
    policies.push({ dataset: section.name, frequency: (retention['keep-hourly'] ?? 0) > 0 ? 'hourly' : 'daily', retention });
  };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      flush();
      section = { name: header[1]!, values: new Map() };
      continue;
    }
    const kv = /^([a-z_]+)\s*=\s*(.*)$/.exec(line);
    if (kv && section) section.values.set(kv[1]!, kv[2]!.trim());
  }
  flush();
  return policies;
}
