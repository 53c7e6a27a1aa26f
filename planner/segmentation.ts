// Phase-2 segmentation intent → Proxmox firewall objects, kept readable:
//  - one cluster IP set per segment a rule refers to (`seg-<name>`), unless the spec already declares it;
//  - `blockManagementFrom`: datacenter rules dropping that segment's traffic to the node's SSH (22) and web UI (8006),
//    placed first so no later ACCEPT can let it through;
//  - default deny between segments on every VM Jarvis manages (the router excepted: its own rules do that job): its
//    VM firewall is enabled with policy_in DROP, each `allow` flow to it is an ACCEPT from the source segment's IP
//    set, and its own segment is accepted unless an allow flow from that segment says exactly what may come in
//    (IOT → Home Assistant only 8123/1883, although Home Assistant sits on IOT itself).
import type { Spec } from './spec/schema.ts';
import type { DesiredFirewall, DesiredFirewallRule, DesiredState, DesiredVm } from './desired-state.ts';
import { primaryBridge } from './segments.ts';

type Segmentation = NonNullable<NonNullable<Spec['firewall']>['segmentation']>;

export const segmentIpset = (segment: string): string => `seg-${segment}`;

export function compileSegmentation(seg: Segmentation, vms: DesiredVm[], out: DesiredFirewall, problems: DesiredState['problems']): void {
  const cluster = (out.cluster ??= { options: {}, rules: [], groups: [], ipsets: [], aliases: [] });
  const known = new Set<string>(seg.segments.map((s) => s.name));
  const segmentOf = (vm: DesiredVm) => seg.segments.find((s) => s.bridge === primaryBridge(vm.net));
  const managed = vms.filter((vm) => vm.role !== 'firewall-router' && segmentOf(vm) !== undefined);

  const vmRules = new Map<number, DesiredFirewallRule[]>();
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
    const rules = vmRules.get(target.vmid) ?? [];
    rules.push({ type: 'in', action: 'ACCEPT', enable: true, source: `+${segmentIpset(allow.from)}`, proto: allow.proto, dport: allow.dport, comment: allow.comment ?? `${allow.from} to ${target.name} ${allow.dport}` });
    vmRules.set(target.vmid, rules);
  });
  const ownSegment = new Map<number, string>();
  for (const vm of managed) {
    const own = segmentOf(vm)!.name;
    const restricted = seg.allow.some((a) => a.from === own && (a.to === vm.name || a.to === String(vm.vmid)));
    if (restricted) continue;
    ownSegment.set(vm.vmid, own);
    const rules = vmRules.get(vm.vmid) ?? [];
    rules.push({ type: 'in', action: 'ACCEPT', enable: true, source: `+${segmentIpset(own)}`, comment: `${own.toUpperCase()}: within its own segment` });
    vmRules.set(vm.vmid, rules);
  }

  // Only segments a rule refers to get an IP set: an unused set is noise in the firewall.
  const referenced = new Set<string>([...seg.allow.map((a) => a.from), ...seg.blockManagementFrom, ...ownSegment.values()]);
  for (const segment of seg.segments.filter((s) => referenced.has(s.name))) {
    const name = segmentIpset(segment.name);
    if (!cluster.ipsets.some((s) => s.name === name)) {
      cluster.ipsets.push({ name, comment: `${segment.name.toUpperCase()} segment (${segment.bridge})`, cidrs: [segment.cidr] });
    }
  }
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

  for (const [vmid, rules] of [...vmRules].sort(([a], [b]) => a - b)) {
    const vm = vms.find((v) => v.vmid === vmid)!;
    if (!managed.includes(vm) && vm.role === 'firewall-router') continue;
    const vmFw = (out.vms[vmid] ??= { vmName: vm.name, options: {}, rules: [] });
    vmFw.options = { enable: true, policy_in: seg.defaultPolicy === 'deny' ? 'DROP' : 'ACCEPT', ...vmFw.options };
    vmFw.rules.push(...rules);
  }
}
