// The action catalogue: one place that says, for every action type, how risky it is, whether a VM snapshot is taken
// first, how to undo it and how long things are down, from Proxmox facts (hot-pluggable vs reboot; storage snapshot
// capability; guest agent present). Anything that can destroy data is critical.
import type { ActionType, Risk } from './plan.ts';
import { RISK_ORDER } from './plan.ts';
import type { RatingFacts } from './diff/types.ts';

export interface Rating {
  risk: Risk;
  /** Take a VM snapshot first (only possible when the VM exists and its storage can snapshot). */
  snapshotFirst: boolean;
  downtimeSeconds: number;
  downtimeWhy: string;
  rollbackHint: string;
  commitConfirm: boolean;
}

interface Entry {
  risk: (f: RatingFacts) => Risk;
  snapshotFirst?: (f: RatingFacts) => boolean;
  downtime: (f: RatingFacts) => [seconds: number, why: string];
  rollback: (f: RatingFacts) => string;
  commitConfirm?: boolean;
}

const REBOOT_SECONDS = 30;
const none = (): [number, string] => [0, ''];
const vm = (f: RatingFacts) => `VM ${f.vmid ?? '?'}${f.vmName ? ` (${f.vmName})` : ''}`;
const undo = (f: RatingFacts, fallback: string) => f.undo ?? fallback;
/** ~100 MiB/s copy on the HDD mirror, plus stopping and starting the stacks. */
const copySeconds = (gib: number | undefined) => Math.round((gib ?? 1) * 10.24) + 60;

const firewallRisk = (f: RatingFacts): Risk => (f.firewallLevel === 'vm' ? 'medium' : 'high');

const CATALOGUE: Record<ActionType, Entry> = {
  'vm.create': {
    risk: () => 'low',
    downtime: none,
    rollback: (f) => `destroy ${vm(f)} (it holds no data yet): qm destroy ${f.vmid} --purge`,
  },
  'vm.update': {
    risk: (f) => (f.rebootNeeded ? 'medium' : 'low'),
    snapshotFirst: (f) => Boolean(f.rebootNeeded),
    downtime: none,
    rollback: (f) => `set ${undo(f, 'the field back')} on ${vm(f)}${f.rebootNeeded ? ' and reboot' : ''}`,
  },
  'vm.tags': { risk: () => 'low', downtime: none, rollback: (f) => `set the tags of ${vm(f)} back to ${undo(f, 'the previous list')}` },
  'vm.start': { risk: () => 'low', downtime: none, rollback: (f) => `shut ${vm(f)} down` },
  'vm.reboot': {
    risk: () => 'medium',
    downtime: () => [REBOOT_SECONDS, 'reboot'],
    rollback: (f) => `nothing to undo (a restart); revert the config changes it applies on ${vm(f)} if needed`,
  },
  'vm.nic.reattach': {
    risk: () => 'high',
    snapshotFirst: () => true,
    downtime: () => [60, 'network moves to the new bridge; the guest re-addresses'],
    rollback: (f) => `move the NIC of ${vm(f)} back: ${undo(f, 'the previous bridge')}`,
  },
  'vm.disk.add': {
    risk: (f) => (f.rebootNeeded ? 'medium' : 'low'),
    downtime: none,
    rollback: (f) => `detach and delete the new, empty disk ${undo(f, '')} of ${vm(f)}`,
  },
  'vm.disk.resize': {
    risk: () => 'medium',
    snapshotFirst: () => true,
    downtime: none,
    rollback: (f) => `a disk cannot shrink: roll ${vm(f)} back to its pre-snapshot if the guest misbehaves`,
  },
  'vm.snapshot': { risk: () => 'low', downtime: none, rollback: (f) => `delete the snapshot of ${vm(f)}` },
  'vm.rollback': {
    risk: () => 'high',
    // The current state is snapshotted first, so the rollback itself can be undone.
    snapshotFirst: () => true,
    downtime: (f) => (f.running === false ? [0, ''] : [60, 'the VM restarts from the snapshot']),
    rollback: (f) => `changes made to ${vm(f)} after the snapshot are lost unless its pre-snapshot was taken`,
  },
  'network.bridge.create': {
    risk: () => 'medium',
    downtime: none,
    rollback: (f) => `remove the staged bridge before the network is applied: ${undo(f, 'DELETE /nodes/{node}/network/<iface>')}`,
  },
  'network.apply': {
    risk: () => 'high',
    downtime: () => [5, 'ifreload of the host network'],
    rollback: () => 'automatic: the new bridges are removed and the network re-applied unless management stays reachable within the confirm window',
    commitConfirm: true,
  },
  'zfs.pool.create': {
    risk: () => 'critical',
    downtime: none,
    rollback: () => 'zpool destroy the new pool (everything that was on its disks before is already erased by the create)',
  },
  'zfs.dataset.create': { risk: () => 'low', downtime: none, rollback: (f) => `zfs destroy ${undo(f, 'the new dataset')} while it is still empty` },
  'zfs.snapshot.policy': { risk: () => 'low', downtime: none, rollback: (f) => `remove the sanoid policy for ${undo(f, 'the dataset')}` },
  'storage.add': { risk: () => 'low', downtime: none, rollback: (f) => `pvesm remove ${undo(f, 'the storage')} (data on disk stays)` },
  'storage.update': { risk: () => 'medium', downtime: none, rollback: (f) => `set the storage back: ${undo(f, 'previous values')}` },
  'mapping.dir.create': { risk: () => 'low', downtime: none, rollback: (f) => `delete the directory mapping ${undo(f, '')}` },
  'vm.virtiofs.attach': {
    risk: (f) => (f.rebootNeeded ? 'medium' : 'low'),
    snapshotFirst: (f) => Boolean(f.rebootNeeded),
    downtime: none,
    rollback: (f) => `remove ${undo(f, 'the virtiofs device')} from ${vm(f)}${f.rebootNeeded ? ' and reboot' : ''}`,
  },
  'migration.data': {
    risk: () => 'high',
    snapshotFirst: () => true,
    downtime: (f) => [copySeconds(f.sizeGiB), 'stacks stopped while the data is copied'],
    rollback: (f) => `the source stays in place until the copy is verified: unmount the dataset and restart the stacks on ${undo(f, 'the old path')}`,
  },
  'backup.job.create': { risk: () => 'low', downtime: none, rollback: (f) => `delete backup job ${undo(f, '')}` },
  'backup.job.update': { risk: () => 'low', downtime: none, rollback: (f) => `set the backup job back: ${undo(f, 'previous values')}` },
  'backup.run': {
    risk: () => 'low',
    // Snapshot mode backs a running VM up without stopping it (buildBackupRunPlan rates stop/suspend modes itself).
    downtime: none,
    rollback: (f) => `nothing to undo: a new backup archive of ${vm(f)}; delete it from its storage if unwanted`,
  },
  'firewall.options': {
    risk: firewallRisk,
    downtime: none,
    rollback: () => 'automatic: the previous options are restored unless management stays reachable within the confirm window',
    commitConfirm: true,
  },
  'firewall.rule.create': {
    risk: firewallRisk,
    downtime: none,
    rollback: () => 'automatic: the rule is deleted again unless management stays reachable within the confirm window',
    commitConfirm: true,
  },
  'firewall.rule.update': {
    risk: firewallRisk,
    downtime: none,
    rollback: () => 'automatic: the previous rule is restored unless management stays reachable within the confirm window',
    commitConfirm: true,
  },
  'firewall.rule.delete': {
    risk: firewallRisk,
    downtime: none,
    rollback: () => 'automatic: the rule is re-created at its position unless management stays reachable within the confirm window',
    commitConfirm: true,
  },
  'firewall.group.create': { risk: () => 'low', downtime: none, rollback: (f) => `delete the security group ${undo(f, '')}`, commitConfirm: true },
  'firewall.ipset.create': { risk: () => 'low', downtime: none, rollback: (f) => `delete the IP set ${undo(f, '')}`, commitConfirm: true },
  'firewall.ipset.entry': {
    risk: () => 'medium',
    downtime: none,
    rollback: () => 'automatic: the entries are restored unless management stays reachable within the confirm window',
    commitConfirm: true,
  },
  'firewall.alias.create': { risk: () => 'low', downtime: none, rollback: (f) => `delete the alias ${undo(f, '')}`, commitConfirm: true },
  'firewall.alias.update': {
    risk: () => 'medium',
    downtime: none,
    rollback: () => 'automatic: the previous CIDR is restored unless management stays reachable within the confirm window',
    commitConfirm: true,
  },
  'guest.tailscale.install': { risk: () => 'low', downtime: none, rollback: (f) => `apt-get remove tailscale in ${vm(f)}` },
  'guest.tailscale.join': { risk: () => 'medium', downtime: none, rollback: (f) => `tailscale logout in ${vm(f)} and remove the device from the tailnet` },
  'guest.tailscale.routes': { risk: () => 'medium', downtime: none, rollback: (f) => `tailscale set --advertise-routes=${undo(f, '')} in ${vm(f)} (the previous list)` },
  'tailnet.routes.approve': { risk: () => 'medium', downtime: none, rollback: (f) => `set the device's approved routes back to ${undo(f, '(none)')} in the tailnet` },
  'guest.docker.install': { risk: () => 'low', downtime: none, rollback: (f) => `apt-get remove docker-ce docker-compose-plugin in ${vm(f)}` },
  'guest.naas.layout': { risk: () => 'low', downtime: none, rollback: (f) => `remove the empty /opt/naas tree in ${vm(f)}` },
  'guest.stack.scaffold': { risk: () => 'low', downtime: none, rollback: (f) => `remove the scaffolded stack ${undo(f, '')} in ${vm(f)}` },
  'guest.network.routes': {
    risk: () => 'medium',
    downtime: none,
    rollback: (f) => `remove /etc/netplan/60-jarvis-routes.yaml in ${vm(f)} and ip route del ${undo(f, 'each route')}`,
  },
  'guest.packages.install': { risk: () => 'low', downtime: none, rollback: (f) => `apt-get remove ${undo(f, 'the packages')} in ${vm(f)}` },
  'vm.haos.import': {
    risk: () => 'medium',
    downtime: none,
    rollback: (f) => `detach and delete the imported disk of ${vm(f)} (a fresh VM: nothing else is lost)`,
  },
  // Adding a content type to a storage only lets PVE keep more kinds of files there; nothing existing changes.
  'storage.content': { risk: () => 'low', downtime: none, rollback: (f) => `set the content types back: ${undo(f, 'the previous list')}` },
  'image.download': {
    risk: () => 'low',
    downtime: none,
    rollback: (f) => `delete the downloaded image when no VM is being created from it: ${undo(f, 'pvesm free <volume>')} (VMs made from it keep their own copy)`,
  },
  'vm.cloudinit.vendor': {
    risk: () => 'low',
    downtime: none,
    rollback: (f) => `${undo(f, 'remove the snippet')} once ${vm(f)} is destroyed (PVE reads it whenever it regenerates the cloud-init drive)`,
  },
  'host.apt.sources': {
    risk: () => 'medium',
    downtime: none,
    rollback: (f) => `restore the original apt sources: ${undo(f, 'copy back the files kept in /var/lib/jarvis/apt-sources.orig')}, then apt-get update`,
  },
  // Jarvis changes nothing: the owner acts, and Jarvis only watches for the result.
  'manual.step': { risk: () => 'low', downtime: none, rollback: (f) => `Jarvis did nothing to undo; by hand: ${undo(f, 'undo what you did')}` },
};

const bump = (risk: Risk): Risk => RISK_ORDER[Math.min(RISK_ORDER.indexOf(risk) + 1, RISK_ORDER.length - 1)]!;

export function formatDowntime(seconds: number, why: string): string {
  if (seconds <= 0) return 'none';
  const amount = seconds < 90 ? `~${seconds} s` : `~${Math.round(seconds / 60)} min`;
  return why ? `${amount} (${why})` : amount;
}

/** Rates an action. `snapshotName` is set when the plan takes a pre-snapshot for it. */
export function rate(type: ActionType, facts: RatingFacts, snapshotName?: string): Rating {
  const entry = CATALOGUE[type];
  let risk = entry.risk(facts);
  const snapshotFirst = Boolean(entry.snapshotFirst?.(facts) && facts.existing);
  const [downtimeSeconds, downtimeWhy] = entry.downtime(facts);
  let rollbackHint = entry.rollback(facts);
  if (snapshotFirst && snapshotName) {
    // Without the guest agent the filesystems cannot be frozen: the snapshot is only crash-consistent.
    const consistency = facts.agent === false ? ' (crash-consistent: no guest agent to freeze the filesystems)' : '';
    rollbackHint = `${rollbackHint}; or roll back to snapshot ${snapshotName}${consistency}: qm rollback ${facts.vmid} ${snapshotName}`;
  } else if (snapshotFirst && facts.snapshotCapable === false) {
    // Without a snapshot the undo path is a restore from backup: one step riskier.
    risk = bump(risk);
    rollbackHint = `${rollbackHint}; no snapshot possible (${(facts.noSnapshotOn ?? []).join(', ') || 'storage'} cannot snapshot): restore from the last backup`;
  }
  return { risk, snapshotFirst, downtimeSeconds, downtimeWhy, rollbackHint, commitConfirm: entry.commitConfirm ?? false };
}

export const CATALOGUED_TYPES = Object.keys(CATALOGUE) as ActionType[];
