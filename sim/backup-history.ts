// Past nightly runs of a backup job, recorded as finished vzdump tasks with the logs PVE writes (pve-manager
// PVE/VZDump.pm exec_backup / exec_backup_task), and the archives the good ones left. Scenarios seed history with it.
import type { SimLab } from './lab.ts';

export const DAY = 86_400;

/** How one VM fared in a past nightly run. */
export type PastOutcome = 'ok' | 'no-space' | 'lock-timeout' | 'locked-snapshot' | 'no-tmpdir';

export interface NightlyRun {
  /** Seconds before the most recent scheduled run. */
  ago: number;
  outcomes: Record<number, PastOutcome>;
}

const VM_NAMES: Record<number, string> = { 100: 'edge-gateway', 300: 'app-host', 400: 'home-assistant' };
const DISK_GIB: Record<number, number> = { 100: 32, 300: 128, 400: 64 };

const logTime = (unix: number): string => new Date(unix * 1000).toISOString().slice(0, 19).replace('T', ' ');

function pastVmLog(vmid: number, outcome: PastOutcome, dumpdir: string, archive: string, at: number): string[] {
  const name = VM_NAMES[vmid]!;
  if (outcome === 'lock-timeout') return [`ERROR: Backup of VM ${vmid} failed - unable to acquire lock: got timeout`];
  if (outcome === 'locked-snapshot') return [`ERROR: Backup of VM ${vmid} failed - VM ${vmid} is locked (snapshot)`];
  if (outcome === 'no-tmpdir') {
    // exec_backup_task dies before "Starting Backup of VM" when it cannot make its temporary directory; the `die`
    // has no newline, so Perl appends where it died.
    const tmpdir = `${dumpdir}/${archive.replace(/\.vma\.zst$/, '.tmp')}`;
    return [`ERROR: Backup of VM ${vmid} failed - unable to create temporary directory '${tmpdir}' at /usr/share/perl5/PVE/VZDump.pm line 1048.`, `INFO: Failed at ${logTime(at)}`];
  }
  const head = [`INFO: Starting Backup of VM ${vmid} (qemu)`, 'INFO: status = running', `INFO: VM Name: ${name}`, 'INFO: backup mode: snapshot', `INFO: creating vzdump archive '${dumpdir}/${archive}'`];
  if (outcome === 'no-space') {
    const gib = DISK_GIB[vmid]!;
    return [
      ...head,
      `INFO:  71% (${(gib * 0.71).toFixed(1)} GiB of ${gib.toFixed(1)} GiB) in 6m 2s, read: 251.3 MiB/s, write: 240.1 MiB/s`,
      'ERROR: vma_queue_write: write error - No space left on device',
      'INFO: aborting backup job',
      `ERROR: Backup of VM ${vmid} failed - vma_queue_write: write error - No space left on device`,
    ];
  }
  return [...head, `INFO: archive file size: ${(DISK_GIB[vmid]! * 0.08).toFixed(2)}GB`, `INFO: Finished Backup of VM ${vmid} (00:01:12)`];
}

/** The most recent daily run at `secondOfDay` (UTC) at or before `now` (epoch seconds). */
function lastDailyRun(now: number, secondOfDay: number): number {
  const today = now - (now % DAY) + secondOfDay;
  return today <= now ? today : today - DAY;
}

/**
 * Records the runs of jarvis-daily. They are anchored to the job's schedule (02:30 UTC), not to the start of the
 * simulator, so every start on the same day gives the same tasks and UPIDs: de-duplication across separate
 * `jarvis watch --once` runs is testable.
 */
/** How long a nightly run of the three guests takes. */
const RUN_SECONDS = 420;

export function recordNightlyRuns(lab: SimLab, runs: NightlyRun[], target: { storage: string; dumpdir: string }): void {
  // Every run is recorded as finished (endtime, exit status), so the newest is the last 02:30 run that has had time
  // to end: one started minutes ago would otherwise end in the future.
  const now = lastDailyRun(Math.floor(Date.now() / 1000) - RUN_SECONDS, 2 * 3600 + 30 * 60);
  const header = `INFO: starting new backup job: vzdump 100 300 400 --storage ${target.storage} --mode snapshot --compress zstd --prune-backups keep-daily=7,keep-weekly=4,keep-monthly=6 --node proxmox`;
  for (const run of runs) {
    const start = now - run.ago;
    const stamp = new Date(start * 1000).toISOString().slice(0, 19).replace(/-/g, '_').replace('T', '-').replace(/:/g, '_');
    const log = [header];
    if (Object.values(run.outcomes).includes('lock-timeout')) log.push('INFO: trying to get global lock - waiting...', "ERROR: can't acquire lock '/var/run/vzdump.lock' - got timeout");
    for (const [vmid, outcome] of Object.entries(run.outcomes).map(([id, o]) => [Number(id), o] as const)) {
      const archive = `vzdump-qemu-${vmid}-${stamp}.vma.zst`;
      log.push(...pastVmLog(vmid, outcome, target.dumpdir, archive, start + 60));
      if (outcome === 'ok') {
        lab.volumes.push({ volid: `${target.storage}:backup/${archive}`, vmid, size: Math.round(DISK_GIB[vmid]! * 0.08 * 1024 ** 3), format: 'vma.zst', content: 'backup', ctime: start });
      }
    }
    const failed = Object.values(run.outcomes).some((o) => o !== 'ok');
    log.push(failed ? 'INFO: Backup job finished with errors' : 'INFO: Backup job finished successfully');
    lab.tasks.record({ type: 'vzdump', id: '', user: 'root@pam', starttime: start, endtime: start + RUN_SECONDS, exitstatus: failed ? 'job errors' : 'OK', log });
  }
  lab.tasks.tasks.sort((a, b) => a.starttime - b.starttime);
}
