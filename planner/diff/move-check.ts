// A NIC move into a phase-2 segment as a commit-confirmed change: it waits for the router gate (and for the guest's
// own PVE firewall and the checkers' netcat), carries the request that moves the NIC back, and says what the guest
// must show after the move: an address in the new segment, its gateway and DNS reachable, and each service the spec
// says it serves reachable from a guest the matrix allows (or from itself when none is).
import type { DesiredVm } from '../desired-state.ts';
import type { MoveCheck, PveRequest } from '../plan.ts';
import { vmSegment } from '../router.ts';
import { canProbe, segmentOfBridge, servicePorts } from '../segments.ts';
import { cloudInitIface } from './segment-guests.ts';
import type { DiffContext } from './types.ts';

export interface NicMove {
  requires: string[];
  revert?: PveRequest[];
  moveCheck?: MoveCheck;
}

/** Guests that can check `port` on `vm`: Debian with an agent, in a segment the matrix lets reach it (the LAN first). */
function checkerFor(ctx: DiffContext, vm: DesiredVm, port: number, proto: 'tcp' | 'udp'): DesiredVm | undefined {
  const seg = ctx.desired.segmentation!;
  const allowedFrom = new Set(seg.allow.filter((f) => (f.to === vm.name || f.to === String(vm.vmid)) && f.proto === proto && f.dport === String(port)).map((f) => f.from));
  const candidates = ctx.desired.vms.filter((other) => {
    if (other.vmid === vm.vmid || !canProbe(other)) return false;
    const at = vmSegment(seg, other);
    return at !== undefined && allowedFrom.has(at.name);
  });
  return candidates.find((c) => !vmSegment(seg, c)?.internal) ?? candidates[0];
}

export function nicMove(ctx: DiffContext, vm: DesiredVm, netIndex: number, oldValue: string, oldBridge: string | undefined, newBridge: string, configPath: string): NicMove {
  const seg = ctx.desired.segmentation;
  const router = ctx.desired.vms.find((r) => r.role === 'firewall-router' && r.vmid !== vm.vmid);
  const target = seg ? segmentOfBridge(seg.segments, newBridge) : undefined;
  // Outside segmentation (or onto a bridge the router does not serve) a move needs only the router running, if any.
  if (!seg || !target || !router || !router.net.some((n) => n.bridge === newBridge)) {
    const routerNeeds = router && router.net.some((n) => n.bridge === newBridge) ? [`vm-running:${router.vmid}`] : [];
    return { requires: routerNeeds };
  }
  const slot = `net${netIndex}`;
  const revert: PveRequest[] = [{ method: 'POST', path: configPath, params: { [slot]: oldValue }, async: true }];
  const requires = [`router-ready:${router.vmid}`, `fw-rules:vm/${vm.vmid}`, `fw-options:vm/${vm.vmid}`];
  if ((vm.os !== 'debian-13' && vm.os !== 'haos') || !vm.agent || !target.gateway) return { requires, revert };
  const services: MoveCheck['services'] = [];
  for (const service of servicePorts(seg.allow, vm).filter((s) => s.proto === 'tcp')) {
    const checker = checkerFor(ctx, vm, service.port, service.proto) ?? (canProbe(vm) ? vm : undefined);
    if (!checker) continue;
    services.push({ port: service.port, what: service.what, fromVmid: checker.vmid });
    requires.push(`netcat:${checker.vmid}`);
  }
  const from = oldBridge ? segmentOfBridge(seg.segments, oldBridge) : undefined;
  const moveCheck: MoveCheck = {
    vmid: vm.vmid,
    netKey: slot,
    os: vm.os,
    ...(vm.os === 'debian-13' ? { iface: cloudInitIface(netIndex) } : {}),
    from: { bridge: oldBridge ?? '', ...(from ? { cidr: from.cidr } : {}) },
    to: { bridge: newBridge, segment: target.name, cidr: target.cidr, gateway: target.gateway, dnsName: seg.dnsCheckName },
    services,
    agentWaitSeconds: vm.agentWaitSeconds,
  };
  return { requires: [...new Set(requires)], revert, moveCheck };
}
