// vzdump's retention: after a backup, the VM's backup group on the target storage is pruned with the job's (or the
// storage's) prune-backups options, following PVE::Storage::prune_mark_backup_group.
import type { SimVolume } from './lab.ts';

type Period = 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';
const PERIODS: Period[] = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'];

function periodId(period: Period, ctime: number): string {
  const d = new Date(ctime * 1000);
  const [y, m, day, h] = [d.getFullYear(), d.getMonth(), d.getDate(), d.getHours()];
  if (period === 'hourly') return `${y}-${m}-${day}-${h}`;
  if (period === 'daily') return `${y}-${m}-${day}`;
  if (period === 'monthly') return `${y}-${m}`;
  if (period === 'yearly') return `${y}`;
  // ISO week: Thursday of the current week decides the year.
  const thursday = new Date(Date.UTC(y, m, day + 3 - ((d.getDay() + 6) % 7)));
  const week = Math.floor((thursday.getTime() - Date.UTC(thursday.getUTCFullYear(), 0, 1)) / (7 * 86_400_000));
  return `${thursday.getUTCFullYear()}-w${week}`;
}

/** The backups of one group to remove under these retention options (none with keep-all or no options). */
export function backupsToPrune(group: SimVolume[], options: Record<string, number>): SimVolume[] {
  if (options['keep-all'] === 1 || Object.keys(options).length === 0) return [];
  const newestFirst = [...group].sort((a, b) => b.ctime - a.ctime);
  const kept = new Set<SimVolume>(newestFirst.slice(0, options['keep-last'] ?? 0));
  for (const period of PERIODS) {
    const count = options[`keep-${period}`] ?? 0;
    if (count <= 0) continue;
    const included = new Set([...kept].map((v) => periodId(period, v.ctime)));
    const added = new Set<string>();
    for (const volume of newestFirst) {
      if (added.size >= count) break;
      const id = periodId(period, volume.ctime);
      if (included.has(id) || added.has(id)) continue;
      added.add(id);
      kept.add(volume);
    }
  }
  return newestFirst.filter((v) => !kept.has(v));
}
