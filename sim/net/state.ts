// The simulated network's state, kept by the lab: what each running guest's network stack holds (its interfaces'
// configuration, DHCP leases, routes added at run time), the DHCP servers' bindings, the router the owner
// configured, and the network faults. Behaviour lives in the other sim/net modules.
import type { RouterConfig } from './router-config.ts';

/** A DHCP lease as the client holds it (RFC 2131: address, subnet mask, router and DNS options, server id). */
export interface Lease {
  ip: string;
  prefix: number;
  gateway?: string;
  dns: string[];
  /** The DHCP server identifier (option 54): where a RENEW is unicast. */
  server: string;
  /** Epoch ms from which the address is configured (the DHCP exchange takes a moment). */
  boundAt: number;
}

/** One interface as the guest's network stack configured it (netplan for systemd-networkd, NetworkManager's default). */
export interface NicConfig {
  netKey: string;
  name: string;
  mac: string;
  dhcp4: boolean;
  /** Static addresses, CIDR form. */
  addresses: string[];
  /** Static routes; `to: 'default'` is a default route. */
  routes: Array<{ to: string; via: string }>;
  nameservers: string[];
}

export interface RuntimeRoute {
  to: string;
  via?: string;
  dev: string;
}

/** A running guest's network stack. */
export interface GuestNet {
  /** Debian cloud images: netplan + systemd-networkd; Home Assistant OS: NetworkManager. */
  stack: 'networkd' | 'networkmanager';
  nics: NicConfig[];
  leases: Map<string, Lease>;
  /** DHCP clients still looking for a server (netKey → since when, epoch ms). */
  discovering: Map<string, number>;
  /** `ip route add` since boot (gone at the next boot). */
  runtimeRoutes: RuntimeRoute[];
}

/** Network faults (--fault router:…): a router that does not route, a segment without DHCP. */
export interface NetFaults {
  routerNotRouting: boolean;
  noDhcpOn: Set<string>;
}

export class NetState {
  readonly guests = new Map<number, GuestNet>();
  /** Addresses DHCP servers bound to MACs (server address → MAC → IP), so a client gets its address back. */
  readonly bindings = new Map<string, Map<string, string>>();
  /** The home router's DHCP reservations (MAC → IP), as an owner sets them for the LAN's fixed guests. */
  readonly lanReservations = new Map<string, string>();
  /** OPNsense as the owner installed and configured it (lab.ownerConfiguresRouter). */
  router?: RouterConfig & { vmid: number };
  faults: NetFaults = { routerNotRouting: false, noDhcpOn: new Set() };
}
