// Phases are cumulative: planning phase N wants every item introduced at phase ≤ N, with `overrides.phaseK` (K ≤ N)
// applied in order. A firewall-scope spec (the firewall-only wave) yields only the firewall; nothing else is managed.
import type { BackupJobSpec, FirewallRuleSpec, Spec, VmSpec } from './spec/schema.ts';
import type { DesiredBackupJob, DesiredFirewall, DesiredFirewallRule, DesiredState, DesiredVm, PhaseNumber } from './desired-state.ts';
import { compileSegmentation } from './segmentation.ts';
import { lanBridge, segmentsOf } from './segments.ts';
import { ownerName } from './firewall-owner.ts';

const upTo = (phase: PhaseNumber) => (item: { phase?: number }) => (item.phase ?? 0) <= phase;

export function toRule(rule: FirewallRuleSpec): DesiredFirewallRule {
  const out: DesiredFirewallRule = { type: rule.type, action: rule.action, enable: rule.enable };
  for (const key of ['source', 'dest', 'proto', 'dport', 'sport', 'iface', 'macro', 'log', 'comment'] as const) {
    const value = rule[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function resolveVm(vm: VmSpec, phase: PhaseNumber): DesiredVm {
  const { overrides, firewall: _firewall, ...base } = vm;
  let resolved: DesiredVm = base;
  for (const key of ['phase1', 'phase2'] as const) {
    const override = overrides?.[key];
    if (!override || Number(key.slice(5)) > phase) continue;
    resolved = {
      ...resolved,
      ...(override.net ? { net: override.net } : {}),
      ...(override.tags ? { tags: override.tags } : {}),
      ...(override.cores !== undefined ? { cores: override.cores } : {}),
      ...(override.memory !== undefined ? { memory: override.memory } : {}),
      ...(override.provision ? { provision: override.provision } : {}),
    };
  }
  return resolved;
}

function resolveBackupJob(job: BackupJobSpec, phase: PhaseNumber): DesiredBackupJob {
  const { overrides, phase: _phase, ...base } = job;
  let resolved: DesiredBackupJob = base;
  for (const key of ['phase1', 'phase2'] as const) {
    const override = overrides?.[key];
    if (!override || Number(key.slice(5)) > phase) continue;
    resolved = { ...resolved, ...override };
  }
  return resolved;
}

/** Strips in-guest items introduced after `phase` (tailscale/docker carry their own phase). */
function resolveProvision(vm: DesiredVm, phase: PhaseNumber): DesiredVm {
  const provision = vm.provision;
  if (!provision) return vm;
  return {
    ...vm,
    provision: {
      ...provision,
      tailscale: provision.tailscale && provision.tailscale.phase <= phase ? provision.tailscale : undefined,
      docker: provision.docker && provision.docker.phase <= phase ? provision.docker : undefined,
    },
  };
}

function resolveFirewall(spec: Spec, phase: PhaseNumber, vms: DesiredVm[], problems: DesiredState['problems']): DesiredFirewall {
  const fw = spec.firewall;
  const out: DesiredFirewall = { vms: {} };
  const cluster = fw?.cluster;
  if (cluster && (cluster.phase ?? 0) <= phase) {
    out.cluster = {
      options: { ...cluster.options },
      rules: cluster.rules.map(toRule),
      groups: cluster.groups.map((g) => ({ group: g.group, comment: g.comment, rules: g.rules.map(toRule) })),
      ipsets: cluster.ipsets.map((s) => ({ name: s.name, comment: s.comment, cidrs: [...s.cidrs] })),
      aliases: cluster.aliases.map((a) => ({ ...a })),
    };
  }
  const node = fw?.node;
  if (node && (node.phase ?? 0) <= phase) out.node = { options: { ...node.options }, rules: node.rules.map(toRule) };
  for (const vm of spec.vms) {
    if (!vm.firewall || (vm.firewall.phase ?? vm.phase) > phase || vm.phase > phase) continue;
    out.vms[vm.vmid] = { vmName: vm.name, options: { ...vm.firewall.options }, rules: vm.firewall.rules.map(toRule) };
  }
  const segmentation = fw?.segmentation;
  if (segmentation && segmentation.phase <= phase) compileSegmentation(segmentation, vms, out, problems);
  return out;
}

/** The desired state of `spec` at `phase` (0, 1 or 2). */
export function resolvePhase(spec: Spec, phase: PhaseNumber): DesiredState {
  const keep = upTo(phase);
  const problems: DesiredState['problems'] = [];
  const vms = spec.metadata.scope === 'firewall' ? [] : spec.vms.filter(keep).map((vm) => resolveProvision(resolveVm(vm, phase), phase));
  const firewall = resolveFirewall(spec, phase, vms, problems);
  const base = {
    phase,
    owner: ownerName(spec.metadata.name),
    scope: spec.metadata.scope,
    node: spec.node.name,
    ssdStorage: spec.node.ssdStorage,
    ssdBackupStorage: spec.node.ssdBackupStorage,
    imageStorage: spec.node.imageStorage,
    guards: spec.safetyGuards,
    firewall,
    problems,
  };
  if (spec.metadata.scope === 'firewall') {
    return { ...base, bridges: [], vms: [], zfs: { pools: [], datasets: [], snapshots: [] }, storages: [], migrations: [], backupJobs: [] };
  }
  const zfs = spec.storage?.zfs;
  const seg = spec.firewall?.segmentation;
  const segmentation =
    seg && seg.phase <= phase
      ? {
          segments: segmentsOf(spec),
          allow: seg.allow.map((a) => ({ ...a })),
          blockManagementFrom: [...seg.blockManagementFrom],
          dnsCheckName: seg.dnsCheckName,
          ...(lanBridge(spec)?.nodeAddress ? { nodeAddress: lanBridge(spec)!.nodeAddress } : {}),
        }
      : undefined;
  return {
    ...base,
    ...(segmentation ? { segmentation } : {}),
    bridges: spec.network.bridges.filter(keep),
    vms,
    zfs: {
      pools: (zfs?.pools ?? []).filter(keep),
      datasets: (zfs?.datasets ?? []).filter(keep),
      snapshots: (zfs?.snapshots ?? []).filter(keep).map((s) => ({
        dataset: s.dataset,
        frequency: s.frequency,
        retention: Object.fromEntries(Object.entries(s.retention).filter((e): e is [string, number] => e[1] !== undefined)),
      })),
    },
    storages: (spec.storage?.pve ?? []).filter(keep),
    migrations: spec.migrations.filter(keep),
    backupJobs: (spec.backups?.jobs ?? []).filter(keep).map((job) => resolveBackupJob(job, phase)),
  };
}

/** The phase number a plan phase resolves at: `firewall` uses the spec's highest phase. */
export function phaseNumberOf(phase: 'phase0' | 'phase1' | 'phase2' | 'firewall', spec: Spec): PhaseNumber {
  if (phase === 'firewall') return spec.metadata.maxPhase as PhaseNumber;
  return Number(phase.slice(5)) as PhaseNumber;
}
