// Backup jobs (/cluster/backup), guests no job covers, and `vzdump` runs that lock each VM, write archives to the
// target storage and log the way vzdump does.
import { nextCalendarEvent } from '../../lib/calendar-event.ts';
import { bool, fail, PveHttpError, str, type Params } from '../http.ts';
import type { SimLab, SimVm } from '../lab.ts';
import { randomHex } from '../random.ts';
import { backupsToPrune } from '../prune.ts';
import { checkNode } from './cluster.ts';
import { propertyObject } from './storage.ts';
import type { RouteTable } from './types.ts';

const JOB_CONTROL = new Set(['id', 'delete', 'digest']);
const OBJECT_KEYS = new Set(['prune-backups', 'fleecing', 'performance']);

function jobRow(job: Record<string, string | number>): Record<string, unknown> {
  const row: Record<string, unknown> = { ...job };
  for (const key of OBJECT_KEYS) if (typeof row[key] === 'string') row[key] = propertyObject(row[key] as string);
  return row;
}

/**
 * The list adds `next-run` to every job with a schedule, disabled or not (pve-manager PVE/API2/Backup.pm index:
 * Proxmox::RS::CalendarEvent->compute_next_event(time), in the node's time); GET of one job does not.
 */
function listedJobRow(job: Record<string, string | number>): Record<string, unknown> {
  const next = nextCalendarEvent(String(job.schedule ?? ''), Math.floor(Date.now() / 1000), 'local');
  return { ...jobRow(job), ...(next !== undefined ? { 'next-run': next } : {}) };
}

function checkSelection(params: Params): void {
  const vmid = str(params, 'vmid');
  if (vmid !== undefined && (bool(params, 'all') || str(params, 'pool') !== undefined || str(params, 'exclude') !== undefined)) {
    throw new PveHttpError(400, 'Parameter verification failed.', { vmid: "option conflicts with option 'all', 'pool' or 'exclude'" });
  }
}

function applyJobParams(lab: SimLab, job: Record<string, string | number>, params: Params): void {
  for (const key of (str(params, 'delete') ?? '').split(/[,;\s]+/).filter(Boolean)) delete job[key];
  for (const [key, value] of Object.entries(params)) {
    if (JOB_CONTROL.has(key)) continue;
    const text = Array.isArray(value) ? value.join(',') : value;
    job[key] = key === 'vmid' ? text.split(/[,;\s]+/).filter(Boolean).join(',') : /^\d+$/.test(text) && key !== 'schedule' ? Number(text) : text;
  }
  if (typeof job.storage === 'string') lab.storage(job.storage);
}

/** VMs a job or a vzdump call selects. */
function selectVms(lab: SimLab, params: { vmid?: string; all?: boolean; exclude?: string }): number[] {
  const excluded = new Set((params.exclude ?? '').split(/[,;\s]+/).filter(Boolean).map(Number));
  if (params.all) return [...lab.vms.keys()].filter((id) => !excluded.has(id)).sort((a, b) => a - b);
  return (params.vmid ?? '').split(/[,;\s]+/).filter(Boolean).map(Number);
}

const stamp = (date: Date): string => date.toISOString().replace(/\.\d+Z$/, '').replace('T', ' ');
const fileStamp = (date: Date): string => stamp(date).replace(/-/g, '_').replace(' ', '-').replace(/:/g, '_');

function backupOne(lab: SimLab, vm: SimVm, storageId: string, mode: string, compress: string, log: string[]): void {
  // Archive names carry the start second; simulated runs can be faster than that, so move to the next free second.
  let started = new Date(Math.floor(Date.now() / 1000) * 1000);
  const taken = (date: Date): boolean => lab.volumes.some((v) => v.volid.includes(`vzdump-qemu-${vm.vmid}-${fileStamp(date)}.`));
  while (taken(started)) started = new Date(started.getTime() + 1000);
  log.push(`INFO: Starting Backup of VM ${vm.vmid} (qemu)`, `INFO: Backup started at ${stamp(started)}`, `INFO: status = ${vm.status}`);
  const storage = lab.storages.get(storageId);
  if (!storage) throw new Error(`storage '${storageId}' does not exist`);
  if (!String(storage.content).split(',').includes('backup')) throw new Error(`storage '${storageId}' does not support backups`);
  log.push(`INFO: VM Name: ${vm.config.name ?? `vm${vm.vmid}`}`);
  let size = 0;
  for (const [key, value] of Object.entries(vm.config)) {
    const disk = /^(scsi|virtio|sata|ide|efidisk)\d+$/.test(key) && !value.includes('media=cdrom') ? /size=(\d+)G/.exec(value) : null;
    if (!disk) continue;
    log.push(`INFO: include disk '${key}' '${value.split(',')[0]}' ${disk[1]}G`);
    size += Number(disk[1]) * 1024 ** 3 * 0.08;
  }
  const usage = lab.storageUsage(storageId);
  const extension = compress === 'zstd' || compress === '1' ? '.zst' : compress === 'gzip' ? '.gz' : compress === 'lzo' ? '.lzo' : '';
  const path = storage.type === 'dir' ? `${storage.path}/dump` : storageId;
  const file = `vzdump-qemu-${vm.vmid}-${fileStamp(started)}.vma${extension}`;
  log.push(`INFO: backup mode: ${mode}`, `INFO: ionice priority: 7`, `INFO: creating vzdump archive '${path}/${file}'`);
  if (usage.used + size > usage.total) throw new Error('vma_queue_write: write error - No space left on device');
  lab.volumes.push({ volid: `${storageId}:backup/${file}`, vmid: vm.vmid, size: Math.round(size), format: `vma${extension ? `.${extension.slice(1)}` : ''}`, content: 'backup', ctime: Math.floor(started.getTime() / 1000) });
  log.push(`INFO: archive file size: ${(size / 1024 ** 3).toFixed(2)}GB`, `INFO: Finished Backup of VM ${vm.vmid} (00:00:0${Math.max(1, Math.round(lab.random() * 9))})`, `INFO: Backup finished at ${stamp(new Date())}`);
}

function prune(lab: SimLab, storageId: string, vmid: number, retention: string, log: string[]): void {
  const options = Object.fromEntries(Object.entries(propertyObject(retention)).map(([key, value]) => [key, Number(value)]));
  const group = lab.volumes.filter((v) => v.content === 'backup' && v.vmid === vmid && v.volid.startsWith(`${storageId}:`));
  const doomed = backupsToPrune(group, options);
  log.push(`INFO: prune older backups with retention: ${retention}`);
  for (const volume of doomed) {
    log.push(`INFO: removing backup '${volume.volid}'`);
    lab.volumes.splice(lab.volumes.indexOf(volume), 1);
  }
  log.push(`INFO: pruned ${doomed.length} backup(s) not covered by keep-retention policy`);
}

export const backupRoutes: RouteTable = {
  'GET /cluster/backup': ({ lab }) => [...lab.backupJobs.values()].map((job) => listedJobRow(job)),
  'POST /cluster/backup': ({ lab, params }) => {
    checkSelection(params);
    if (str(params, 'schedule') === undefined && str(params, 'starttime') === undefined) {
      throw new PveHttpError(400, 'Parameter verification failed.', { schedule: "need either 'schedule' or 'starttime'" });
    }
    const id = str(params, 'id') ?? `backup-${randomHex(lab.random, 4)}-${randomHex(lab.random, 2)}`;
    if (lab.backupJobs.has(id)) fail(`Job '${id}' already exists`);
    const job: Record<string, string | number> = { id, type: 'vzdump', enabled: 1, mode: 'snapshot' };
    applyJobParams(lab, job, params);
    job.id = id;
    lab.backupJobs.set(id, job);
    return null;
  },
  'GET /cluster/backup/{id}': ({ lab, path }) => jobRow(lab.backupJobs.get(path.id ?? '') ?? fail(`job '${path.id}' not found`)),
  'PUT /cluster/backup/{id}': ({ lab, path, params }) => {
    const job = lab.backupJobs.get(path.id ?? '') ?? fail(`job '${path.id}' not found`);
    checkSelection(params);
    const digest = str(params, 'digest');
    if (digest !== undefined && digest !== lab.backupDigest()) fail('detected modified configuration - file changed by other user? Try again.');
    applyJobParams(lab, job, params);
    return null;
  },
  'DELETE /cluster/backup/{id}': ({ lab, path }) => {
    if (!lab.backupJobs.delete(path.id ?? '')) fail(`job '${path.id}' not found`);
    return null;
  },
  'GET /cluster/backup-info': () => [{ subdir: 'not-backed-up' }],
  'GET /cluster/backup-info/not-backed-up': ({ lab }) => {
    const covered = new Set<number>();
    for (const job of lab.backupJobs.values()) {
      const selection: { vmid?: string; all?: boolean; exclude?: string } = { all: Number(job.all ?? 0) === 1 };
      if (job.vmid !== undefined) selection.vmid = String(job.vmid);
      if (job.exclude !== undefined) selection.exclude = String(job.exclude);
      for (const id of selectVms(lab, selection)) covered.add(id);
    }
    return [...lab.vms.values()]
      .filter((vm) => !covered.has(vm.vmid))
      .sort((a, b) => a.vmid - b.vmid)
      .map((vm) => ({ vmid: vm.vmid, type: 'qemu', name: vm.config.name }));
  },
  'POST /nodes/{node}/vzdump': ({ lab, path, params, user }) => {
    checkNode(path.node, lab);
    const jobId = str(params, 'job-id');
    const job = jobId ? (lab.backupJobs.get(jobId) ?? fail(`job '${jobId}' not found`)) : undefined;
    const merged: Params = { ...(job ? Object.fromEntries(Object.entries(job).map(([k, v]) => [k, String(v)])) : {}), ...params };
    const selection: { vmid?: string; all?: boolean; exclude?: string } = { all: bool(merged, 'all') };
    const vmidList = str(merged, 'vmid');
    const exclude = str(merged, 'exclude');
    if (vmidList !== undefined) selection.vmid = vmidList;
    if (exclude !== undefined) selection.exclude = exclude;
    const vmids = selectVms(lab, selection);
    if (vmids.length === 0) fail('No guest selected for backup (need vmid, all or pool)');
    const storageId = str(merged, 'storage') ?? 'local';
    lab.storage(storageId);
    // pve-manager PVE/API2/VZDump.pm: guests a job names that no longer exist are kept "and visibly fail later".
    const vms = vmids.flatMap((id) => lab.vms.get(id) ?? []);
    for (const vm of vms) lab.assertUnlocked(vm);
    for (const vm of vms) vm.config.lock = 'backup';
    const mode = str(merged, 'mode') ?? 'snapshot';
    const compress = str(merged, 'compress') ?? '0';
    const command = `vzdump ${vmids.join(' ')} --storage ${storageId} --mode ${mode} --compress ${compress} --node ${lab.node}`;
    return lab.tasks.start('vzdump', vmids.length === 1 ? String(vmids[0]) : '', user, {
      lines: [`INFO: starting new backup job: ${command}`],
      run: () => {
        const log: string[] = [];
        let failed = 0;
        const retention = str(merged, 'prune-backups') ?? (typeof lab.storage(storageId)['prune-backups'] === 'string' ? String(lab.storage(storageId)['prune-backups']) : undefined);
        // exec_backup walks the guests in ascending order; exec_backup_task logs each failure and "Failed at".
        for (const vmid of [...vmids].sort((a, b) => a - b)) {
          const vm = lab.vms.get(vmid);
          try {
            // Dies before "Starting Backup of VM": only the ERROR line names the guest (PVE/VZDump.pm exec_backup_task).
            if (!vm) throw new Error(`unable to find VM '${vmid}'`);
            backupOne(lab, vm, storageId, mode, compress, log);
            if (retention) prune(lab, storageId, vm.vmid, retention, log);
          } catch (error) {
            failed++;
            log.push(`ERROR: Backup of VM ${vmid} failed - ${error instanceof Error ? error.message : String(error)}`, `INFO: Failed at ${stamp(new Date())}`);
          } finally {
            if (vm?.config.lock === 'backup') delete vm.config.lock;
          }
        }
        if (failed) {
          log.push(`INFO: Backup job finished with errors`);
          throw Object.assign(new Error('job errors'), { log });
        }
        log.push('INFO: Backup job finished successfully');
        return log;
      },
      finally: () => {
        for (const vm of vms) if (vm.config.lock === 'backup') delete vm.config.lock;
      },
    });
  },
};
