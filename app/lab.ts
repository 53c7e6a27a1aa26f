// Opens the lab Jarvis manages: the real one named by the configuration, or an in-process simulated one (demo,
// `--sim SCENARIO`). Either way the rest of Jarvis gets the same ports: Proxmox API, shells, tailnet.
import type { ProxmoxApi } from '../infra/proxmox/api.ts';
import type { RemoteShell } from '../infra/shell.ts';
import type { TailnetApi } from '../infra/tailscale/api.ts';
import type { JarvisConfig } from '../lib/config.ts';
import { InputError } from '../lib/errors.ts';
import { Secret, registerSecret } from '../lib/secret.ts';
import { createAgentShell } from '../infra/proxmox/agent-shell.ts';
import { createProxmoxClient, type ProxmoxClient } from '../infra/proxmox/client.ts';
import { createTailnetClient } from '../infra/tailscale/client.ts';
import { PVE_FIREWALL_CYCLE_MS } from '../deploy/context.ts';
import { simHostShell } from './sim-shells.ts';

// Follow tasks closely: apply's wall time tracks the tasks' own durations (bench: wall / critical path).
const TASK_POLLING = { maxDelayMs: 500 };

export interface LabPorts {
  pve: ProxmoxClient;
  hostShell?: RemoteShell;
  guestShell: (vmid: number) => RemoteShell | undefined;
  tailnet?: TailnetApi;
}

export interface Lab {
  ports: LabPorts;
  /** Where commit-confirm probes management access (TCP connects). */
  mgmt: { host: string; apiPort: number; sshPort: number };
  /** pve-firewall's update cycle on this node: 10 s on a real one (or JARVIS_FIREWALL_CYCLE_SECONDS), scaled in a simulator. */
  firewallCycleMs: number;
  /** Human name for messages: the URL, or "simulated lab (scenario)". */
  describe: string;
  /** The in-process simulator, when this lab is simulated (tests and the demo reach into it). */
  sim?: import('../sim/server.ts').RunningSim;
  /** The site file of a simulated node, which its plans read instead of the specs' own (sim/site.yaml). */
  site?: string;
  close(): Promise<void>;
}

export interface SimLabOptions {
  scenario: string;
  latencyMs?: number;
  taskSeconds?: number;
  largeCount?: number;
}

function portsFor(pve: ProxmoxClient, tailnet: TailnetApi | undefined, hostShell: RemoteShell | undefined): LabPorts {
  const agentShells = new Map<number, RemoteShell>();
  return {
    pve,
    tailnet,
    hostShell,
    guestShell: (vmid) => {
      let shell = agentShells.get(vmid);
      if (!shell) {
        shell = createAgentShell(pve as ProxmoxApi, vmid, `vm/${vmid}`);
        agentShells.set(vmid, shell);
      }
      return shell;
    },
  };
}

/** Starts the simulator in this process and connects to it exactly as to a real node (HTTPS, pinned, token). */
export async function openSimLab(options: SimLabOptions): Promise<Lab> {
  const { startSim } = await import('../sim/server.ts');
  const sim = await startSim({
    scenario: options.scenario as never,
    latencyMs: options.latencyMs,
    taskSeconds: options.taskSeconds ?? 0.3,
    largeCount: options.largeCount,
  });
  const tokenSecret = registerSecret(new Secret(sim.tokenSecret));
  const pve = createProxmoxClient({ url: sim.url, node: sim.node, tokenId: sim.tokenId, tokenSecret, fingerprint: sim.fingerprint, taskPolling: TASK_POLLING });
  const tailnet = createTailnetClient({ baseUrl: sim.tailscaleUrl, tailnet: '-', apiKey: registerSecret(new Secret(sim.tailscaleApiKey)) });
  // The simulated guests and node run commands for real in sandboxes, so facts and provisioning work as on a lab.
  const hostShell = simHostShell(sim);
  const url = new URL(sim.url);
  return {
    ports: portsFor(pve, tailnet, hostShell),
    mgmt: { host: url.hostname, apiPort: Number(url.port), sshPort: sim.mgmtSshPort },
    firewallCycleMs: sim.lab.firewall.cycleSeconds() * 1000,
    describe: `simulated lab (scenario ${options.scenario})`,
    sim,
    site: sim.siteFile,
    close: async () => {
      await hostShell.close();
      await tailnet.close();
      await pve.close();
      await sim.close();
    },
  };
}

/**
 * Connects to the lab named by the configuration. `otherwise` ends the "no lab configured" error with what else the
 * caller offers (e.g. its `--sim SCENARIO` option).
 */
export async function openConfiguredLab(config: JarvisConfig, otherwise?: string): Promise<Lab> {
  const px = config.proxmox;
  if (!px) {
    throw new InputError(
      `no lab configured: set PROXMOX_URL, PROXMOX_TOKEN_ID, PROXMOX_TOKEN_SECRET and PROXMOX_FINGERPRINT (see .env.example)${otherwise ? `, ${otherwise}` : ''}`,
    );
  }
  const pve = createProxmoxClient({
    url: px.url,
    node: px.node,
    tokenId: px.tokenId,
    tokenSecret: px.tokenSecret,
    fingerprint: px.fingerprint,
    caPem: px.caPem,
    timeoutMs: px.timeoutMs,
    taskPolling: TASK_POLLING,
  });
  const ts = config.tailscale;
  const tailnet =
    ts.apiKey || ts.oauth ? createTailnetClient({ baseUrl: ts.apiUrl, tailnet: ts.tailnet, apiKey: ts.apiKey, oauth: ts.oauth }) : undefined;
  let hostShell: RemoteShell | undefined;
  const hostEntry = config.ssh.hosts[px.node];
  if (hostEntry) {
    const pin = config.ssh.pins[px.node];
    if (!pin) throw new InputError(`SSH_HOST_PINS has no pin for ${px.node}: Jarvis never accepts an unpinned host key`);
    const { createSshShell } = await import('../infra/ssh/client.ts');
    hostShell = createSshShell({
      host: px.node,
      address: hostEntry.host,
      port: hostEntry.port,
      username: config.ssh.user,
      auth: config.ssh.keyPath
        ? { kind: 'key', privateKeyPath: config.ssh.keyPath, passphrase: config.ssh.keyPassphrase }
        : { kind: 'agent', socket: process.env.SSH_AUTH_SOCK ?? '' },
      fingerprint: pin,
    });
  }
  const url = new URL(px.url);
  return {
    ports: portsFor(pve, tailnet, hostShell),
    mgmt: { host: config.mgmt.host ?? url.hostname, apiPort: Number(url.port || 8006), sshPort: config.mgmt.sshPort },
    firewallCycleMs: (config.apply.firewallCycleSeconds ?? PVE_FIREWALL_CYCLE_MS / 1000) * 1000,
    describe: px.url,
    close: async () => {
      await hostShell?.close();
      await tailnet?.close();
      await pve.close();
    },
  };
}
