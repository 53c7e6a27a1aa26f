// The environment file `jarvis bootstrap` installs on edge-gateway: the settings this CLI runs with (Proxmox, its node's
// SSH host and pin, Tailscale, chat, approvers, alert settings) carried over, with the gateway's own paths instead of
// this machine's. Secrets given as files here are carried as values (their paths mean nothing there); the files the
// gateway needs (the Tailscale auth key, a CA certificate) travel beside it.
import { readFileSync } from 'node:fs';
import { type JarvisConfig, PLAIN_VARIABLES, readSecret, SECRET_VARIABLES } from '../../lib/config.ts';
import { Secret } from '../../lib/secret.ts';

export const GATEWAY_PATHS = {
  dataDir: '/var/lib/jarvis',
  specsDir: '/etc/jarvis/specs',
  keyPath: '/etc/jarvis/id_ed25519',
  authKeyFile: '/etc/jarvis/tailscale-authkey',
  caFile: '/etc/jarvis/pve-root-ca.pem',
} as const;

/** Settings about this machine, not the gateway: replaced below, or left out. */
const NOT_CARRIED = new Set([
  'JARVIS_ENV_FILE',
  'JARVIS_SITE_FILE',
  'JARVIS_GATEWAY_ADDRESS',
  'JARVIS_DATA_DIR',
  'JARVIS_SPECS_DIR',
  'JARVIS_DEBUG',
  'SSH_AUTH_SOCK',
  'SSH_KEY_PATH',
  'SSH_KEY_PASSPHRASE',
  'SSH_HOSTS',
  'SSH_HOST_PINS',
  'SSH_USER',
  'TAILSCALE_AUTHKEY_FILE',
  'PROXMOX_CA_FILE',
]);

/** `NAME=value`, double-quoted when the value has spaces, quotes or `#` (systemd and Node read both). */
function line(name: string, value: string): string {
  return /[\s"'#\\]/.test(value) ? `${name}="${value.replace(/["\\]/g, '\\$&')}"` : `${name}=${value}`;
}

export interface GatewayEnv {
  /** The file's text, secrets included: it travels on standard input only. */
  text: Secret;
  /** Files installed beside it (root:jarvis 0640), by their gateway path. */
  files: Array<{ path: string; content: Secret }>;
}

export function composeGatewayEnv(env: NodeJS.ProcessEnv, config: JarvisConfig): GatewayEnv {
  const lines = ['# Written by `jarvis bootstrap` from the settings it ran with; yours to edit (upgrades keep it).'];
  for (const name of PLAIN_VARIABLES) {
    const value = env[name];
    if (value && !NOT_CARRIED.has(name)) lines.push(line(name, value));
  }
  for (const name of SECRET_VARIABLES) {
    if (NOT_CARRIED.has(name)) continue;
    const secret = readSecret(env, name);
    if (secret) lines.push(line(name, secret.reveal()));
  }
  const px = config.proxmox;
  const node = px?.node ?? 'proxmox';
  const nodeHost = config.ssh.hosts[node];
  lines.push(line('JARVIS_DATA_DIR', GATEWAY_PATHS.dataDir), line('JARVIS_SPECS_DIR', GATEWAY_PATHS.specsDir), line('SSH_KEY_PATH', GATEWAY_PATHS.keyPath), line('SSH_USER', config.ssh.user));
  if (nodeHost) lines.push(line('SSH_HOSTS', `${node}=${nodeHost.host}:${nodeHost.port}`));
  if (config.ssh.pins[node]) lines.push(line('SSH_HOST_PINS', `${node}=${config.ssh.pins[node]}`));
  const files: GatewayEnv['files'] = [];
  if (config.tailscale.authKeyFile) {
    lines.push(line('TAILSCALE_AUTHKEY_FILE', GATEWAY_PATHS.authKeyFile));
    files.push({ path: GATEWAY_PATHS.authKeyFile, content: new Secret(readFileSync(config.tailscale.authKeyFile, 'utf8')) });
  }
  if (px?.caPem) {
    lines.push(line('PROXMOX_CA_FILE', GATEWAY_PATHS.caFile));
    files.push({ path: GATEWAY_PATHS.caFile, content: new Secret(px.caPem) });
  }
  return { text: new Secret(`${lines.join('\n')}\n`), files };
}
