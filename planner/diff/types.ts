// What the diff modules produce before the catalogue rates them and order.ts sorts them.
import type { ActionChannel, ActionParams, ActionType, ChangeKind, FieldChange, PlanViolation, PlanWarning } from '../plan.ts';
import type { DesiredState } from '../desired-state.ts';
import type { LiveState } from '../state.ts';

/** Facts the catalogue needs to rate an action (all from the scan or the spec, never guessed). */
export interface RatingFacts {
  vmid?: number;
  vmName?: string;
  /** The VM exists now (not created by this plan) and is running. */
  running?: boolean;
  /** The VM exists before this plan (a pre-snapshot is possible only then). */
  existing?: boolean;
  /** The change only takes effect after a reboot of a running VM. */
  rebootNeeded?: boolean;
  /** Every disk of the VM is on storage that can snapshot it (lvmthin, zfspool, qcow2 on dir…). */
  snapshotCapable?: boolean;
  /** Storage ids that cannot snapshot, for the hint. */
  noSnapshotOn?: string[];
  agent?: boolean;
  /** Estimated data to move, GiB (data migration downtime). */
  sizeGiB?: number;
  /** Firewall scope of the action: the node's own management is at stake for cluster/node. */
  firewallLevel?: 'cluster' | 'node' | 'vm';
  /** Text for the rollback hint: the previous value or what to remove. */
  undo?: string;
}

export interface DraftAction {
  id: string;
  type: ActionType;
  kind: ChangeKind;
  channel: ActionChannel;
  target: string;
  targetKey: string;
  changes: FieldChange[];
  params: ActionParams;
  facts: RatingFacts;
  /** Resource keys this action brings into being (`vm:100`, `bridge-active:vmbr1`…). */
  provides: string[];
  /** Resource keys it needs; an edge is added to every action providing one (none: it exists already). */
  requires: string[];
  /** Explicit predecessors (same-target sequences: rule positions, config writes after a digest). */
  after: string[];
  note?: string;
}

export interface DiffContext {
  desired: DesiredState;
  state: LiveState;
  /** `jarvis-pre-<basis8>`: the pre-snapshot name for this plan's VM-level risky changes. */
  snapshotName: string;
  unknowns: Array<{ what: string; reason: string }>;
  warnings: PlanWarning[];
  violations: PlanViolation[];
  /** Last action of each same-target sequence (`vm:100` config writes, `fw:cluster` rules…). */
  chains: Map<string, string>;
  /** Running VMs with changes that wait for a reboot; one vm.reboot each is emitted after every config write. */
  pendingReboot: Set<number>;
  /** Installer ISOs the VMs this plan creates boot (the router's manual step names it). */
  installers: Map<number, string>;
}

/** Appends `action` to the sequence `key`: it runs after the previous action of that sequence. */
export function chain(ctx: DiffContext, key: string, action: DraftAction): DraftAction {
  const previous = ctx.chains.get(key);
  if (previous && !action.after.includes(previous)) action.after.push(previous);
  ctx.chains.set(key, action.id);
  return action;
}

export const change = (path: string, from: unknown, to: unknown): FieldChange => ({ path, from: from ?? null, to: to ?? null });

export function draft(fields: Omit<DraftAction, 'provides' | 'requires' | 'after' | 'facts'> & Partial<Pick<DraftAction, 'provides' | 'requires' | 'after' | 'facts'>>): DraftAction {
  return { provides: [], requires: [], after: [], facts: {}, ...fields };
}
