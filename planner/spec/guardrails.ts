// The guardrail catalogue: named rules from the hard constraints of the architecture document, each with a reason
// and where the document says so. `checkSpec` runs them all over a loaded spec and returns located findings.
import {
  checkBuildStandards,
  checkNetwork,
  checkNode,
  checkPhases,
  checkProvisioning,
  checkScope,
  checkSizing,
  checkTags,
  checkVmIdentity,
} from './checks-compute.ts';
import { checkFirewallFormats, checkLockout, checkPublicExposure, checkSegmentation, checkTailscaleRoutes } from './checks-firewall.ts';
import { checkMoveChecks, checkRouterGate, checkSegmentAddressing } from './checks-segments.ts';
import { checkBackupCoverage, checkBackups, checkMigrations, checkSafetyToggles, checkZfs } from './checks-storage.ts';
import type { Severity, SpecDiagnostic } from './diagnostic.ts';
import { createContext, type GuardrailContext } from './guardrail-context.ts';
import { sitePlaceholderFindings, type LoadedSpec } from './load.ts';

export interface Guardrail {
  id: string;
  severity: Severity;
  reason: string;
  /**
   * Where the rule comes from: a section of the owner's architecture document (homelab-target-architecture.md, kept
   * outside this repository; README "Hard constraints" restates it) or the Proxmox API schema and its source.
   */
  doc: string;
}

const ARCH = 'homelab-target-architecture.md';

export const GUARDRAILS: readonly Guardrail[] = [
  { id: 'node.single', severity: 'error', reason: 'the lab is one Proxmox node named proxmox', doc: `${ARCH} § Hard constraints › Single Proxmox node` },
  { id: 'vmid.stable-unique', severity: 'error', reason: 'each role keeps its stable VMID and name (100, 150, 300, 400; 200, 700)', doc: `${ARCH} § Proxmox build standards › Stable VMIDs` },
  { id: 'tags.format', severity: 'error', reason: 'tags must match Proxmox\'s tag format (no "=")', doc: `${ARCH} § Proxmox build standards › Tags` },
  { id: 'tags.scheme', severity: 'warning', reason: 'tags follow the env-/role-/tier-/owner- scheme, tier matching the VM\'s segment', doc: `${ARCH} § Proxmox build standards › Tags` },
  { id: 'vm.build-standards', severity: 'error', reason: 'VirtIO NIC, VirtIO SCSI controller, disk cache none', doc: `${ARCH} § Proxmox build standards` },
  { id: 'vm.guest-agent', severity: 'warning', reason: 'the QEMU guest agent is enabled where applicable', doc: `${ARCH} § Proxmox build standards` },
  { id: 'vm.autostart', severity: 'warning', reason: 'the lab\'s VMs start again after a node reboot (onboot)', doc: `${ARCH} § Deployment phases` },
  { id: 'vm.sizing', severity: 'warning', reason: 'cores, memory and disk stay within the document\'s ranges', doc: `${ARCH} § Deployment phases › Phase 0` },
  { id: 'provision.standards', severity: 'warning', reason: 'Tailscale on 100 and 400, Docker + Compose and the stacks on 300, HAOS preferred on 400', doc: `${ARCH} § Deployment phases › Phase 0` },
  { id: 'provision.port-conflict', severity: 'warning', reason: 'two stacks on one Docker host cannot publish the same host port', doc: `${ARCH} § Phase 0 › VM 300 app-host` },
  { id: 'phase0.host-network', severity: 'error', reason: 'phase 0 does not change host networking unless explicitly enabled', doc: `${ARCH} § Phase 0 safety requirements` },
  { id: 'phase0.ssd-only', severity: 'error', reason: 'phase 0 runs on the single SSD: no HDD pool or storage before phase 1', doc: `${ARCH} § Hard constraints › Phase 0 runs on a single SSD` },
  { id: 'bridge.internal-no-ports', severity: 'error', reason: 'SERVICES and IOT bridges are internal-only (no physical port); the LAN bridge has its uplink', doc: `${ARCH} § Phase 2 › Networks` },
  { id: 'network.no-vlan', severity: 'error', reason: 'no managed switch, so no VLAN trunking', doc: `${ARCH} § Hard constraints › No managed switch / no VLAN trunking` },
  { id: 'network.bridge-refs', severity: 'error', reason: 'a NIC uses a declared bridge that exists in that phase', doc: `${ARCH} § Phase 2 › Reattachments` },
  { id: 'phase.consistency', severity: 'error', reason: 'phases are cumulative: nothing beyond maxPhase, overrides only after the item exists', doc: `${ARCH} § Deployment phases` },
  { id: 'scope.firewall-only', severity: 'error', reason: 'a firewall-only wave declares only firewall settings', doc: `${ARCH} § Canonical spec files` },
  { id: 'firewall.source-format', severity: 'error', reason: 'firewall source/dest is an IP, CIDR, range, alias or +ipset, never IP:port', doc: `${ARCH} § Firewall safety` },
  { id: 'firewall.port-format', severity: 'error', reason: 'dport/sport are Proxmox port specs (lo:hi ranges, ≤ 15 numbers) with proto set', doc: 'Proxmox API viewer § firewall rules › dport / sport (pve-firewall PVE/Firewall.pm parse_port_name_number_or_range)' },
  { id: 'firewall.references', severity: 'error', reason: 'referenced IP sets, aliases and groups exist and actions are valid', doc: 'Proxmox API viewer § firewall rules › source / dest (pve-firewall PVE/Firewall.pm parse_address_list)' },
  { id: 'firewall.lockout', severity: 'error', reason: 'management CIDRs (and 100.64.0.0/10 when Tailscale management is expected) still reach 22 and 8006', doc: `${ARCH} § Firewall safety (host / datacenter)` },
  { id: 'exposure.public', severity: 'error', reason: 'no public exposure: no Funnel, no rules admitting the internet to management ports', doc: `${ARCH} § Hard constraints › Remote access MUST be Tailscale-only` },
  { id: 'safety.management-cidrs', severity: 'error', reason: 'management access sources are valid CIDRs', doc: `${ARCH} § Firewall safety` },
  { id: 'safety.snapshot-before-risk', severity: 'warning', reason: 'risky actions are preceded by a snapshot', doc: `${ARCH} § Phase 0 safety requirements` },
  { id: 'safety.host-network-enabled', severity: 'warning', reason: 'allowing host networking changes is a deliberate, temporary choice', doc: `${ARCH} § Phase 0 safety requirements` },
  { id: 'segmentation.default-deny', severity: 'error', reason: 'default deny between segments; IOT reaches only Home Assistant 8123 (1883 with MQTT); SERVICES/IOT cannot reach management', doc: `${ARCH} § Phase 2 › Firewall matrix` },
  { id: 'segmentation.router', severity: 'error', reason: 'segmentation goes through router VM 150 with one NIC on each of vmbr0, vmbr1 and vmbr2, checked from a Debian guest on the LAN', doc: `${ARCH} § Phase 2 › Router VM` },
  { id: 'segmentation.addressing', severity: 'error', reason: 'each segment has its own network, gateway and DHCP range, inside its network and not overlapping another', doc: `${ARCH} § Phase 2 › Networks` },
  { id: 'segmentation.move-check', severity: 'warning', reason: 'a guest moved into a segment can be checked from inside (agent) and the spec says what it serves', doc: `${ARCH} § Phase 2 › Reattachments` },
  { id: 'tailscale.routes', severity: 'error', reason: 'advertised routes are subnets (SERVICES/IOT), not a default route', doc: `${ARCH} § Phase 2 › Tailscale in Phase 2` },
  { id: 'storage.zfs-layout', severity: 'error', reason: 'tank is a ZFS mirror of two disks named by /dev/disk/by-id', doc: `${ARCH} § Phase 1` },
  { id: 'storage.references', severity: 'error', reason: 'datasets, snapshots and storages name declared pools and datasets', doc: `${ARCH} § Phase 1` },
  { id: 'storage.zfs-protection', severity: 'warning', reason: 'tank/media, tank/appdata, tank/backups exist; media and appdata get daily snapshots', doc: `${ARCH} § Phase 1` },
  { id: 'backups.schedule', severity: 'error', reason: 'schedules are Proxmox calendar events and retentions valid prune-backups', doc: 'Proxmox API viewer § cluster/backup › schedule, prune-backups (pve-common PVE/CalendarEvent.pm, PVE/JSONSchema.pm)' },
  { id: 'backups.retention', severity: 'warning', reason: 'backups keep daily, weekly and monthly copies (e.g. 7/4/6)', doc: `${ARCH} § Phase 1 › Backups` },
  { id: 'backups.references', severity: 'error', reason: 'a backup job names storages and VMs that exist in its phase', doc: `${ARCH} § Phase 1 › Backups` },
  { id: 'backups.coverage', severity: 'warning', reason: 'every VM is in an enabled backup job in every phase it exists', doc: `${ARCH} § Phase 1 › Backups` },
  { id: 'backups.ssd-space', severity: 'warning', reason: 'backups on the SSD use the VMs\' space and do not survive its loss', doc: `${ARCH} § Phase 0 safety requirements` },
  { id: 'site.placeholder', severity: 'error', reason: 'the site file holds the owner\'s own values, not the shipped placeholders (disk ids, SSH keys)', doc: `${ARCH} § Phase 1 (the disks tank erases)` },
  { id: 'migrations.references', severity: 'error', reason: 'a migration names a declared VM, its stacks and a target that exists in its phase', doc: `${ARCH} § Phase 1 › Migrate` },
];

const BY_ID = new Map(GUARDRAILS.map((g) => [g.id, g]));

export function guardrail(id: string): Guardrail {
  const rule = BY_ID.get(id);
  if (!rule) throw new Error(`unknown guardrail ${id}`);
  return rule;
}

const CHECKS: ReadonlyArray<(ctx: GuardrailContext) => void> = [
  checkNode,
  checkVmIdentity,
  checkTags,
  checkBuildStandards,
  checkSizing,
  checkProvisioning,
  checkNetwork,
  checkPhases,
  checkScope,
  checkFirewallFormats,
  checkLockout,
  checkPublicExposure,
  checkSegmentation,
  checkSegmentAddressing,
  checkRouterGate,
  checkMoveChecks,
  checkTailscaleRoutes,
  checkZfs,
  checkBackups,
  checkBackupCoverage,
  checkMigrations,
  checkSafetyToggles,
];

export type Finding = SpecDiagnostic;

/** Runs every guardrail; findings are sorted by position, errors and warnings together. */
export function checkSpec(loaded: LoadedSpec): Finding[] {
  const findings: Finding[] = [];
  const ctx = createContext(loaded, (id) => guardrail(id).severity, findings);
  for (const check of CHECKS) check(ctx);
  findings.push(...sitePlaceholderFindings(loaded));
  return findings.sort((a, b) => a.line - b.line || a.col - b.col || a.ruleId.localeCompare(b.ruleId));
}
