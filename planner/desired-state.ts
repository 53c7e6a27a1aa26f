// The desired state of one phase: what resolvePhase (resolve.ts) makes of a spec and what the scan, the diff and
// the guardrails compare the lab with. Types only, so segmentation.ts and resolve.ts can share them without a cycle.
import type { BackupJobSpec, BridgeSpec, DatasetSpec, MigrationSpec, PveStorageSpec, SafetyGuards, VmSpec, ZfsPoolSpec } from './spec/schema.ts';
import type { Segment } from './segments.ts';

export type PhaseNumber = 0 | 1 | 2;

export type DesiredVm = Omit<VmSpec, 'overrides' | 'firewall'>;

export type DesiredBackupJob = Omit<BackupJobSpec, 'overrides' | 'phase'>;

export interface DesiredFirewallRule {
  type: 'in' | 'out' | 'forward' | 'group';
  action: string;
  enable: boolean;
  source?: string;
  dest?: string;
  proto?: string;
  dport?: string;
  sport?: string;
  iface?: string;
  macro?: string;
  log?: string;
  comment?: string;
}

export type FirewallOptions = Record<string, string | boolean | undefined>;

export interface DesiredClusterFirewall {
  options: FirewallOptions;
  rules: DesiredFirewallRule[];
  groups: Array<{ group: string; comment?: string; rules: DesiredFirewallRule[] }>;
  ipsets: Array<{ name: string; comment?: string; cidrs: string[] }>;
  aliases: Array<{ name: string; cidr: string; comment?: string }>;
}

export interface DesiredFirewall {
  /** Undefined: the spec does not manage the datacenter firewall in this phase. */
  cluster?: DesiredClusterFirewall;
  node?: { options: FirewallOptions; rules: DesiredFirewallRule[] };
  /** VM-level firewalls, keyed by vmid. */
  vms: Record<number, { vmName?: string; options: FirewallOptions; rules: DesiredFirewallRule[] }>;
}

/** Phase-2 segmentation as the plan needs it: the segments, the allowed flows, and what the checks look at. */
export interface DesiredSegmentation {
  segments: Segment[];
  allow: Array<{ from: string; to: string; proto: 'tcp' | 'udp'; dport: string; comment?: string }>;
  blockManagementFrom: string[];
  /** The name guests resolve to check their DNS. */
  dnsCheckName: string;
  /** The node's own address (the LAN bridge's), which SERVICES and IOT must not reach. */
  nodeAddress?: string;
}

export interface DesiredState {
  phase: PhaseNumber;
  /** The spec's owner name: the tag its firewall rules carry (planner/firewall-owner.ts). */
  owner: string;
  scope: 'full' | 'firewall';
  node: string;
  ssdStorage: string;
  ssdBackupStorage: string;
  imageStorage: string;
  guards: SafetyGuards;
  bridges: BridgeSpec[];
  vms: DesiredVm[];
  zfs: { pools: ZfsPoolSpec[]; datasets: DatasetSpec[]; snapshots: Array<{ dataset: string; frequency: 'hourly' | 'daily'; retention: Record<string, number> }> };
  storages: PveStorageSpec[];
  migrations: MigrationSpec[];
  backupJobs: DesiredBackupJob[];
  firewall: DesiredFirewall;
  /** From the phase segmentation starts in, on a full-scope spec. */
  segmentation?: DesiredSegmentation;
  /** Problems found while resolving (e.g. a segmentation rule naming an unknown VM); they become plan violations. */
  problems: Array<{ ruleId: string; message: string; location: string }>;
}
