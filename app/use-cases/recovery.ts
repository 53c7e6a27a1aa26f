// Recovering one VM through the services port: `/jarvis snapshots`, `rollback <vmid> <snapshot>` and an alert's
// "Plan a retry" (back the VM up now with its job's settings). Both plans are approved and applied like any plan.
import { isAbsolute, join } from 'node:path';
import { qualifiedId, type PlanResult, type Requester, type ServiceRefusal, type SnapshotList } from '../../commands/services.ts';
import { halfMade, snapshotStates } from '../../deploy/snapshots.ts';
import { JarvisError, UnreachableError } from '../../lib/errors.ts';
import { jobCovers } from '../../monitor/backup-jobs.ts';
import { loadSpec } from '../../planner/spec/load.ts';
import type { PveValue } from '../../infra/proxmox/api.ts';
import { isDataDisk, parseDisk, sizeToGiB } from '../../planner/pve-values.ts';
import { buildBackupRunPlan, buildRollbackPlan, type BackupSpace, type SpecialPlanBase } from '../../planner/special-plans.ts';
import { defaultSpecFor, newPlanId, specPlace } from '../planning.ts';
import { refusal, type UseCaseContext } from './context.ts';
import { saveSpecialPlan } from './plans.ts';

/** vzdump's `prune-backups` as a property string (the job API may hand it back as an object). */
function pruneString(value: unknown): string | undefined {
  if (typeof value === 'string' && value) return value;
  if (value && typeof value === 'object') {
    const parts = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`);
    return parts.length ? parts.join(',') : undefined;
  }
  return undefined;
}

/**
 * What a special plan stands on: the spec the lab is managed by (the drift watch's phase, phase0 when off), so
 * apply can load it for its stale check, and the VM's current config digest and run state.
 */
async function specialBase(
  ctx: UseCaseContext,
  vmid: number,
  requester: Requester,
): Promise<{ base: SpecialPlanBase; digest: string; running: boolean; name?: string; inSpec: boolean; config: Record<string, PveValue> }> {
  const { config, cwd, lab } = ctx;
  const phase = config.drift.phase === 'off' ? 'phase0' : config.drift.phase;
  const place = specPlace(config, lab);
  const specPath = config.drift.spec ?? defaultSpecFor(phase, place.specsDir);
  const loaded = await loadSpec(isAbsolute(specPath) ? specPath : join(cwd, specPath), { cwd, ...(place.site ? { site: place.site } : {}) });
  const [{ config: vmConfig, digest }, status] = await Promise.all([lab.ports.pve.vmConfig(vmid), lab.ports.pve.vmStatus(vmid)]);
  const now = new Date();
  const name = typeof vmConfig.name === 'string' ? vmConfig.name : undefined;
  return {
    base: { selfVmid: config.selfVmid, node: lab.ports.pve.node, spec: { path: specPath, sha256: loaded.source.sha256 }, phase, requestedBy: qualifiedId(requester), now: now.toISOString(), id: newPlanId(now) },
    digest,
    running: status.status === 'running',
    ...(name ? { name } : {}),
    inSpec: loaded.spec.vms.some((vm) => vm.vmid === vmid),
    config: vmConfig,
  };
}

/**
 * Room for a backup of the VM on `storage`: its newest archive there, else its data disks (uncompressed, an upper
 * bound), against the storage's free space. Undefined when the storage's usage cannot be read.
 */
async function backupSpace(ctx: UseCaseContext, vmid: number, storage: string, config: Record<string, PveValue>): Promise<BackupSpace | undefined> {
  const [statuses, archives] = await Promise.all([
    ctx.lab.ports.pve.nodeStorageStatus(),
    ctx.lab.ports.pve.storageContent(storage, { content: 'backup', vmid }).catch(() => []),
  ]);
  const status = statuses.find((s) => s.storage === storage);
  const avail = status?.avail ?? (status?.total !== undefined && status.used !== undefined ? status.total - status.used : undefined);
  if (avail === undefined) return undefined;
  const newest = archives.flatMap((a) => (a.size === undefined ? [] : [{ ...a, size: a.size }])).sort((a, b) => (b.ctime ?? 0) - (a.ctime ?? 0))[0];
  const disks = Object.entries(config)
    .filter(([key, value]) => typeof value === 'string' && isDataDisk(key, value))
    .reduce((sum, [, value]) => sum + (sizeToGiB(parseDisk(String(value)).size) ?? 0) * 1024 ** 3, 0);
  return {
    availBytes: avail,
    ...(status?.total !== undefined ? { totalBytes: status.total } : {}),
    ...(newest ? { estimateBytes: newest.size, basis: 'last-backup' as const } : { estimateBytes: disks, basis: 'disk-size' as const }),
  };
}

/** Apply re-reads only the VMs the managed spec names (its stale check); others cannot be planned for safely. */
const unmanaged = (vmid: number, specPath: string, byHand: string): ServiceRefusal => ({
  ok: false,
  code: 'refused',
  message: `VM ${vmid} is not in ${specPath}, so Jarvis cannot check it has not changed before applying; ${byHand}`,
});

/**
 * The VM as /cluster/resources lists it, or the refusal "no VM <vmid>": asked about a VM that does not exist, Proxmox
 * answers 500 ("Configuration file … does not exist") or nothing useful, so Jarvis looks first.
 */
async function findVm(ctx: UseCaseContext, vmid: number): Promise<{ name?: string } | ServiceRefusal> {
  const vm = (await ctx.lab.ports.pve.clusterResources('vm')).find((r) => r.vmid === vmid);
  if (!vm) return { ok: false, code: 'not-found', message: `no VM ${vmid} on ${ctx.lab.ports.pve.node}`, next: '/jarvis status' };
  return vm.name ? { name: vm.name } : {};
}

const refused = (value: object): value is ServiceRefusal => 'ok' in value && value.ok === false;

/** `/jarvis snapshots <vmid>`: the VM's snapshots, newest state (`current`) left out. */
export async function listSnapshots(ctx: UseCaseContext, vmid: number): Promise<SnapshotList | ServiceRefusal> {
  try {
    const vm = await findVm(ctx, vmid);
    if (refused(vm)) return vm;
    const snapshots = await ctx.lab.ports.pve.listSnapshots(vmid);
    const name = vm.name;
    return {
      vmid,
      ...(name ? { name } : {}),
      snapshots: snapshots
        .filter((s) => s.name !== 'current')
        .map((s) => ({
          name: s.name,
          ...(s.snaptime ? { createdAt: new Date(s.snaptime * 1000).toISOString() } : {}),
          ...(s.description ? { description: s.description } : {}),
          ...(s.snapstate ? { incomplete: s.snapstate } : {}),
        })),
    };
  } catch (error) {
    if (error instanceof JarvisError) return refusal(error);
    return { ok: false, code: 'not-found', message: `VM ${vmid}: ${(error as Error).message}` };
  }
}

/** `/jarvis rollback <vmid> <snapshot>`: a plan that rolls the VM back (snapshotting its current state first). */
export async function planRollback(ctx: UseCaseContext, vmid: number, snapshot: string, requester: Requester): Promise<PlanResult> {
  if (vmid === ctx.config.selfVmid && requester.platform !== 'cli') return selfRollbackRefusal(vmid, snapshot);
  try {
    const vm = await findVm(ctx, vmid);
    if (refused(vm)) return vm;
    let states: ReturnType<typeof snapshotStates>;
    try {
      states = snapshotStates(await ctx.lab.ports.pve.listSnapshots(vmid));
    } catch (error) {
      if (error instanceof UnreachableError) throw error;
      return { ok: false, code: 'not-found', message: `VM ${vmid}: ${(error as Error).message}` };
    }
    // Proxmox refuses to roll back to a half-made snapshot (pve-guest-common AbstractConfig.pm snapshot_rollback).
    const unfinished = states.halfMade.find((s) => s.name === snapshot);
    if (unfinished) return { ok: false, code: 'refused', message: halfMade(vmid, snapshot, unfinished.snapstate!) };
    const names = states.complete.map((s) => s.name);
    if (!names.includes(snapshot)) {
      return {
        ok: false,
        code: 'not-found',
        message: `VM ${vmid} has no snapshot "${snapshot}"; ${names.length ? `its snapshots: ${names.join(', ')}` : 'it has no snapshots'}`,
      };
    }
    const facts = await specialBase(ctx, vmid, requester);
    if (!facts.inSpec) return unmanaged(vmid, facts.base.spec.path, `roll it back by hand: qm rollback ${vmid} ${snapshot}`);
    const plan = buildRollbackPlan({ ...facts.base, vmid, ...(facts.name ? { vmName: facts.name } : {}), snapshot, liveDigest: facts.digest, running: facts.running });
    return await saveSpecialPlan(ctx, plan, 'rollback');
  } catch (error) {
    return refusal(error);
  }
}

/**
 * Jarvis's own VM is never rolled back from chat: the snapshot holds an older copy of Jarvis's data directory, so the
 * rollback would rewind the journal, the approvals (this one included) and the audit trail, and cut the apply off.
 */
function selfRollbackRefusal(vmid: number, snapshot: string): ServiceRefusal {
  return {
    ok: false,
    code: 'refused',
    message:
      `VM ${vmid} is the VM Jarvis runs in (JARVIS_SELF_VMID): rolling it back would rewind Jarvis's own journal, approvals and audit trail ` +
      `to the snapshot and stop this apply half-way, so chat never does it. From the CLI on another machine: jarvis rollback ${vmid} ${snapshot}, then jarvis apply <plan id> --yes`,
    next: `/jarvis snapshots ${vmid}`,
  };
}

/** `/jarvis retry <vmid>`: a plan that backs the VM up now, as its backup job would. */
export async function planBackupRetry(ctx: UseCaseContext, vmid: number, requester: Requester): Promise<PlanResult> {
  try {
    const vm = await findVm(ctx, vmid);
    if (refused(vm)) return vm;
    const jobs = await ctx.lab.ports.pve.listBackupJobs();
    const job = jobs.find((candidate) => jobCovers(candidate, vmid));
    if (!job) return { ok: false, code: 'not-found', message: `VM ${vmid} is in no enabled backup job, so there is nothing to retry; add it to one in the spec` };
    const facts = await specialBase(ctx, vmid, requester);
    if (!facts.inSpec) return unmanaged(vmid, facts.base.spec.path, `back it up by hand: vzdump ${vmid} --storage ${job.storage ?? 'local'}`);
    const mode = job.mode === 'stop' || job.mode === 'suspend' ? job.mode : 'snapshot';
    const compress = typeof job.compress === 'string' && ['0', '1', 'gzip', 'lzo', 'zstd'].includes(job.compress) ? (job.compress as '0' | '1' | 'gzip' | 'lzo' | 'zstd') : undefined;
    const prune = pruneString(job['prune-backups']);
    // PVE's own default when a job names no storage.
    const storage = job.storage ?? 'local';
    const space = await backupSpace(ctx, vmid, storage, facts.config);
    const plan = buildBackupRunPlan({
      ...facts.base,
      vmid,
      ...(facts.name ? { vmName: facts.name } : {}),
      liveDigest: facts.digest,
      running: facts.running,
      storage,
      ...(space ? { space } : {}),
      mode,
      ...(compress ? { compress } : {}),
      ...(prune ? { pruneBackups: prune } : {}),
      jobId: job.id,
    });
    return await saveSpecialPlan(ctx, plan, 'backup-retry');
  } catch (error) {
    return refusal(error);
  }
}
