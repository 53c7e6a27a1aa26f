// Phase-2 guardrails on the segments' addresses and on what the router gate and the NIC moves need: addresses that
// fit their segment and do not collide, a router with exactly one NIC per segment, a Debian guest on the LAN to look
// at the router from, and moved guests whose services the spec describes (otherwise only their address, gateway and
// DNS can be checked after the move).
import { cidrContains, cidrRange, parseCidr, parseIp } from '../../lib/pve-formats.ts';
import { canProbe, inCidr, lanBridge, lanProber, primaryBridge, servicePorts } from '../segments.ts';
import type { SpecPath } from './diagnostic.ts';
import { vmAtPhase, type GuardrailContext } from './guardrail-context.ts';

const ip4 = (text: string | undefined): bigint | undefined => {
  const ip = text === undefined ? null : parseIp(text);
  return ip?.family === 4 ? ip.value : undefined;
};

/** Checks one address of a segment: an IPv4 host address inside the segment (not its network or broadcast address). */
function hostProblem(cidr: string, address: string): string | undefined {
  const parsed = parseCidr(cidr);
  const ip = ip4(address);
  if (ip === undefined) return `"${address}" is not an IPv4 address`;
  if (!parsed || parsed.family !== 4) return undefined; // the segment's own cidr is reported elsewhere
  if (!inCidr(cidr, address)) return `${address} is not in ${cidr}`;
  const [first, last] = cidrRange(parsed);
  if (parsed.prefix < 31 && (ip === first || ip === last)) return `${address} is the network or broadcast address of ${cidr}`;
  return undefined;
}

export function checkSegmentAddressing(ctx: GuardrailContext): void {
  const { spec } = ctx;
  const seg = spec.firewall?.segmentation;
  if (!seg) return;
  const base: SpecPath = ['firewall', 'segmentation', 'segments'];
  const lan = lanBridge(spec);
  const rule = 'segmentation.addressing';
  seg.segments.forEach((s, i) => {
    const path: SpecPath = [...base, i];
    const upper = s.name.toUpperCase();
    const check = (field: SpecPath, address: string) => {
      const problem = hostProblem(s.cidr, address);
      if (problem) ctx.report(rule, [...path, ...field], problem, `use an address of ${s.cidr}`);
      return !problem;
    };
    if (s.gateway !== undefined) check(['gateway'], s.gateway);
    if (s.router !== undefined) check(['router'], s.router);
    if (s.name === 'lan') {
      if (s.gateway !== undefined && lan?.gateway !== undefined && s.gateway !== lan.gateway) {
        ctx.report(rule, [...path, 'gateway'], `the LAN's gateway ${s.gateway} is not the LAN bridge's (${lan.gateway})`, `set gateway: ${lan.gateway}, or leave it out`);
      }
      if (lan?.nodeAddress && parseCidr(s.cidr) && !inCidr(s.cidr, lan.nodeAddress)) {
        ctx.report(rule, [...path, 'cidr'], `the node's own address ${lan.nodeAddress} (${lan.iface}) is not in the LAN segment ${s.cidr}`, `set cidr to the LAN's network (the one ${lan.iface} is on)`);
      }
      if (s.router === undefined) {
        ctx.report(rule, path, "router VM 150's static address on the LAN is missing: edge-gateway's routes to SERVICES and IOT go through it", 'add router: a free LAN address outside the home router\'s DHCP range, e.g. 192.168.1.2');
      } else if (s.router === (s.gateway ?? lan?.gateway) || s.router === lan?.nodeAddress) {
        ctx.report(rule, [...path, 'router'], `${s.router} is already the ${s.router === lan?.nodeAddress ? "node's" : "home router's"} address`, 'give the router VM a LAN address of its own');
      }
      if (s.dhcp) ctx.report(rule, [...path, 'dhcp'], "the LAN's addresses come from the home router's DHCP, not from router VM 150", 'remove dhcp from the lan segment');
      return;
    }
    if (s.gateway === undefined) {
      ctx.report(rule, path, `${upper} has no gateway: the router's address on ${s.bridge} is what its guests route through`, `add gateway: the router's address in ${s.cidr}, e.g. the first one`);
    }
    if (s.router !== undefined && s.gateway !== undefined && s.router !== s.gateway) {
      ctx.report(rule, [...path, 'router'], `on ${upper} the router VM is the gateway: router ${s.router} differs from gateway ${s.gateway}`, 'remove router (it defaults to the gateway)');
    }
    if (!s.dhcp) {
      ctx.report(rule, path, `${upper} has no DHCP range: its guests take their address by DHCP from the router, and a bridge without a DHCP server gives none`, `add dhcp: { from: …, to: … } inside ${s.cidr}`);
      return;
    }
    const fromOk = check(['dhcp', 'from'], s.dhcp.from);
    const toOk = check(['dhcp', 'to'], s.dhcp.to);
    if (!fromOk || !toOk) return;
    const from = ip4(s.dhcp.from)!;
    const to = ip4(s.dhcp.to)!;
    if (from > to) {
      ctx.report(rule, [...path, 'dhcp'], `the DHCP range ${s.dhcp.from}–${s.dhcp.to} ends before it starts`, 'swap from and to');
      return;
    }
    const gateway = ip4(s.gateway);
    if (gateway !== undefined && gateway >= from && gateway <= to) {
      ctx.report(rule, [...path, 'dhcp'], `the DHCP range ${s.dhcp.from}–${s.dhcp.to} contains the gateway ${s.gateway}`, 'start the range after the gateway');
    }
  });
  checkOverlaps(ctx, base);
}

/** Segments must not share addresses: their networks, gateways and DHCP ranges. */
function checkOverlaps(ctx: GuardrailContext, base: SpecPath): void {
  const segments = ctx.spec.firewall!.segmentation!.segments;
  const rule = 'segmentation.addressing';
  segments.forEach((b, j) => {
    for (let i = 0; i < j; i += 1) {
      const a = segments[i]!;
      if (a.bridge === b.bridge) {
        ctx.report(rule, [...base, j, 'bridge'], `${b.name.toUpperCase()} is on ${b.bridge}, like ${a.name.toUpperCase()}`, 'give every segment its own bridge');
      }
      if (parseCidr(a.cidr) && parseCidr(b.cidr) && (cidrContains(a.cidr, b.cidr) || cidrContains(b.cidr, a.cidr))) {
        ctx.report(rule, [...base, j, 'cidr'], `${b.cidr} (${b.name.toUpperCase()}) overlaps ${a.cidr} (${a.name.toUpperCase()})`, 'give every segment its own network');
      }
      const gatewayA = a.gateway ?? a.router;
      if (b.gateway !== undefined && gatewayA !== undefined && b.gateway === gatewayA) {
        ctx.report(rule, [...base, j, 'gateway'], `${b.name.toUpperCase()}'s gateway ${b.gateway} is also ${a.name.toUpperCase()}'s`, 'give every segment its own gateway address');
      }
      if (a.dhcp && b.dhcp) {
        const [af, at, bf, bt] = [a.dhcp.from, a.dhcp.to, b.dhcp.from, b.dhcp.to].map(ip4);
        if (af !== undefined && at !== undefined && bf !== undefined && bt !== undefined && bf <= at && af <= bt) {
          ctx.report(rule, [...base, j, 'dhcp'], `the DHCP range ${b.dhcp.from}–${b.dhcp.to} (${b.name.toUpperCase()}) overlaps ${a.dhcp.from}–${a.dhcp.to} (${a.name.toUpperCase()})`, 'give every segment its own DHCP range');
        }
      }
    }
  });
}

/** The router has exactly one NIC per segment, and a Debian guest on the LAN can check the router. */
export function checkRouterGate(ctx: GuardrailContext): void {
  const { spec } = ctx;
  const seg = spec.firewall?.segmentation;
  if (!seg || spec.metadata.scope !== 'full') return;
  const index = spec.vms.findIndex((vm) => vm.role === 'firewall-router');
  if (index >= 0) {
    const router = vmAtPhase(spec.vms[index]!, index, Math.max(seg.phase, spec.vms[index]!.phase));
    const bridges = router.net.map((nic) => nic.bridge);
    const duplicates = bridges.filter((b, i) => bridges.indexOf(b) !== i);
    if (router.net.length !== seg.segments.length || duplicates.length > 0) {
      ctx.report('segmentation.router', router.netPath, `the router has ${router.net.length} NIC${router.net.length === 1 ? '' : 's'}${duplicates.length ? ` (${duplicates.join(', ')} twice)` : ''}; it needs exactly one on each segment's bridge (${seg.segments.map((s) => s.bridge).join(', ')})`,
        `give VM ${spec.vms[index]!.vmid} ${seg.segments.length} NICs: ${seg.segments.map((s) => `{ model: virtio, bridge: ${s.bridge}, firewall: false }`).join(', ')}`);
    }
  }
  const lanSegment = seg.segments.find((s) => s.name === 'lan');
  const inPhase = spec.vms.map((vm, i) => ({ ...vm, net: vmAtPhase(vm, i, seg.phase).net })).filter((vm) => vm.phase <= seg.phase);
  if (lanSegment && !lanProber(inPhase, lanSegment.bridge)) {
    ctx.report('segmentation.router', ['firewall', 'segmentation'], `no Debian guest with its guest agent stays on the LAN (${lanSegment.bridge}) to check the router from: the NIC moves could never be unblocked`,
      'keep edge-gateway (os: debian-13, agent: true) on the LAN bridge');
  }
}

/** A guest moved into a segment whose services the spec does not describe can only have its own network checked. */
export function checkMoveChecks(ctx: GuardrailContext): void {
  const { spec } = ctx;
  const seg = spec.firewall?.segmentation;
  if (!seg || spec.metadata.scope !== 'full') return;
  spec.vms.forEach((vm, vi) => {
    if (vm.role === 'firewall-router' || vm.phase >= seg.phase) return;
    const before = vmAtPhase(vm, vi, seg.phase - 1);
    const after = vmAtPhase(vm, vi, seg.phase);
    const from = primaryBridge(before.net);
    const to = primaryBridge(after.net);
    if (from === undefined || to === undefined || from === to) return;
    const path: SpecPath = [...after.netPath, 0, 'bridge'];
    if (vm.os !== 'debian-13' && vm.os !== 'haos') {
      ctx.report('segmentation.move-check', path, `${vm.name} moves to ${to}, but Jarvis cannot look inside an os: ${vm.os ?? 'unset'} guest: the move cannot be checked`, 'move it by hand, or give it an OS Jarvis can check (debian-13, haos)');
    } else if (!vm.agent) {
      ctx.report('segmentation.move-check', path, `${vm.name} moves to ${to} without its guest agent: the move cannot be checked from inside the guest`, 'set agent: true');
    } else if (servicePorts(seg.allow, vm).length === 0) {
      ctx.report('segmentation.move-check', path, `${vm.name} moves to ${to}, but the spec says nothing about what it serves: only its address, gateway and DNS are checked after the move`,
        'describe its service (Docker stacks with ports, or an allow flow to it) so the move checks it stays reachable');
    } else if (vm.os === 'haos' && !spec.vms.some((other) => other.vmid !== vm.vmid && canProbe(other))) {
      ctx.report('segmentation.move-check', path, `${vm.name} moves to ${to}; Home Assistant OS has no netcat and no Debian guest can check its services from outside`, 'keep a Debian guest (edge-gateway) with its agent');
    }
  });
}
