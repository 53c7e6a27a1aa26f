// A guest's network stack over its life: configured at boot, down at power-off, and what it does when qemu-server
// changes a NIC under it.
// - Debian 13 cloud images use netplan with systemd-networkd (wiki.debian.org/Netplan: "As of Debian 12 Netplan is the
//   default network configuration tool for Debian cloud-images"); cloud-init renders its network config to
//   /etc/netplan/50-cloud-init.yaml (netplan matches the NIC by MAC and renames it, e.g. eth0). Without any netplan
//   configuration, cloud-init's fallback is DHCP on the first NIC.
// - Home Assistant OS runs NetworkManager with DHCP on every Ethernet NIC (operating-system: BR2_PACKAGE_NETWORK_MANAGER).
// - Moving a NIC to another bridge on a running VM: qemu-server (QemuServer.pm vmconfig_update_net) sets the link down
//   and up again "to notify guest (dhcp renew for example)". systemd-networkd drops its dynamic configuration when the
//   carrier goes (networkd-link.c link_carrier_lost, IgnoreCarrierLoss= defaults to 0) and starts DHCP afresh when it
//   comes back; NetworkManager gives a lost carrier a grace period (nm-device.c CARRIER_WAIT_TIME_MS) and keeps its
//   connection and lease across such a short flap, so HAOS takes a new segment's address only at its next boot.
import { parse } from 'yaml';
import type { SimLab, SimVm } from '../lab.ts';
import { scaledSeconds } from '../sim-time.ts';
import { discover, renewLease } from './dhcp.ts';
import { parseIpv4Cidr } from './ipv4.ts';
import { vmNics, type VmNic } from './segments.ts';
import type { GuestNet, NicConfig } from './state.ts';

/** A DHCP exchange on a quiet segment. */
const DHCP_SECONDS = 1;
/** sd-dhcp-client retransmits DISCOVER with exponential backoff (2, 4, 8 … 64 s); a retry finds a new server. */
const DHCP_RETRY_SECONDS = 10;

type Netplan = Record<string, unknown>;
const record = (v: unknown): Netplan | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Netplan) : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** netplan merges its files in name order: a later file adds new keys and overrides the same keys. */
function mergeNetplan(texts: string[]): Record<string, Netplan> {
  const ethernets: Record<string, Netplan> = {};
  for (const text of texts) {
    let doc: unknown;
    try {
      doc = parse(text);
    } catch {
      continue; // netplan refuses a broken file; the simulator ignores it
    }
    const entries = record(record(record(doc)?.network)?.ethernets) ?? {};
    for (const [name, entry] of Object.entries(entries)) ethernets[name] = { ...(ethernets[name] ?? {}), ...(record(entry) ?? {}) };
  }
  return ethernets;
}

/** The kernel's name for a NIC (PCI slot 18 + n): systemd's `ens18` on Debian, `enp0s18` on HAOS. */
const kernelName = (nic: VmNic, stack: GuestNet['stack']): string => `${stack === 'networkmanager' ? 'enp0s' : 'ens'}${18 + Number(nic.netKey.slice(3))}`;

/** The NICs' configuration as networkd reads it from netplan (or cloud-init's fallback, or NetworkManager's default). */
export function nicConfigs(nics: VmNic[], stack: GuestNet['stack'], netplanTexts: string[]): NicConfig[] {
  const blank = (nic: VmNic, name = kernelName(nic, stack)): NicConfig => ({ netKey: nic.netKey, name, mac: nic.mac, dhcp4: false, addresses: [], routes: [], nameservers: [] });
  if (stack === 'networkmanager') return nics.map((nic) => ({ ...blank(nic), dhcp4: true }));
  const ethernets = mergeNetplan(netplanTexts);
  if (Object.keys(ethernets).length === 0) return nics.map((nic, i) => ({ ...blank(nic), dhcp4: i === 0 }));
  return nics.map((nic) => {
    const [key, entry] =
      Object.entries(ethernets).find(([, e]) => String(record(e.match)?.macaddress ?? '').toUpperCase() === nic.mac) ??
      Object.entries(ethernets).find(([name, e]) => !e.match && name === kernelName(nic, stack)) ??
      [];
    if (!entry) return blank(nic);
    const name = typeof entry['set-name'] === 'string' ? entry['set-name'] : key!;
    const routes = list(entry.routes).flatMap((r) => {
      const route = record(r);
      return route && typeof route.to === 'string' && typeof route.via === 'string' ? [{ to: route.to, via: route.via }] : [];
    });
    if (typeof entry.gateway4 === 'string') routes.push({ to: 'default', via: entry.gateway4 });
    return {
      ...blank(nic, name),
      dhcp4: entry.dhcp4 === true || entry.dhcp4 === 'yes' || entry.dhcp4 === 'true',
      addresses: list(entry.addresses).filter((a): a is string => typeof a === 'string' && !!parseIpv4Cidr(a)),
      routes,
      nameservers: list(record(entry.nameservers)?.addresses).filter((a): a is string => typeof a === 'string'),
    };
  });
}

const stackOf = (vm: SimVm): GuestNet['stack'] => (vm.boot?.os === 'haos' ? 'networkmanager' : 'networkd');

/** DHCP on one NIC from scratch: a lease after the exchange, or a client that keeps looking. */
function startDhcp(lab: SimLab, vmid: number, net: GuestNet, netKey: string, boundAt: number): void {
  net.leases.delete(netKey);
  net.discovering.delete(netKey);
  const lease = discover(lab, vmid, netKey, boundAt);
  if (lease) net.leases.set(netKey, lease);
  else net.discovering.set(netKey, Date.now());
}

/** At boot: the stack reads its configuration and brings every NIC up (Debian and HAOS; not OPNsense). */
export function bringUp(lab: SimLab, vmid: number, netplanTexts: string[]): void {
  const vm = lab.vm(vmid);
  if (vm.boot?.os !== 'debian-13' && vm.boot?.os !== 'haos') return;
  const stack = stackOf(vm);
  const net: GuestNet = { stack, nics: nicConfigs(vmNics(vm), stack, netplanTexts), leases: new Map(), discovering: new Map(), runtimeRoutes: [] };
  lab.netState.guests.set(vmid, net);
  for (const nic of net.nics) if (nic.dhcp4) startDhcp(lab, vmid, net, nic.netKey, Date.now());
}

/** Stop, shutdown, reboot: the guest's network stack is gone (the servers keep their bindings). */
export function bringDown(lab: SimLab, vmid: number): void {
  lab.netState.guests.delete(vmid);
}

const scaled = (lab: SimLab, seconds: number): number => scaledSeconds(seconds, lab.taskSeconds()) * 1000;

/** networkd on a carrier loss and regain: dynamic configuration dropped, DHCP from the start. */
function carrierFlap(lab: SimLab, vmid: number, net: GuestNet, config: NicConfig): void {
  if (net.stack === 'networkmanager') return;
  net.runtimeRoutes = net.runtimeRoutes.filter((r) => r.dev !== config.name);
  if (config.dhcp4) startDhcp(lab, vmid, net, config.netKey, Date.now() + scaled(lab, DHCP_SECONDS));
}

/**
 * After qemu-server changed a running VM's NICs: a changed bridge, VLAN tag or link state flaps the carrier; a new NIC
 * appears (networkd configures it only when its configuration matches it); a removed one disappears.
 */
export function nicsChanged(lab: SimLab, vm: SimVm, before: VmNic[]): void {
  const net = lab.netState.guests.get(vm.vmid);
  if (!net) return;
  const after = vmNics(vm);
  net.nics = net.nics.filter((c) => after.some((n) => n.netKey === c.netKey));
  for (const netKey of [...net.leases.keys()]) if (!after.some((n) => n.netKey === netKey)) net.leases.delete(netKey);
  for (const nic of after) {
    const old = before.find((n) => n.netKey === nic.netKey);
    const config = net.nics.find((c) => c.netKey === nic.netKey);
    if (!old || !config) {
      if (!old) {
        const [added] = nicConfigs([nic], net.stack, []);
        if (net.stack === 'networkmanager' && added) {
          net.nics.push(added);
          startDhcp(lab, vm.vmid, net, nic.netKey, Date.now() + scaled(lab, DHCP_SECONDS));
        }
      }
      continue;
    }
    if (nic.linkDown) {
      if (net.stack === 'networkd') net.leases.delete(nic.netKey);
      continue;
    }
    if (old.bridge !== nic.bridge || old.tag !== nic.tag || old.linkDown) carrierFlap(lab, vm.vmid, net, config);
  }
}

/** DHCP clients still looking find a server that has appeared since (their next DISCOVER retransmission). */
export function refresh(lab: SimLab, vmid: number): void {
  const net = lab.netState.guests.get(vmid);
  if (!net) return;
  for (const netKey of [...net.discovering.keys()]) {
    const lease = discover(lab, vmid, netKey, Date.now() + scaled(lab, DHCP_RETRY_SECONDS));
    if (!lease) continue;
    net.discovering.delete(netKey);
    net.leases.set(netKey, lease);
  }
}

/** Every guest's pending DHCP clients (whoever looks at the network sees the same moment). */
export function refreshAll(lab: SimLab): void {
  for (const vmid of [...lab.netState.guests.keys()]) refresh(lab, vmid);
}

/** `networkctl renew IFACE`: a REQUEST to the lease's own server (dhcp.ts renewLease). False: no such interface. */
export function renew(lab: SimLab, vmid: number, name: string): boolean {
  const net = lab.netState.guests.get(vmid);
  const config = net?.nics.find((c) => c.name === name);
  if (!net || !config) return false;
  const lease = net.leases.get(config.netKey);
  if (lease) net.leases.set(config.netKey, renewLease(lab, vmid, config.netKey, lease));
  return true;
}

/** `networkctl reconfigure IFACE`: the link's configuration dropped and applied again, DHCP from the start. */
export function reconfigure(lab: SimLab, vmid: number, name: string): boolean {
  const net = lab.netState.guests.get(vmid);
  const config = net?.nics.find((c) => c.name === name);
  if (!net || !config) return false;
  net.runtimeRoutes = net.runtimeRoutes.filter((r) => r.dev !== config.name);
  net.leases.delete(config.netKey);
  net.discovering.delete(config.netKey);
  if (config.dhcp4) startDhcp(lab, vmid, net, config.netKey, Date.now() + scaled(lab, DHCP_SECONDS));
  return true;
}

/** `netplan apply`: the configuration read again and every interface reconfigured with it. */
export function netplanApply(lab: SimLab, vmid: number, netplanTexts: string[]): void {
  const net = lab.netState.guests.get(vmid);
  if (!net || net.stack !== 'networkd') return;
  net.nics = nicConfigs(vmNics(lab.vm(vmid)), net.stack, netplanTexts);
  net.runtimeRoutes = [];
  for (const config of net.nics) {
    net.leases.delete(config.netKey);
    net.discovering.delete(config.netKey);
    if (config.dhcp4) startDhcp(lab, vmid, net, config.netKey, Date.now() + scaled(lab, DHCP_SECONDS));
  }
}
