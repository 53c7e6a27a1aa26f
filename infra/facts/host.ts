// Host facts the Proxmox API does not expose: ZFS datasets with their properties and newest snapshot, and the
// snapshot policies sanoid runs. One probe script, one round trip.
import { JarvisError } from '../../lib/errors.ts';
import type { LiveDataset, LiveSnapshotPolicy } from '../../planner/state.ts';
import type { RemoteShell } from '../shell.ts';
import { viaBash } from '../ssh/command.ts';
import { parseSanoidConf } from './sanoid-conf.ts';
import { sections } from './sections.ts';

/** Properties read for every dataset: what the spec sets, plus the usual tuning knobs. */
export const DATASET_PROPERTIES = ['compression', 'atime', 'recordsize', 'quota', 'reservation', 'xattr', 'acltype', 'sync'] as const;

const HOST_PROBE = `set +e
R="\${JARVIS_ROOT:-}"
export LC_ALL=C
echo '## zfs'
if command -v zfs >/dev/null; then
  echo present
  echo '## datasets'; zfs list -H -o name,mountpoint,${DATASET_PROPERTIES.join(',')} -t filesystem 2>&1 || echo "!error $?"
  echo '## snapshots'; zfs list -H -p -o name,creation -t snapshot -s creation 2>&1 || echo "!error $?"
else
  echo absent
fi
echo '## sanoid'
if [[ $(dpkg-query -W -f='\${db:Status-Status}' sanoid 2>/dev/null) == installed ]]; then
  systemctl is-enabled --quiet sanoid.timer && systemctl is-active --quiet sanoid.timer && echo active || echo inactive
else
  echo absent
fi
echo '## sanoid-conf'; cat "$R/etc/sanoid/sanoid.conf" 2>/dev/null || true
`;

export async function readHostFacts(shell: RemoteShell): Promise<{ datasets: LiveDataset[]; snapshotPolicies: LiveSnapshotPolicy[] }> {
  let result;
  try {
    result = await shell.exec(viaBash(HOST_PROBE), { sudo: true, timeoutSec: 60 });
  } catch (error) {
    throw new JarvisError('facts-unreachable', `${shell.host}: cannot read host facts: ${(error as Error).message}`, undefined, { cause: error });
  }
  if (result.code !== 0) throw new JarvisError('facts-unreadable', `${shell.host}: the host facts probe exited ${result.code}`);
  const s = sections(result.stdout);
  return { datasets: parseDatasets(shell.host, s), snapshotPolicies: parsePolicies(s) };
}

function lines(text: string | undefined): string[] {
  return (text ?? '').split('\n').filter((l) => l.trim() !== '');
}

function failed(host: string, what: string, text: string | undefined): void {
  const all = lines(text);
  if (all.some((l) => l.startsWith('!error'))) {
    throw new JarvisError('facts-unreadable', `${host}: ${what} failed: ${all.filter((l) => !l.startsWith('!error')).join(' ').slice(0, 200)}`);
  }
}

function parseDatasets(host: string, s: Map<string, string>): LiveDataset[] {
  if (s.get('zfs')?.trim() !== 'present') return [];
  failed(host, 'zfs list', s.get('datasets'));
  failed(host, 'zfs list -t snapshot', s.get('snapshots'));
  const newest = new Map<string, { name: string; creation: number }>();
  for (const line of lines(s.get('snapshots'))) {
    const [full, creation] = line.split('\t');
    const at = full?.indexOf('@') ?? -1;
    const epoch = Number(creation);
    if (!full || at < 1 || !Number.isFinite(epoch)) throw new JarvisError('facts-unreadable', `${host}: unexpected zfs snapshot line: ${line.slice(0, 120)}`);
    const dataset = full.slice(0, at);
    const prev = newest.get(dataset);
    if (!prev || epoch >= prev.creation) newest.set(dataset, { name: full.slice(at + 1), creation: epoch });
  }
  return lines(s.get('datasets')).map((line) => {
    const cols = line.split('\t');
    if (cols.length !== 2 + DATASET_PROPERTIES.length) {
      throw new JarvisError('facts-unreadable', `${host}: unexpected zfs list line (${cols.length} columns): ${line.slice(0, 120)}`);
    }
    const [name, mountpoint, ...values] = cols as [string, string, ...string[]];
    const properties: Record<string, string> = {};
    DATASET_PROPERTIES.forEach((p, i) => {
      const v = values[i];
      if (v !== undefined && v !== '-') properties[p] = v;
    });
    const snap = newest.get(name);
    return {
      name,
      properties,
      ...(mountpoint !== '-' && mountpoint !== 'none' ? { mountpoint } : {}),
      ...(snap ? { newestSnapshot: snap } : {}),
    };
  });
}

/** Policies count only when sanoid is installed and its timer runs: a config nobody executes takes no snapshots. */
function parsePolicies(s: Map<string, string>): LiveSnapshotPolicy[] {
  if (s.get('sanoid')?.trim() !== 'active') return [];
  return parseSanoidConf(s.get('sanoid-conf') ?? '');
}
