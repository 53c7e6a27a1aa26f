// The Tailscale API v2 subset Jarvis uses, as an interface: implemented by the HTTPS client (infra/tailscale/client.ts)
// and served by the simulated tailnet. Field names are the API's own (Tailscale API v2,
// https://tailscale.com/api).

export interface TailnetDevice {
  id: string;
  nodeId: string;
  name: string;
  hostname: string;
  addresses: string[];
  os?: string;
  authorized: boolean;
  connectedToControl?: boolean;
  lastSeen?: string;
  expires?: string;
  keyExpiryDisabled: boolean;
  advertisedRoutes: string[];
  enabledRoutes: string[];
  tags?: string[];
}

export interface TailnetPolicy {
  nodeAttrs?: Array<{ target: string[]; attr: string[] }>;
  [key: string]: unknown;
}

export interface TailnetApi {
  listDevices(): Promise<TailnetDevice[]>;
  getPolicy(): Promise<TailnetPolicy>;
  /** Replaces the device's enabled routes (POST /device/{id}/routes). */
  setEnabledRoutes(nodeId: string, routes: string[]): Promise<void>;
}
