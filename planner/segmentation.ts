// Phase-2 segmentation intent → Proxmox firewall objects, kept readable:
//  - one cluster IP set per segment a rule refers to (`seg-<name>`), unless the spec already declares it;
//  - `blockManagementFrom`: datacenter rules dropping that segment's traffic to the node's SSH (22) and web UI (8006),
//    placed first so no later ACCEPT can let it through;
//  - each `allow` entry: an ACCEPT rule on the target VM's own firewall from the source segment's IP set;
//  - `defaultPolicy: deny`: those VM firewalls are enabled with policy_in DROP (only the allowed flows get in).
import type { Spec, VmSpec } from './spec/schema.ts';
import type { DesiredFirewall, DesiredFirewallRule, DesiredState } from './desired-state.ts';

type Segmentation = NonNullable<NonNullable<Spec['firewall']>['segmentation']>;

export const segmentIpset = (segment: string): string => `seg-${segment}`;

export function compileSegmentation(
  seg: Segmentation,
  vms: VmSpec[],
  out: DesiredFirewall,
  problems: DesiredState['problems'],
): void {
  const cluster = (out.cluster ??= { options: {}, rules: [], groups: [], ipsets: [], aliases: [] });
  // Only segments a rule refers to get an IP set: an unused set is noise in the firewall.
  const referenced = new Set<string>([...seg.allow.map((a) => a.from), ...seg.blockManagementFrom]);
  for (const segment of seg.segments.filter((s) => referenced.has(s.name))) {
    const name = segmentIpset(segment.name);
    if (!cluster.ipsets.some((s) => s.name === name)) {
      cluster.ipsets.push({ name, comment: `${segment.name.toUpperCase()} segment (${segment.bridge})`, cidrs: [segment.cidr] });
    }
  }
  const known = new Set<string>(seg.segments.map((s) => s.name));
  const blocks: DesiredFirewallRule[] = seg.blockManagementFrom.map((segment) => ({
    type: 'in',
    action: 'DROP',
    enable: true,
    source: `+${segmentIpset(segment)}`,
    proto: 'tcp',
    dport: '22,8006',
    comment: `${segment.toUpperCase()} must not reach Proxmox management`,
  }));
  cluster.rules = [...blocks, ...cluster.rules];

  seg.allow.forEach((allow, index) => {
    const location = `firewall.segmentation.allow[${index}]`;
    if (!known.has(allow.from)) {
      problems.push({ ruleId: 'segmentation.unknown-segment', message: `allow.from "${allow.from}" is not a declared segment`, location });
      return;
    }
    const target = vms.find((vm) => vm.name === allow.to || String(vm.vmid) === allow.to);
    if (!target) {
      problems.push({ ruleId: 'segmentation.unknown-target', message: `allow.to "${allow.to}" names no VM of the spec`, location });
      return;
    }
    const vmFw = (out.vms[target.vmid] ??= { vmName: target.name, options: {}, rules: [] });
    vmFw.options = { enable: true, policy_in: seg.defaultPolicy === 'deny' ? 'DROP' : 'ACCEPT', ...vmFw.options };
    vmFw.rules.push({
      type: 'in',
      action: 'ACCEPT',
      enable: true,
      source: `+${segmentIpset(allow.from)}`,
      proto: allow.proto,
      dport: allow.dport,
      comment: allow.comment ?? `${allow.from} to ${target.name} ${allow.dport}`,
    });
  });
}
