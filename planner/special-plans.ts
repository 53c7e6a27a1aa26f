// Plans that do not come from a spec diff: a VM rollback to a snapshot (`/jarvis rollback`) and a backup retry (an
// alert's "Plan a retry"). Pure, like buildPlan: the caller reads the lab and passes the facts, the clock and the id.
// The result is an ordinary Plan, approved, stale-checked, replayed and journaled like any other.
import { sealPlan, summarize } from './artifact.ts';
import { formatDowntime, rate } from './catalogue.ts';
import { hashOf } from './hash.ts';
import { DEFAULT_SELF_VMID, selfVmWarnings } from './self-vm.ts';
import { PLAN_FORMAT_VERSION, type Plan, type PlanAction, type PlanPhase, type PlanViolation, type PlanWarning } from './plan.ts';

/** What every special plan needs to be a plan: where, made from which managed spec, by whom, when. */
export interface SpecialPlanBase {
  /** The VM Jarvis runs in: a rollback of it is marked (Jarvis goes offline). */
  selfVmid?: number;
  node: string;
  /** The phase spec the lab is managed by: apply loads it by path and refuses the plan if its sha256 changed. */
  spec: { path: string; sha256: string };
  phase: PlanPhase;
  requestedBy: string;
  /** ISO time of creation. */
  now: string;
  id: string;
}

export interface RollbackPlanInput extends SpecialPlanBase {
  vmid: number;
  vmName?: string;
  snapshot: string;
  /** The VM's config digest as read now (GET …/config): apply refuses the plan if the VM changes meanwhile. */
  liveDigest: string;
  running: boolean;
}

export interface BackupRunPlanInput extends SpecialPlanBase {
  vmid: number;
  vmName?: string;
  liveDigest: string;
  running: boolean;
  /** From the backup job that covers the VM; `storage` is required, the rest fall back to vzdump's defaults. */
  storage: string;
  mode?: 'snapshot' | 'suspend' | 'stop';
  compress?: '0' | '1' | 'gzip' | 'lzo' | 'zstd';
  /** The job's retention, e.g. `keep-daily=7,keep-weekly=4` (vzdump accepts it per run). */
  pruneBackups?: string;
  /** The backup job the retry stands in for, for the plan text. */
  jobId?: string;
  /** What the target storage can hold, when it could be read: the plan warns or refuses on it. */
  space?: BackupSpace;
}

/** Room for one backup on its target storage, as read just before planning. */
export interface BackupSpace {
  /** Free bytes on the target storage. */
  availBytes: number;
  totalBytes?: number;
  /** Bytes the backup is expected to take. */
  estimateBytes: number;
  /** `last-backup`: the VM's newest archive there (a good estimate); `disk-size`: its disks, uncompressed (an upper bound). */
  basis: 'last-backup' | 'disk-size';
}

const gib = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

/**
 * A backup that cannot fit is refused: vzdump would fail with "No space left on device" after minutes of work. One
 * estimated from uncompressed disk sizes that may not fit, or that leaves the storage nearly full, is a warning.
 */
function spaceFindings(input: BackupRunPlanInput, actionId: string): { warnings: PlanWarning[]; violations: PlanViolation[] } {
  const space = input.space;
  if (!space) return { warnings: [{ code: 'backup-space-unknown', message: `the free space on ${input.storage} could not be read: the backup may not fit`, actionId }], violations: [] };
  const what = space.basis === 'last-backup' ? `the last backup of VM ${input.vmid} there was ${gib(space.estimateBytes)}` : `the disks of VM ${input.vmid} hold up to ${gib(space.estimateBytes)} before compression`;
  const room = `${input.storage} has ${gib(space.availBytes)} free`;
  if (space.estimateBytes > space.availBytes && space.basis === 'last-backup') {
    return {
      warnings: [],
      violations: [
        {
          ruleId: 'backup.storage-full',
          message: `${room} and ${what}: the backup cannot fit. Free space on ${input.storage} (older archives, other content) or move the job to a storage with room in the spec, then Plan a fix`,
          actionId,
        },
      ],
    };
  }
  if (space.estimateBytes > space.availBytes) return { warnings: [{ code: 'backup-space', message: `${room} and ${what}: the backup may not fit once compressed`, actionId }], violations: [] };
  const after = space.totalBytes ? (space.totalBytes - space.availBytes + space.estimateBytes) / space.totalBytes : undefined;
  if (after !== undefined && after >= 0.95) {
    return { warnings: [{ code: 'backup-space', message: `${room} and ${what}: the storage will be ${Math.round(after * 100)}% full afterwards`, actionId }], violations: [] };
  }
  return { warnings: [], violations: [] };
}

/**
 * The fingerprint of `vm/<vmid>` exactly as planner/fingerprint.ts writes it (config digest and run state), so apply's
 * stale check compares like with like.
 */
export const vmFingerprint = (digest: string, running: boolean): string => `digest=${digest};status=${running ? 'running' : 'stopped'}`;

const vmLabel = (vmid: number, name: string | undefined): string => `vm/${vmid}${name ? ` (${name})` : ''}`;

function assemble(base: SpecialPlanBase, fingerprint: Record<string, string>, action: PlanAction, findings: { warnings: PlanWarning[]; violations: PlanViolation[] } = { warnings: [], violations: [] }): Plan {
  const actions = [action];
  const warnings = [...findings.warnings, ...selfVmWarnings(actions, base.selfVmid ?? DEFAULT_SELF_VMID)];
  return sealPlan({
    formatVersion: PLAN_FORMAT_VERSION,
    id: base.id,
    createdAt: base.now,
    requestedBy: base.requestedBy,
    phase: base.phase,
    node: base.node,
    spec: base.spec,
    stateFingerprint: fingerprint,
    summary: summarize(actions, fingerprint),
    unknowns: [],
    warnings,
    violations: findings.violations,
    actions,
  });
}

/** Rolls `vmid` back to `snapshot`, after a snapshot of the current state (`jarvis-pre-<hash8>`) that undoes it. */
export function buildRollbackPlan(input: RollbackPlanInput): Plan {
  const fingerprint = { [`vm/${input.vmid}`]: vmFingerprint(input.liveDigest, input.running) };
  // Named from what the plan stands on (VM state + target), like buildPlan's pre-snapshots: stable across re-plans.
  const preSnapshot = `jarvis-pre-${hashOf({ kind: 'rollback', vmid: input.vmid, snapshot: input.snapshot, fingerprint }).slice(0, 8)}`;
  const facts = { vmid: input.vmid, ...(input.vmName ? { vmName: input.vmName } : {}), running: input.running, existing: true };
  const rating = rate('vm.rollback', facts, preSnapshot);
  const action: PlanAction = {
    id: `vm.rollback:${input.vmid}`,
    type: 'vm.rollback',
    kind: 'update',
    channel: 'pve',
    target: vmLabel(input.vmid, input.vmName),
    targetKey: `vm/${input.vmid}`,
    risk: rating.risk,
    preSnapshot: { vmid: input.vmid, name: preSnapshot },
    rollbackHint: rating.rollbackHint,
    expectedDowntime: formatDowntime(rating.downtimeSeconds, rating.downtimeWhy),
    expectedDowntimeSeconds: rating.downtimeSeconds,
    dependsOn: [],
    changes: [{ path: 'snapshot', from: 'current', to: input.snapshot }],
    params: {
      channel: 'pve',
      requests: [
        {
          method: 'POST',
          path: `/nodes/${input.node}/qemu/${input.vmid}/snapshot/${encodeURIComponent(input.snapshot)}/rollback`,
          // A running VM is started again from the snapshot; a stopped one stays stopped.
          params: input.running ? { start: 1 } : {},
          async: true,
        },
      ],
    },
    commitConfirm: false,
    note: `roll back to snapshot ${input.snapshot}; the current state is kept as ${preSnapshot}`,
  };
  return assemble(input, fingerprint, action);
}

/** One vzdump run of `vmid` with its job's storage and settings: the retry of a failed or missing backup. */
export function buildBackupRunPlan(input: BackupRunPlanInput): Plan {
  const fingerprint = { [`vm/${input.vmid}`]: vmFingerprint(input.liveDigest, input.running) };
  const facts = { vmid: input.vmid, ...(input.vmName ? { vmName: input.vmName } : {}), running: input.running, existing: true };
  const rating = rate('backup.run', facts);
  // Stop and suspend modes interrupt a running VM for the length of the copy; snapshot mode does not.
  const interrupts = input.running && (input.mode === 'stop' || input.mode === 'suspend');
  const downtimeSeconds = interrupts ? 300 : rating.downtimeSeconds;
  const params: Record<string, string | number> = { vmid: String(input.vmid), storage: input.storage, mode: input.mode ?? 'snapshot' };
  if (input.compress) params.compress = input.compress;
  if (input.pruneBackups) params['prune-backups'] = input.pruneBackups;
  const action: PlanAction = {
    id: `backup.run:${input.vmid}`,
    type: 'backup.run',
    kind: 'create',
    channel: 'pve',
    target: vmLabel(input.vmid, input.vmName),
    targetKey: `vm/${input.vmid}`,
    risk: rating.risk,
    preSnapshot: false,
    rollbackHint: rating.rollbackHint,
    expectedDowntime: interrupts ? formatDowntime(downtimeSeconds, `${input.mode}-mode backup`) : formatDowntime(rating.downtimeSeconds, rating.downtimeWhy),
    expectedDowntimeSeconds: downtimeSeconds,
    dependsOn: [],
    changes: [{ path: 'backup', from: null, to: `${input.storage} (${input.mode ?? 'snapshot'})` }],
    params: { channel: 'pve', requests: [{ method: 'POST', path: `/nodes/${input.node}/vzdump`, params, async: true }] },
    commitConfirm: false,
    note: `back up VM ${input.vmid} now${input.jobId ? ` as job ${input.jobId} would` : ''}, to ${input.storage}`,
  };
  return assemble(input, fingerprint, action, spaceFindings(input, action.id));
}

/** True for plans made here: apply validates them by probing their VM instead of re-planning the spec. */
export const isSpecialPlan = (plan: Pick<Plan, 'actions'>): boolean =>
  plan.actions.length > 0 && plan.actions.every((action) => action.type === 'vm.rollback' || action.type === 'backup.run');
