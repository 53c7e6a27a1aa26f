// How the simulator keeps firewall configuration (cluster.fw, host.fw, <vmid>.fw), apart from the lab so the
// firewall's own modules (sim/net/) can use the shapes without importing the lab.

export type FwRule = Record<string, string | number> & { type: string; action: string };

export interface FirewallScope {
  options: Record<string, string | number>;
  rules: FwRule[];
}

export interface ClusterFirewall extends FirewallScope {
  groups: Map<string, { comment?: string; rules: FwRule[] }>;
  ipsets: Map<string, { comment?: string; entries: Array<{ cidr: string; nomatch?: number; comment?: string }> }>;
  aliases: Map<string, { cidr: string; comment?: string }>;
}
