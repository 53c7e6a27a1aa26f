// The monitor's ports from the configuration: the Proxmox client, and the tailnet client when Tailscale credentials
// are configured. The `--sim` paths use sim-connect.ts instead.
import type { JarvisConfig } from '../lib/config.ts';
import { InputError } from '../lib/errors.ts';
import { createProxmoxClient, type ProxmoxClient } from '../infra/proxmox/client.ts';
import { createTailnetClient, type TailnetClient } from '../infra/tailscale/client.ts';
import type { MonitorPorts } from './collect.ts';

export interface MonitorConnection {
  ports: MonitorPorts;
  /** The Proxmox URL, for messages. */
  url: string;
  proxmox: ProxmoxClient;
  close(): Promise<void>;
}

export function connectFromConfig(config: JarvisConfig): MonitorConnection {
  const pve = config.proxmox;
  if (!pve) {
    throw new InputError('Proxmox is not configured: set PROXMOX_URL, PROXMOX_TOKEN_ID, PROXMOX_TOKEN_SECRET and PROXMOX_FINGERPRINT (or use --sim SCENARIO)');
  }
  const proxmox = createProxmoxClient({
    url: pve.url,
    node: pve.node,
    tokenId: pve.tokenId,
    tokenSecret: pve.tokenSecret,
    fingerprint: pve.fingerprint,
    caPem: pve.caPem,
    timeoutMs: pve.timeoutMs,
  });
  const ts = config.tailscale;
  const tailnet: TailnetClient | undefined =
    ts.apiKey || ts.oauth ? createTailnetClient({ baseUrl: ts.apiUrl, tailnet: ts.tailnet, apiKey: ts.apiKey, oauth: ts.oauth }) : undefined;
  return {
    ports: { proxmox, tailnet },
    url: pve.url,
    proxmox,
    close: async () => {
      await Promise.all([proxmox.close(), tailnet?.close()]);
    },
  };
}
