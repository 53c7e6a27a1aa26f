// Configuration comes from the environment only (.env.example lists every variable). Any secret may instead be given
// as a file path in NAME_FILE. Validation happens once, at start-up; an invalid value stops the process with the
// variable's name and the reason, never its value.
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { isLoopbackHost } from './addresses.ts';
import { InputError } from './errors.ts';
import { Secret, registerSecret } from './secret.ts';

const FINGERPRINT = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/i;
const SSH_FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** Reads NAME, or the file named by NAME_FILE (trailing newline dropped). Both set is an error. */
export function readSecret(env: NodeJS.ProcessEnv, name: string): Secret | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct && file) throw new InputError(`${name} and ${name}_FILE are both set; keep one`);
  if (direct) return registerSecret(new Secret(direct));
  if (!file) return undefined;
  let text: string;
  try {
    if (statSync(file).size > 64 * 1024) throw new Error('larger than 64 KiB');
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError(`${name}_FILE=${file}: cannot read the secret file (${(error as Error).message})`, { cause: error });
  }
  const value = text.replace(/\r?\n$/, '');
  if (!value) throw new InputError(`${name}_FILE=${file}: the file is empty`);
  return registerSecret(new Secret(value));
}

const optionalString = z.string().trim().min(1).optional();
const boolFromEnv = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const envSchema = z.object({
  PROXMOX_URL: z
    .string()
    .url()
    .refine((u) => u.startsWith('https://'), 'must start with https:// (Proxmox serves its API over TLS only)')
    .optional(),
  PROXMOX_NODE: z.string().regex(/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/).default('proxmox'),
  PROXMOX_TOKEN_ID: z
    .string()
    .regex(/^[^@!\s]+@[^@!\s]+![A-Za-z][A-Za-z0-9._-]*$/, 'must look like user@realm!tokenname')
    .optional(),
  PROXMOX_FINGERPRINT: z.string().regex(FINGERPRINT, 'must be the SHA-256 fingerprint as AA:BB:… (32 bytes)').optional(),
  PROXMOX_CA_FILE: optionalString,
  PROXMOX_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
  /** The address Jarvis probes (TCP 8006 and 22) to confirm management access after a firewall/network change. */
  JARVIS_MGMT_HOST: optionalString,
  JARVIS_MGMT_SSH_PORT: z.coerce.number().int().min(1).max(65535).default(22),

  SSH_KEY_PATH: optionalString,
  SSH_USER: z.string().default('root'),
  /** Pinned host keys: `name=SHA256:…` comma-separated, e.g. `proxmox=SHA256:abc…,app-host=SHA256:def…`. */
  SSH_HOST_PINS: z.string().optional(),
  /** Addresses for SSH hosts: `name=host[:port]` comma-separated. */
  SSH_HOSTS: z.string().optional(),

  /** https only: the API key or OAuth token travels with every request. Plain http only for a test server on loopback. */
  TAILSCALE_API_URL: z
    .string()
    .url()
    .refine((u) => {
      const url = new URL(u);
      return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
    }, 'must start with https:// (plain http:// only for a test server on 127.0.0.1 or localhost)')
    .default('https://api.tailscale.com'),
  TAILSCALE_TAILNET: z.string().default('-'),
  TAILSCALE_OAUTH_CLIENT_ID: optionalString,
  TAILSCALE_AUTHKEY_FILE: optionalString,

  DISCORD_APP_ID: optionalString,
  DISCORD_GUILD_ID: optionalString,
  DISCORD_ALERT_CHANNEL_ID: optionalString,
  DISCORD_API_BASE: z.string().url().optional(),
  SLACK_ALERT_CHANNEL: optionalString,
  SLACK_API_URL: z.string().url().optional(),
  /** Slack HTTP mode only: the address to listen on (never 0.0.0.0 unless you name it). */
  SLACK_HTTP_LISTEN: optionalString,

  JARVIS_APPROVERS: z.string().optional(),
  /** Discord role ids / Slack user-group ids whose members may approve: `discord:<roleId>,slack:S0…`. */
  JARVIS_APPROVER_GROUPS: z.string().optional(),
  /** Approvals required by maximum risk, e.g. `high=1,critical=2`. */
  JARVIS_APPROVALS_REQUIRED: z.string().optional(),
  /** May the requester approve their own plan (a one-owner lab: yes). */
  JARVIS_SELF_APPROVAL: z.enum(['true', 'false']).default('true'),
  JARVIS_DATA_DIR: z.string().optional(),
  /** Where the desired-state specs and the site file live (on edge-gateway: /etc/jarvis/specs, outside the code tree). */
  JARVIS_SPECS_DIR: z.string().default('specs'),
  /** The site file to use instead of the one each spec names (`site:`): the demo and `jarvis sim` name the simulated node's. */
  JARVIS_SITE_FILE: optionalString,
  /** The VM Jarvis itself runs in: plans say when they take it offline, and chat never rolls it back. */
  JARVIS_SELF_VMID: z.coerce.number().int().min(100).max(999_999_999).default(100),
  /** Where `jarvis bootstrap` reaches that VM by SSH, HOST[:PORT] (default: the address its guest agent reports). */
  JARVIS_GATEWAY_ADDRESS: z.string().regex(/^[A-Za-z0-9.:-]+$/, 'must be host or host:port').optional(),
  JARVIS_APPROVAL_TTL_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(30),
  JARVIS_SECOND_APPROVER_FOR_CRITICAL: boolFromEnv.default(false),
  JARVIS_SNAPSHOT_RETENTION: z.coerce.number().int().min(1).max(50).default(3),
  /** Overrides the spec's safetyGuards.confirmWindowSeconds for commit-confirmed firewall/network changes. */
  JARVIS_CONFIRM_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).optional(),
  /** pve-firewall's update cycle on the node in seconds (pve_firewall.pm `$updatetime`, 10): commit-confirm probes span two. */
  JARVIS_FIREWALL_CYCLE_SECONDS: z.coerce.number().min(0.01).max(600).optional(),
  /** Storage for the vzdump fallback when a VM's storage cannot snapshot (PVE's default when unset). */
  JARVIS_BACKUP_STORAGE: z.string().regex(/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i, 'must be a PVE storage id').optional(),
  JARVIS_BACKUP_WARN_HOURS: z.coerce.number().int().min(1).default(26),
  JARVIS_BACKUP_CRIT_HOURS: z.coerce.number().int().min(1).default(50),
  JARVIS_SNAPSHOT_MAX_AGE_HOURS: z.coerce.number().int().min(1).default(26),
  JARVIS_STORAGE_WARN_PERCENT: z.coerce.number().int().min(1).max(100).default(80),
  JARVIS_KEY_EXPIRY_WARN_DAYS: z.coerce.number().int().min(1).default(14),
  JARVIS_ALERT_COOLDOWN_MINUTES: z.coerce.number().int().min(0).default(360),
  /** `HH:MM-HH:MM` local time; alerts are held (not dropped) during quiet hours. */
  JARVIS_QUIET_HOURS: z
    .string()
    .regex(/^\d{2}:\d{2}-\d{2}:\d{2}$/, 'must be HH:MM-HH:MM')
    .optional(),
  JARVIS_WATCH_SCHEDULE: z.string().default('*/10 * * * *'),
  JARVIS_WEBHOOK_LISTEN: optionalString,
  /** Allow the webhook receiver on 0.0.0.0/:: (it still warns). */
  JARVIS_WEBHOOK_ALLOW_WILDCARD: boolFromEnv.default(false),
  /** Which phase the drift watch plans against (or `off`), and optionally which spec. */
  JARVIS_DRIFT_PHASE: z.enum(['phase0', 'phase1', 'phase2', 'firewall', 'off']).default('phase0'),
  JARVIS_DRIFT_SPEC: optionalString,
  JARVIS_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type ProxmoxConfig = {
  url: string;
  node: string;
  tokenId: string;
  tokenSecret: Secret;
  fingerprint?: string;
  caPem?: string;
  timeoutMs: number;
};

export interface JarvisConfig {
  proxmox?: ProxmoxConfig;
  mgmt: { host?: string; sshPort: number };
  ssh: { keyPath?: string; keyPassphrase?: Secret; user: string; pins: Record<string, string>; hosts: Record<string, { host: string; port: number }> };
  tailscale: {
    apiUrl: string;
    tailnet: string;
    apiKey?: Secret;
    oauth?: { clientId: string; clientSecret: Secret };
    authKeyFile?: string;
  };
  discord?: { token: Secret; appId: string; guildId?: string; alertChannelId?: string; apiBase?: string };
  slack?: {
    botToken: Secret;
    appToken?: Secret;
    signingSecret?: Secret;
    alertChannel?: string;
    apiUrl?: string;
    httpListen?: string;
  };
  approvers: string[];
  dataDir: string;
  /** Directory of the canonical specs (relative to the working directory unless absolute). */
  specsDir: string;
  /** Overrides the site file the specs name. */
  siteFile?: string;
  selfVmid: number;
  gatewayAddress?: { host: string; port: number };
  approvalTtlMinutes: number;
  secondApproverForCritical: boolean;
  snapshotRetention: number;
  apply: { confirmWindowSeconds?: number; firewallCycleSeconds?: number; backupStorage?: string };
  drift: { phase: 'phase0' | 'phase1' | 'phase2' | 'firewall' | 'off'; spec?: string };
  alerts: {
    backupWarnHours: number;
    backupCritHours: number;
    snapshotMaxAgeHours: number;
    storageWarnPercent: number;
    keyExpiryWarnDays: number;
    cooldownMinutes: number;
    quietHours?: string;
    schedule: string;
    webhookListen?: string;
    webhookSecret?: Secret;
    webhookAllowWildcard: boolean;
  };
  logLevel: string;
}

function parsePairs(variable: string, raw: string | undefined, check: (value: string) => string | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new InputError(`${variable}: "${part}" must be name=value`);
    const name = part.slice(0, eq);
    const value = part.slice(eq + 1);
    const problem = check(value);
    if (problem) throw new InputError(`${variable}: entry "${name}" ${problem}`);
    out[name] = value;
  }
  return out;
}

/** `host[:port]`, port 22 by default. */
function hostPort(value: string): { host: string; port: number } {
  const m = /^(.*?)(?::(\d+))?$/.exec(value)!;
  return { host: m[1]!, port: m[2] ? Number(m[2]) : 22 };
}

function parseApprovers(raw: string | undefined): string[] {
  if (!raw) return [];
  return raw
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean)
    .map((a) => {
      if (!/^(discord:\d{5,25}|slack:[A-Z0-9]{5,20}|console:[a-z0-9_-]+)$/.test(a)) {
        throw new InputError(
          `JARVIS_APPROVERS: "${a}" must be platform-qualified immutable ids such as discord:123456789012345678 or slack:U0123ABCD (never a display name)`,
        );
      }
      return a;
    });
}

/** Validates the environment; throws InputError naming the variable. */
export function loadConfig(rawEnv: NodeJS.ProcessEnv): JarvisConfig {
  // A variable left empty (as in .env.example) means "not set".
  const env = Object.fromEntries(Object.entries(rawEnv).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new InputError(`invalid configuration: ${issues.join('; ')}`);
  }
  const e = parsed.data;

  let proxmox: ProxmoxConfig | undefined;
  const tokenSecret = readSecret(env, 'PROXMOX_TOKEN_SECRET');
  if (e.PROXMOX_URL || e.PROXMOX_TOKEN_ID || tokenSecret) {
    const missing = [
      !e.PROXMOX_URL && 'PROXMOX_URL',
      !e.PROXMOX_TOKEN_ID && 'PROXMOX_TOKEN_ID',
      !tokenSecret && 'PROXMOX_TOKEN_SECRET (or PROXMOX_TOKEN_SECRET_FILE)',
    ].filter(Boolean);
    if (missing.length) throw new InputError(`Proxmox configuration incomplete: set ${missing.join(', ')}`);
    if (!e.PROXMOX_FINGERPRINT && !e.PROXMOX_CA_FILE) {
      throw new InputError(
        'PROXMOX_FINGERPRINT or PROXMOX_CA_FILE is required: Jarvis pins the node certificate and never switches TLS verification off',
      );
    }
    let caPem: string | undefined;
    if (e.PROXMOX_CA_FILE) {
      try {
        caPem = readFileSync(e.PROXMOX_CA_FILE, 'utf8');
      } catch (error) {
        throw new InputError(`PROXMOX_CA_FILE=${e.PROXMOX_CA_FILE}: cannot read (${(error as Error).message})`);
      }
    }
    proxmox = {
      url: e.PROXMOX_URL!.replace(/\/+$/, ''),
      node: e.PROXMOX_NODE,
      tokenId: e.PROXMOX_TOKEN_ID!,
      tokenSecret: tokenSecret!,
      fingerprint: e.PROXMOX_FINGERPRINT?.toUpperCase(),
      caPem,
      timeoutMs: e.PROXMOX_TIMEOUT_MS,
    };
  }

  const pins = parsePairs('SSH_HOST_PINS', e.SSH_HOST_PINS, (v) =>
    SSH_FINGERPRINT.test(v) ? null : 'must be a SHA256:… fingerprint as `ssh-keygen -lf` prints it',
  );
  const hostPairs = parsePairs('SSH_HOSTS', e.SSH_HOSTS, (v) => (/^[A-Za-z0-9.:-]+$/.test(v) ? null : 'must be host or host:port'));
  const hosts: JarvisConfig['ssh']['hosts'] = {};
  for (const [name, value] of Object.entries(hostPairs)) hosts[name] = hostPort(value);

  const discordToken = readSecret(env, 'DISCORD_TOKEN');
  if (discordToken && !e.DISCORD_APP_ID) throw new InputError('DISCORD_TOKEN is set but DISCORD_APP_ID is missing');
  const slackBot = readSecret(env, 'SLACK_BOT_TOKEN');
  const slackApp = readSecret(env, 'SLACK_APP_TOKEN');
  const slackSigning = readSecret(env, 'SLACK_SIGNING_SECRET');
  if (slackBot && !slackApp && !slackSigning) {
    throw new InputError('SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP mode) is');
  }
  if (slackSigning && !slackApp && !e.SLACK_HTTP_LISTEN) {
    throw new InputError('Slack HTTP mode needs SLACK_HTTP_LISTEN (host:port on your LAN or tailnet address)');
  }
  const tsOauthSecret = readSecret(env, 'TAILSCALE_OAUTH_CLIENT_SECRET');
  if (e.TAILSCALE_OAUTH_CLIENT_ID && !tsOauthSecret) throw new InputError('TAILSCALE_OAUTH_CLIENT_ID is set but TAILSCALE_OAUTH_CLIENT_SECRET is missing');

  return {
    proxmox,
    mgmt: { host: e.JARVIS_MGMT_HOST, sshPort: e.JARVIS_MGMT_SSH_PORT },
    ssh: { keyPath: e.SSH_KEY_PATH, keyPassphrase: readSecret(env, 'SSH_KEY_PASSPHRASE'), user: e.SSH_USER, pins, hosts },
    tailscale: {
      apiUrl: e.TAILSCALE_API_URL,
      tailnet: e.TAILSCALE_TAILNET,
      apiKey: readSecret(env, 'TAILSCALE_API_KEY'),
      oauth: e.TAILSCALE_OAUTH_CLIENT_ID && tsOauthSecret ? { clientId: e.TAILSCALE_OAUTH_CLIENT_ID, clientSecret: tsOauthSecret } : undefined,
      authKeyFile: e.TAILSCALE_AUTHKEY_FILE,
    },
    discord: discordToken
      ? {
          token: discordToken,
          appId: e.DISCORD_APP_ID!,
          guildId: e.DISCORD_GUILD_ID,
          alertChannelId: e.DISCORD_ALERT_CHANNEL_ID,
          apiBase: e.DISCORD_API_BASE,
        }
      : undefined,
    slack: slackBot
      ? {
          botToken: slackBot,
          appToken: slackApp,
          signingSecret: slackSigning,
          alertChannel: e.SLACK_ALERT_CHANNEL,
          apiUrl: e.SLACK_API_URL,
          httpListen: e.SLACK_HTTP_LISTEN,
        }
      : undefined,
    approvers: parseApprovers(e.JARVIS_APPROVERS),
    // Under systemd, StateDirectory= names the service's own directory when the environment file does not.
    dataDir: e.JARVIS_DATA_DIR ?? env.STATE_DIRECTORY ?? './data',
    specsDir: e.JARVIS_SPECS_DIR,
    ...(e.JARVIS_SITE_FILE ? { siteFile: e.JARVIS_SITE_FILE } : {}),
    selfVmid: e.JARVIS_SELF_VMID,
    ...(e.JARVIS_GATEWAY_ADDRESS ? { gatewayAddress: hostPort(e.JARVIS_GATEWAY_ADDRESS) } : {}),
    approvalTtlMinutes: e.JARVIS_APPROVAL_TTL_MINUTES,
    secondApproverForCritical: e.JARVIS_SECOND_APPROVER_FOR_CRITICAL,
    snapshotRetention: e.JARVIS_SNAPSHOT_RETENTION,
    apply: { confirmWindowSeconds: e.JARVIS_CONFIRM_WINDOW_SECONDS, firewallCycleSeconds: e.JARVIS_FIREWALL_CYCLE_SECONDS, backupStorage: e.JARVIS_BACKUP_STORAGE },
    drift: { phase: e.JARVIS_DRIFT_PHASE, spec: e.JARVIS_DRIFT_SPEC },
    alerts: {
      backupWarnHours: e.JARVIS_BACKUP_WARN_HOURS,
      backupCritHours: e.JARVIS_BACKUP_CRIT_HOURS,
      snapshotMaxAgeHours: e.JARVIS_SNAPSHOT_MAX_AGE_HOURS,
      storageWarnPercent: e.JARVIS_STORAGE_WARN_PERCENT,
      keyExpiryWarnDays: e.JARVIS_KEY_EXPIRY_WARN_DAYS,
      cooldownMinutes: e.JARVIS_ALERT_COOLDOWN_MINUTES,
      quietHours: e.JARVIS_QUIET_HOURS,
      schedule: e.JARVIS_WATCH_SCHEDULE,
      webhookListen: e.JARVIS_WEBHOOK_LISTEN,
      webhookSecret: readSecret(env, 'JARVIS_WEBHOOK_SECRET'),
      webhookAllowWildcard: e.JARVIS_WEBHOOK_ALLOW_WILDCARD,
    },
    logLevel: e.JARVIS_LOG_LEVEL,
  };
}

/** Variables the code reads, for `.env.example` drift tests and `jarvis doctor`. */
export const SECRET_VARIABLES = [
  'PROXMOX_TOKEN_SECRET',
  'SSH_KEY_PASSPHRASE',
  'TAILSCALE_API_KEY',
  'TAILSCALE_OAUTH_CLIENT_SECRET',
  'DISCORD_TOKEN',
  'SLACK_BOT_TOKEN',
  'SLACK_APP_TOKEN',
  'SLACK_SIGNING_SECRET',
  'JARVIS_WEBHOOK_SECRET',
] as const;
export const PLAIN_VARIABLES = Object.keys(envSchema.shape);
