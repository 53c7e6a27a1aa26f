// How PVE reads the node's network configuration back, for GET /nodes/{node}/network (pve-common
// src/PVE/Network/Interfaces.pm __read_etc_network_interfaces, pve-manager PVE/API2/Network.pm index):
// - `autostart: 1` only for an interface with an `auto`/`allow-*` line; otherwise the key is absent;
// - `active: 1` only for an interface that is up (IFF_UP, ProcFSTools get_active_network_interfaces); ifreload brings
//   up the `auto` interfaces and what they need (a bridge's ports, a VLAN's raw device, an OVS port's bridge);
// - `exists: 1` for a physical NIC; a VLAN (`vmbr0.10`, or one with `vlan-raw-device`) or alias (`eth0:1`) copies
//   its raw device's value, which a bridge or bond does not have: JSON `null`. A raw device missing from the file
//   gives 0. Bridges, bonds and OVS interfaces carry no `exists`.
import type { NetIface } from './lab.ts';

/** pve-common src/PVE/Network/Interfaces.pm $PHYSICAL_NIC_RE (eth0, eno1, enp3s0, ib0, nic0, if0). */
const PHYSICAL_NIC = /^(?:eth\d+|en[^:.]+|ib[^:.]+|(?:nic|if)\d+)$/;

const words = (value: unknown): string[] => (typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : []);

function rawDeviceOf(iface: NetIface): string | undefined {
  if (typeof iface['vlan-raw-device'] === 'string') return iface['vlan-raw-device'];
  return /^(\S+)\.\d+$/.exec(iface.iface)?.[1] ?? /^(\S+):\d+$/.exec(iface.iface)?.[1];
}

/** What bringing `iface` up brings up with it. */
function dependencies(iface: NetIface): string[] {
  const raw = rawDeviceOf(iface);
  return [
    ...words(iface.bridge_ports),
    ...words(iface.ovs_ports),
    ...words(iface.slaves),
    ...(typeof iface.ovs_bridge === 'string' ? [iface.ovs_bridge] : []),
    ...(raw ? [raw] : []),
  ];
}

/** Interfaces that are up after `ifreload -a` of this running configuration. */
export function upInterfaces(running: ReadonlyMap<string, NetIface>): Set<string> {
  const up = new Set<string>();
  const visit = (name: string): void => {
    const iface = running.get(name);
    if (!iface || up.has(name)) return;
    up.add(name);
    dependencies(iface).forEach(visit);
  };
  for (const iface of running.values()) if (iface.type === 'loopback' || Number(iface.autostart ?? 0) === 1) visit(iface.iface);
  return up;
}

const isPhysical = (iface: NetIface): boolean => (iface.type === 'eth' || iface.type === 'OVSPort') && PHYSICAL_NIC.test(iface.iface);

/** The `exists` key of a row: 1, 0, null (a raw device without one), or no key at all (undefined). */
export function existsOf(config: ReadonlyMap<string, NetIface>, iface: NetIface): 1 | 0 | null | undefined {
  if (isPhysical(iface)) return 1;
  if (iface.type !== 'vlan' && iface.type !== 'alias') return undefined;
  const raw = config.get(rawDeviceOf(iface) ?? '');
  if (!raw) return 0;
  return isPhysical(raw) ? 1 : null;
}

/** One row of the list: the (staged) configuration plus the runtime keys PVE adds. */
export function listRow(config: ReadonlyMap<string, NetIface>, iface: NetIface, up: ReadonlySet<string>): Record<string, unknown> {
  const { autostart, ...rest } = iface;
  const row: Record<string, unknown> = { ...rest };
  if (Number(autostart ?? 0) === 1) row.autostart = 1;
  if (up.has(iface.iface)) row.active = 1;
  const exists = existsOf(config, iface);
  if (exists !== undefined) row.exists = exists;
  return row;
}

const OPTIONS = ['address', 'gateway', 'bridge_ports', 'bridge_stp', 'bridge_fd', 'bridge_vlan_aware', 'ovs_type', 'ovs_ports', 'ovs_bridge', 'ovs_options', 'vlan-raw-device', 'mtu'];

/** /etc/network/interfaces as PVE writes it, one stanza per interface. */
export function renderInterfaces(ifaces: ReadonlyMap<string, NetIface>): string[] {
  const lines: string[] = [];
  for (const iface of [...ifaces.values()].sort((a, b) => (a.type === 'loopback' ? -1 : b.type === 'loopback' ? 1 : a.iface.localeCompare(b.iface)))) {
    if (Number(iface.autostart ?? 0) === 1) lines.push(`auto ${iface.iface}`);
    lines.push(`iface ${iface.iface} inet ${iface.method ?? 'manual'}`);
    for (const key of OPTIONS) {
      const value = iface[key];
      if (value === undefined) continue;
      const text = key === 'address' && iface.netmask ? `${value}/${iface.netmask}` : String(value);
      lines.push(`\t${key.startsWith('ovs_') ? key : key.replace(/_/g, '-')} ${key === 'bridge_ports' && text === '' ? 'none' : text}`);
    }
    if (iface.type === 'bridge' && iface.bridge_ports === undefined) lines.push('\tbridge-ports none');
    if (typeof iface.comments === 'string') for (const comment of iface.comments.split('\n').filter(Boolean)) lines.push(`#${comment}`);
    lines.push('');
  }
  return lines;
}
