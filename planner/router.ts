// Router VM 150 as the owner must set it up, derived from the spec: which VM NIC (by MAC) is WAN, SERVICES and IOT,
// each interface's address and DHCP range, and the firewall matrix as router rules (pf: first match per inbound
// interface). The same data becomes the manual step's text, and the checks that observe it done: from a Debian guest
// on the LAN, each internal segment's gateway answers through the router.
import { sha256Hex } from './hash.ts';
import { parseNet } from './pve-values.ts';
import { netSlot } from './desired.ts';
import type { NetProbe } from '../lib/net-checks.ts';
import type { DesiredSegmentation, DesiredVm } from './desired-state.ts';
import type { RouterInterfaceSetup, RouterRuleSetup, RouterSetup } from './plan.ts';
import type { LiveVm } from './state.ts';
import { primaryBridge, segmentOfBridge, type Segment } from './segments.ts';

/**
 * A MAC for a NIC of a VM this plan creates, so the manual step can name it before the VM exists: Proxmox's own
 * prefix (BC:24:11, datacenter.cfg mac_prefix default) and three bytes derived from the VMID and the slot.
 */
export function plannedMac(vmid: number, index: number): string {
  const hex = sha256Hex(`jarvis:${vmid}:${netSlot(index)}`).slice(0, 6).toUpperCase();
  return `BC:24:11:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`;
}

/** The router's NICs with their MACs: pinned in the spec, read from the VM, or planned for its creation. */
export function routerNics(vm: DesiredVm, live: LiveVm | undefined): Array<{ netKey: string; bridge: string; mac: string }> {
  return vm.net.map((nic, i) => {
    const raw = live?.config[netSlot(i)];
    const liveMac = raw === undefined ? undefined : parseNet(String(raw)).macaddr;
    return { netKey: netSlot(i), bridge: nic.bridge, mac: (nic.macaddr ?? liveMac ?? plannedMac(vm.vmid, i)).toUpperCase() };
  });
}

const upper = (s: Segment) => (s.internal ? s.name.toUpperCase() : 'WAN');
const prefixOf = (cidr: string) => cidr.split('/')[1] ?? '24';

/** The segment a VM lives on in the desired state (its first NIC's bridge). */
export const vmSegment = (seg: DesiredSegmentation, vm: Pick<DesiredVm, 'net'>): Segment | undefined => {
  const bridge = primaryBridge(vm.net);
  return bridge === undefined ? undefined : segmentOfBridge(seg.segments, bridge);
};

function interfaces(seg: DesiredSegmentation, nics: ReturnType<typeof routerNics>): RouterInterfaceSetup[] {
  let opt = 0;
  let lanAssigned = false;
  return nics.flatMap((nic): RouterInterfaceSetup[] => {
    const s = segmentOfBridge(seg.segments, nic.bridge);
    if (!s?.router) return [];
    const base = { name: upper(s), netKey: nic.netKey, mac: nic.mac, bridge: nic.bridge, address: `${s.router}/${prefixOf(s.cidr)}` };
    if (!s.internal) return [{ ...base, assign: 'WAN' as const, ...(s.gateway ? { gateway: s.gateway } : {}), blockPrivate: false }];
    const assign: RouterInterfaceSetup['assign'] = lanAssigned ? `OPT${++opt}` : 'LAN';
    lanAssigned = true;
    return [{ ...base, assign, ...(s.dhcp ? { dhcp: { ...s.dhcp } } : {}) }];
  });
}

/** The matrix as router rules: what may cross the router, per inbound interface; everything else is blocked. */
function rules(seg: DesiredSegmentation, vms: DesiredVm[]): RouterRuleSetup[] {
  const out: RouterRuleSetup[] = [];
  const targetSegment = (to: string): Segment | undefined => {
    const vm = vms.find((v) => v.name === to || String(v.vmid) === to);
    return vm ? vmSegment(seg, vm) : seg.segments.find((s) => s.name === to);
  };
  const lan = seg.segments.find((s) => !s.internal);
  const internal = seg.segments.filter((s) => s.internal && s.gateway);
  if (lan) {
    for (const s of internal) {
      out.push({ interface: 'WAN', action: 'pass', protocol: 'icmp', source: 'WAN net', destination: `${upper(s)} address`, description: `Jarvis checks the router from the LAN (ping ${s.gateway})` });
    }
    for (const flow of seg.allow.filter((f) => f.from === lan.name)) {
      const target = targetSegment(flow.to);
      if (!target?.internal) continue;
      out.push({ interface: 'WAN', action: 'pass', protocol: flow.proto, source: 'WAN net', destination: `${upper(target)} net`, port: flow.dport, description: flow.comment ?? `LAN to ${flow.to}` });
    }
  }
  for (const s of internal) {
    const name = upper(s);
    out.push({ interface: name, action: 'pass', protocol: 'tcp/udp', source: `${name} net`, destination: `${name} address`, port: '53', description: `${name} guests resolve names through the router (Unbound)` });
    out.push({ interface: name, action: 'pass', protocol: 'icmp', source: `${name} net`, destination: `${name} address`, description: `${name} guests reach their gateway` });
    for (const flow of seg.allow.filter((f) => f.from === s.name)) {
      const target = targetSegment(flow.to);
      if (!target || target.bridge === s.bridge) continue; // within a segment the router sees nothing: the PVE firewall decides
      out.push({ interface: name, action: 'pass', protocol: flow.proto, source: `${name} net`, destination: `${upper(target)} net`, port: flow.dport, description: flow.comment ?? `${name} to ${flow.to}` });
    }
    for (const other of seg.segments.filter((o) => o.bridge !== s.bridge)) {
      const management = !other.internal && seg.blockManagementFrom.includes(s.name) ? ', Proxmox management included' : '';
      out.push({ interface: name, action: 'block', protocol: 'any', source: `${name} net`, destination: `${upper(other)} net`, description: `default deny: ${name} to ${other.internal ? upper(other) : 'the LAN'}${management}` });
    }
    out.push({ interface: name, action: 'pass', protocol: 'any', source: `${name} net`, destination: 'any', description: `${name} guests reach the internet (outbound NAT on WAN)` });
  }
  return out;
}

export function routerSetup(seg: DesiredSegmentation, vms: DesiredVm[], router: DesiredVm, live: LiveVm | undefined): RouterSetup {
  return { vmid: router.vmid, interfaces: interfaces(seg, routerNics(router, live)), rules: rules(seg, vms) };
}

/**
 * The router is seen done when the LAN guest reaches every internal segment's gateway through its route via the
 * router's LAN address: the router is up, its interfaces carry the spec's addresses, and it forwards from the LAN.
 * (Its LAN address itself does not answer pings: OPNsense blocks what WAN's rules do not pass.)
 */
export function routerProbes(seg: DesiredSegmentation): NetProbe[] {
  return seg.segments.filter((s) => s.internal && s.gateway).map((s) => ({ kind: 'ping' as const, address: s.gateway! }));
}

const ruleText = (r: RouterRuleSetup): string =>
  `${r.interface}: ${r.action} ${r.protocol} from ${r.source} to ${r.destination}${r.port ? ` port ${r.port}` : ''} — "${r.description}"`;

/** The manual step's text: installation, assignments by MAC, addresses, DHCP, rules, and how Jarvis sees it done. */
export function routerInstructions(setup: RouterSetup, router: DesiredVm, installer: string | undefined, prober: { vmid: number; name: string }, probes: NetProbe[], waiting: string[]): string[] {
  const wan = setup.interfaces.find((i) => i.assign === 'WAN');
  const lines = [
    installer
      ? `Open VM ${router.vmid}'s console (Proxmox UI > VM ${router.vmid} > Console): it boots the OPNsense installer from its CD-ROM (${installer}). Log in as "installer" (password "opnsense"), install to the disk, then remove the CD (Hardware > CD/DVD Drive > Do not use any media) and reboot.`
      : `Install the router system on VM ${router.vmid} from its console (Proxmox UI > VM ${router.vmid} > Console).`,
    `Interfaces > Assignments (console option 1), by MAC: ${setup.interfaces.map((i) => `${i.assign} = ${i.mac} (${i.netKey}, ${i.bridge})${i.assign !== 'WAN' ? `, description ${i.name}` : ''}`).join('; ')}. Enable every interface.`,
    `Addresses (console option 2, static IPv4): ${setup.interfaces.map((i) => `${i.name} ${i.address}`).join(', ')}${wan?.gateway ? `; WAN upstream gateway ${wan.gateway}` : ''}.`,
    ...(wan ? [`Interfaces > ${wan.name}: untick "Block private networks" (the LAN side is a private network).`] : []),
    ...setup.interfaces.filter((i) => i.dhcp).map((i) => `Services > DHCPv4 > ${i.name}: enable, range ${i.dhcp!.from} – ${i.dhcp!.to}; DNS server: leave empty (the router's own Unbound at ${i.address.split('/')[0]}).`),
    'Firewall > Rules, per interface, in this order and above OPNsense\'s own rules (the first match wins):',
    ...setup.rules.map((r) => `  ${ruleText(r)}`),
    `Optional: System > Firmware > Plugins: os-qemu-guest-agent, so Proxmox can shut VM ${router.vmid} down cleanly.`,
    `Jarvis sees it done when VM ${prober.vmid} (${prober.name}) can ${probes.map((p) => (p.kind === 'ping' ? `reach ${p.address}` : p.kind)).join(', ')} through the router${waiting.length ? `; until then ${waiting.join(', ')} wait${waiting.length === 1 ? 's' : ''}` : ''}.`,
  ];
  return lines;
}
