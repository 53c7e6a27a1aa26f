// Guardrails on storage, backups and migrations: SSD-only phase 0, the ZFS mirror, snapshot and backup policy,
// and that every storage, dataset, VM and stack a job or migration names exists by its phase.
import { checkCalendarEvent, checkPruneBackups } from '../../lib/pve-formats.ts';
import type { SpecPath } from './diagnostic.ts';
import { phasesFrom, type GuardrailContext } from './guardrail-context.ts';
import type { BackupJobSpec, Retention, Spec } from './schema.ts';

/** Storages a fresh Proxmox install has, on the SSD. */
function ssdStorages(spec: Spec): Set<string> {
  return new Set(['local', 'local-lvm', spec.node.ssdStorage, spec.node.ssdBackupStorage]);
}

/** Phase from which a storage id exists (0 for the installer's), or undefined when it is never declared. */
function storagePhase(spec: Spec, id: string): number | undefined {
  if (ssdStorages(spec).has(id)) return 0;
  return spec.storage?.pve.find((s) => s.storage === id)?.phase;
}

const REQUIRED_DATASETS = ['tank/media', 'tank/appdata', 'tank/backups'];
const SNAPSHOTTED_DATASETS = ['tank/media', 'tank/appdata'];
const BY_ID = /^\/dev\/disk\/by-id\/[^/]+$/;

export function checkZfs(ctx: GuardrailContext): void {
  const { spec } = ctx;
  const zfs = spec.storage?.zfs;
  if (!zfs) return;
  zfs.pools.forEach((pool, pi) => {
    const path: SpecPath = ['storage', 'zfs', 'pools', pi];
    if (pool.phase === 0) ctx.report('phase0.ssd-only', [...path, 'phase'], `pool ${pool.name} in phase 0, but phase 0 runs on the single SSD (no HDDs yet)`, 'set phase: 1');
    if (pool.raidlevel !== 'mirror' || pool.devices.length !== 2) {
      ctx.report('storage.zfs-layout', [...path, 'raidlevel'], `pool ${pool.name} must be a mirror of the two HDDs (got ${pool.raidlevel} on ${pool.devices.length} device(s))`, 'set raidlevel: mirror with exactly two devices');
    }
    pool.devices.forEach((device, di) => {
      if (!BY_ID.test(device)) ctx.report('storage.zfs-layout', [...path, 'devices', di], `"${device}" is not a stable /dev/disk/by-id/ name (/dev/sdX can change between boots)`, 'use the disk\'s /dev/disk/by-id/ata-… path');
      if (pool.devices.indexOf(device) !== di) ctx.report('storage.zfs-layout', [...path, 'devices', di], `"${device}" is listed twice`, 'name two different disks');
    });
  });
  const pools = new Map(zfs.pools.map((p) => [p.name, p]));
  const datasets = new Map(zfs.datasets.map((d) => [d.name, d]));
  zfs.datasets.forEach((dataset, di) => {
    const pool = pools.get(dataset.name.split('/')[0]!);
    if (!pool) ctx.report('storage.references', ['storage', 'zfs', 'datasets', di, 'name'], `dataset ${dataset.name} is on an undeclared pool`, 'declare the pool under storage.zfs.pools');
    else if (dataset.phase < pool.phase) ctx.report('storage.references', ['storage', 'zfs', 'datasets', di, 'phase'], `dataset ${dataset.name} is phase ${dataset.phase} but pool ${pool.name} only exists from phase ${pool.phase}`, `set phase: ${pool.phase}`);
  });
  zfs.snapshots.forEach((snap, si) => {
    if (!datasets.has(snap.dataset)) ctx.report('storage.references', ['storage', 'zfs', 'snapshots', si, 'dataset'], `dataset ${snap.dataset} is not declared`, 'declare it under storage.zfs.datasets');
    const why = checkPruneBackups(snap.retention);
    if (why) ctx.report('backups.schedule', ['storage', 'zfs', 'snapshots', si, 'retention'], why, 'use keep-daily/keep-weekly/keep-monthly counts');
  });
  if (pools.has('tank')) {
    for (const name of REQUIRED_DATASETS) {
      if (!datasets.has(name)) ctx.report('storage.zfs-protection', ['storage', 'zfs', 'datasets'], `dataset ${name} is missing`, `add { name: ${name} }`);
    }
    for (const name of SNAPSHOTTED_DATASETS) {
      const policy = zfs.snapshots.find((s) => s.dataset === name);
      if (!policy || policy.frequency !== 'daily' || !hasRetention(policy.retention)) {
        ctx.report('storage.zfs-protection', ['storage', 'zfs', 'snapshots'], `${name} needs daily snapshots with a retention`, `add { dataset: ${name}, frequency: daily, retention: { keep-daily: 7 } }`);
      }
    }
  }
  spec.storage?.pve.forEach((s, si) => {
    const path: SpecPath = ['storage', 'pve', si];
    if (s.phase === 0 && (s.type === 'zfspool' || s.path?.startsWith('/tank'))) ctx.report('phase0.ssd-only', [...path, 'phase'], `storage ${s.storage} lives on the HDD pool, which does not exist in phase 0`, 'set phase: 1');
    if (s.type === 'zfspool' && !(s.pool && pools.has(s.pool.split('/')[0]!))) ctx.report('storage.references', [...path, 'pool'], `zfspool storage ${s.storage} names no declared pool`, 'set pool: to a declared pool or dataset');
    if (s.type === 'dir' && s.path?.startsWith('/tank/') && !datasets.has(s.path.slice(1))) ctx.report('storage.references', [...path, 'path'], `${s.path} is not a declared dataset`, `declare ${s.path.slice(1)} under storage.zfs.datasets`);
    if (s.type === 'pbs' && (!s.server || !s.datastore)) ctx.report('storage.references', path, `PBS storage ${s.storage} needs server and datastore`, 'set server: and datastore:');
    if (s['prune-backups']) {
      const why = checkPruneBackups(s['prune-backups']);
      if (why) ctx.report('backups.schedule', [...path, 'prune-backups'], why, 'use keep-daily/keep-weekly/keep-monthly counts');
    }
  });
  spec.vms.forEach((vm, vi) => {
    if (vm.phase !== 0) return;
    vm.disks.forEach((disk, di) => {
      if (!ssdStorages(spec).has(disk.storage)) ctx.report('phase0.ssd-only', ['vms', vi, 'disks', di, 'storage'], `${vm.name} is a phase-0 VM but its disk is on ${disk.storage}, not on the SSD`, `use storage: ${spec.node.ssdStorage}`);
    });
  });
}

function jobVmidsAt(job: BackupJobSpec, phase: number): number[] {
  let vmids = job.vmid ?? [];
  for (const key of ['phase1', 'phase2'] as const) {
    const o = job.overrides?.[key];
    if (o?.vmid && Number(key.slice(5)) <= phase) vmids = o.vmid;
  }
  return vmids;
}

const hasRetention = (r: Retention) => ['keep-last', 'keep-hourly', 'keep-daily', 'keep-weekly', 'keep-monthly', 'keep-yearly'].some((k) => (r[k as keyof Retention] ?? 0) > 0);

export function checkBackups(outer: GuardrailContext): void {
  const { spec } = outer;
  // A job is checked once per phase it exists in; report each rule at each place only once.
  const reported = new Set<string>();
  const ctx: GuardrailContext = {
    spec,
    report(ruleId, path, ...rest) {
      const key = `${ruleId} ${path.join('.')}`;
      if (reported.has(key)) return;
      reported.add(key);
      outer.report(ruleId, path, ...rest);
    },
  };
  spec.backups?.jobs.forEach((job, ji) => {
    const path: SpecPath = ['backups', 'jobs', ji];
    const why = checkCalendarEvent(job.schedule);
    if (why) ctx.report('backups.schedule', [...path, 'schedule'], `schedule "${job.schedule}": ${why}`, "use a Proxmox calendar event such as '02:30' or 'mon..fri 22:00'");
    const prune = checkPruneBackups(job['prune-backups']);
    if (prune) ctx.report('backups.schedule', [...path, 'prune-backups'], prune, 'use keep-daily/keep-weekly/keep-monthly counts');
    const r = job['prune-backups'];
    if (!(r['keep-daily'] && r['keep-weekly'] && r['keep-monthly'])) {
      ctx.report('backups.retention', [...path, 'prune-backups'], 'retention lacks a daily, weekly or monthly tier', 'use e.g. { keep-daily: 7, keep-weekly: 4, keep-monthly: 6 }');
    }
    if (!job.vmid?.length && !job.all) ctx.report('backups.references', path, `job ${job.id} selects no guests`, 'set vmid: [...] or all: true');
    for (const phase of phasesFrom(spec, job.phase)) {
      let storage = job.storage;
      let storagePath: SpecPath = [...path, 'storage'];
      let vmids = job.vmid ?? [];
      let vmidPath: SpecPath = [...path, 'vmid'];
      for (const key of ['phase1', 'phase2'] as const) {
        const o = job.overrides?.[key];
        if (!o || Number(key.slice(5)) > phase) continue;
        if (o.storage) [storage, storagePath] = [o.storage, [...path, 'overrides', key, 'storage']];
        if (o.vmid) [vmids, vmidPath] = [o.vmid, [...path, 'overrides', key, 'vmid']];
        if (o.schedule && checkCalendarEvent(o.schedule)) ctx.report('backups.schedule', [...path, 'overrides', key, 'schedule'], `schedule "${o.schedule}": ${checkCalendarEvent(o.schedule)}`, "use a calendar event such as '02:30'");
        if (o['prune-backups'] && checkPruneBackups(o['prune-backups'])) ctx.report('backups.schedule', [...path, 'overrides', key, 'prune-backups'], checkPruneBackups(o['prune-backups'])!, 'use keep-* counts');
      }
      const since = storagePhase(spec, storage);
      if (since === undefined || since > phase) {
        ctx.report('backups.references', storagePath, since === undefined ? `storage ${storage} is not declared` : `storage ${storage} only exists from phase ${since}, the job uses it in phase ${phase}`, 'declare it under storage.pve or use local');
      }
      vmids.forEach((vmid, i) => {
        const vm = spec.vms.find((v) => v.vmid === vmid);
        if (!vm || vm.phase > phase) ctx.report('backups.references', [...vmidPath, i], vm ? `VM ${vmid} only exists from phase ${vm.phase}, the job backs it up in phase ${phase}` : `VM ${vmid} is not declared`, 'list only VMs that exist in that phase (use overrides.phaseN.vmid)');
      });
      if (ssdStorages(spec).has(storage)) {
        ctx.report('backups.ssd-space', storagePath,
          phase === 0
            ? `phase-0 backups go to ${storage} on the same SSD as the VMs: they use its space (warning at ${spec.safetyGuards.backupSpaceWarningPercent}% used) and do not survive an SSD failure`
            : `in phase ${phase} backups still go to ${storage} on the SSD although HDD storage exists`,
          phase === 0 ? 'accept it for phase 0 and move the job to tank-backups in overrides.phase1.storage' : 'set overrides.phase1.storage to the tank/backups storage');
      }
    }
  });
  const pbs = spec.backups?.pbs;
  if (pbs?.enabled && !(pbs.storage && spec.storage?.pve.some((s) => s.storage === pbs.storage && s.type === 'pbs'))) {
    ctx.report('backups.references', ['backups', 'pbs'], 'PBS is enabled but names no declared storage of type pbs', 'declare it under storage.pve (type: pbs) and set storage:, keeping the vzdump job as the fallback');
  }
}

/** Every VM should be in an enabled backup job in each phase it exists. */
export function checkBackupCoverage(ctx: GuardrailContext): void {
  const { spec } = ctx;
  if (spec.metadata.scope !== 'full') return;
  spec.vms.forEach((vm, vi) => {
    const covered = (phase: number) =>
      (spec.backups?.jobs ?? []).some((job) => job.enabled && job.phase <= phase && (job.all || jobVmidsAt(job, phase).includes(vm.vmid)));
    const uncovered = phasesFrom(spec, vm.phase).find((phase) => !covered(phase));
    if (uncovered !== undefined) {
      ctx.report('backups.coverage', ['vms', vi, 'vmid'], `${vm.name} (VM ${vm.vmid}) is in no enabled backup job in phase ${uncovered}`, `add ${vm.vmid} to a job's vmid (overrides.phase${Math.max(uncovered, 1)}.vmid for a later phase)`);
    }
  });
}

export function checkMigrations(ctx: GuardrailContext): void {
  const { spec } = ctx;
  const datasets = spec.storage?.zfs?.datasets ?? [];
  spec.migrations.forEach((m, mi) => {
    const path: SpecPath = ['migrations', mi];
    if (m.kind === 'backup-target') {
      for (const [field, id] of [['from', m.from], ['to', m.to]] as const) {
        const since = storagePhase(spec, id);
        if (since === undefined || since > m.phase) ctx.report('migrations.references', [...path, field], `storage ${id} does not exist in phase ${m.phase}`, 'name a declared storage');
      }
      return;
    }
    const target = datasets.find((d) => d.name === m.to);
    if (!target || target.phase > m.phase) ctx.report('migrations.references', [...path, 'to'], `dataset ${m.to} does not exist in phase ${m.phase}`, 'declare it under storage.zfs.datasets');
    const vm = spec.vms.find((v) => v.vmid === m.vmid);
    if (!vm) {
      ctx.report('migrations.references', m.vmid === undefined ? path : [...path, 'vmid'], `migration ${m.id} names no declared VM`, 'set vmid: to the VM that holds the data');
      return;
    }
    const stacks = vm.provision?.docker?.stacks.map((s) => s.name) ?? [];
    m.stacks.forEach((stack, si) => {
      if (!stacks.includes(stack)) ctx.report('migrations.references', [...path, 'stacks', si], `stack ${stack} is not a stack of ${vm.name}`, `use one of ${stacks.join(', ') || '(none declared)'}`);
    });
    if (!m.mountpoint) ctx.report('migrations.references', path, `migration ${m.id} has no mountpoint`, 'set mountpoint: where the dataset appears in the guest');
  });
}

export function checkSafetyToggles(ctx: GuardrailContext): void {
  if (!ctx.spec.safetyGuards.snapshotBeforeRisk) {
    ctx.report('safety.snapshot-before-risk', ['safetyGuards', 'snapshotBeforeRisk'], 'risky VM changes will run without a snapshot to roll back to', 'set snapshotBeforeRisk: true');
  }
  if (ctx.spec.safetyGuards.allowHostNetworkChanges) {
    ctx.report('safety.host-network-enabled', ['safetyGuards', 'allowHostNetworkChanges'], 'host networking changes are allowed, including in phase 0', 'set it back to false once the change is done');
  }
}
