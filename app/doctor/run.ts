// `jarvis doctor`: runs every check against the configured lab and chat platforms. The network ends (Proxmox
// client, SSH, tailnet, HTTP) are ports, so tests run the same checks against the simulator and local fakes.
import { createProxmoxClient } from '../../infra/proxmox/client.ts';
import type { ProxmoxApi } from '../../infra/proxmox/api.ts';
import { createSshShell } from '../../infra/ssh/client.ts';
import type { TailnetApi } from '../../infra/tailscale/api.ts';
import { createTailnetClient } from '../../infra/tailscale/client.ts';
import type { JarvisConfig, ProxmoxConfig } from '../../lib/config.ts';
import { checkPackageSources } from './apt-check.ts';
import { checkConfiguration } from './config-check.ts';
import { checkDataDir } from './data-dir-check.ts';
import { checkDiscord } from './discord-check.ts';
import { httpExchange, proxmoxServerTime, type HttpExchange } from './http.ts';
import { checkClock, checkPrivileges, checkProxmoxReachable } from './proxmox-checks.ts';
import { fail, type CheckResult } from './result.ts';
import { checkSlack, manifestBotScopes } from './slack-check.ts';
import { checkSshHosts, type OpenSsh } from './ssh-check.ts';
import { checkTailnet } from './tailnet-check.ts';
import { checkAlertChannels, checkApprovers, checkChatConfigured } from './people-check.ts';
import { checkPlaceholders, checkStorages, checkTimeZone, checkWebhook } from './setup-checks.ts';
import { isAbsolute, join } from 'node:path';
import { loadSpec } from '../../planner/spec/load.ts';
import { defaultSpecFor, specPlace } from '../planning.ts';

type DoctorPve = Pick<ProxmoxApi, 'version' | 'nodeStatus' | 'permissions' | 'nodeStorageStatus' | 'nodeTime'> & { close(): Promise<void> };

export interface DoctorPorts {
  proxmox(config: ProxmoxConfig): DoctorPve;
  serverTime(config: ProxmoxConfig): () => Promise<Date>;
  openSsh: OpenSsh;
  tailnet(config: JarvisConfig['tailscale']): (TailnetApi & { close(): Promise<void> }) | undefined;
  http: HttpExchange;
  slackScopes(): string[];
}

export function defaultDoctorPorts(): DoctorPorts {
  return {
    // One attempt per call: the doctor reports what it sees rather than waiting through retries.
    proxmox: (px) => createProxmoxClient({ url: px.url, node: px.node, tokenId: px.tokenId, tokenSecret: px.tokenSecret, fingerprint: px.fingerprint, caPem: px.caPem, timeoutMs: px.timeoutMs, retries: 0 }),
    serverTime: (px) => proxmoxServerTime(px),
    openSsh: createSshShell,
    tailnet: (ts) => (ts.apiKey || ts.oauth ? createTailnetClient({ baseUrl: ts.apiUrl, tailnet: ts.tailnet, apiKey: ts.apiKey, oauth: ts.oauth, timeoutMs: 10_000 }) : undefined),
    http: httpExchange(),
    slackScopes: () => manifestBotScopes(),
  };
}

/** A check that throws (a platform unreachable, an answer of the wrong shape) still gives one failing line. */
async function guarded(id: string, what: string, check: () => Promise<CheckResult[]>): Promise<CheckResult[]> {
  try {
    return await check();
  } catch (error) {
    return [fail(id, `${what}: ${error instanceof Error ? error.message : String(error)}`, `check the ${what} settings and that this machine reaches it`)];
  }
}

/** Test-only API bases must stay on this machine: a typo must never send tokens elsewhere (as bot/start-bot.ts). */
function nonLoopback(variable: string, url: string | undefined): CheckResult | undefined {
  if (url === undefined) return undefined;
  const host = new URL(url).hostname;
  if (host === '127.0.0.1' || host === 'localhost' || host === '[::1]') return undefined;
  return fail(variable.toLowerCase(), `${variable}=${url}: only for tests; it must point at 127.0.0.1 or localhost`, `remove ${variable} from the environment`);
}

async function proxmoxChecks(px: ProxmoxConfig, ssh: JarvisConfig['ssh'], ports: DoctorPorts, phase0: Phase0Facts): Promise<CheckResult[]> {
  const pve = ports.proxmox(px);
  try {
    const reach = await checkProxmoxReachable(pve, px);
    // Privileges, clock, package sources and storages would only repeat why the node cannot be reached.
    if (reach.status === 'fail') return [reach];
    const zone = phase0.timeZone ? [await checkTimeZone(pve, px.node, phase0.timeZone, phase0.window)] : [];
    const stores = await checkStorages(pve, px.node, phase0).catch((error: unknown) => fail('node.storages', `node ${px.node}: cannot list its storages: ${error instanceof Error ? error.message : String(error)}`, 'the privilege check above names what the token lacks'));
    return [reach, await checkPrivileges(pve, px.tokenId), await checkClock(ports.serverTime(px)), await nodePackageSources(px, ssh, ports), stores, ...zone];
  } finally {
    await pve.close();
  }
}

/** The apt sources over the node's SSH (when SSH_HOSTS names it, pinned). */
async function nodePackageSources(px: ProxmoxConfig, ssh: JarvisConfig['ssh'], ports: DoctorPorts): Promise<CheckResult> {
  const entry = ssh.hosts[px.node];
  const pin = ssh.pins[px.node];
  const key = ssh.keyPath ? { kind: 'key' as const, privateKeyPath: ssh.keyPath, passphrase: ssh.keyPassphrase } : undefined;
  // Without a pin or a key the SSH checks already say what is missing.
  const shell = entry && pin && key ? ports.openSsh({ host: px.node, address: entry.host, port: entry.port, username: ssh.user, fingerprint: pin, auth: key, connectTimeoutMs: 10_000 }) : undefined;
  try {
    return await checkPackageSources(px.node, shell);
  } finally {
    await shell?.close();
  }
}

async function tailnetChecks(ts: JarvisConfig['tailscale'], ports: DoctorPorts): Promise<CheckResult[]> {
  const tailnet = ports.tailnet(ts);
  try {
    return await checkTailnet(ts, tailnet);
  } finally {
    await tailnet?.close();
  }
}

interface Phase0Facts {
  disks: string;
  images: string;
  /** The site's backup time zone and window, when the spec reads a site file. */
  timeZone?: string;
  window?: string;
}

/** What the phase-0 spec builds on (node.ssdStorage, node.imageStorage, the site's backups), defaults when unreadable. */
async function phase0Facts(config: JarvisConfig, cwd: string): Promise<Phase0Facts> {
  const place = specPlace(config);
  const path = defaultSpecFor('phase0', place.specsDir);
  try {
    const loaded = await loadSpec(isAbsolute(path) ? path : join(cwd, path), { cwd, ...(place.site ? { site: place.site } : {}) });
    const site = loaded.site?.loaded.site;
    return { disks: loaded.spec.node.ssdStorage, images: loaded.spec.node.imageStorage, ...(site ? { timeZone: site.backups.timeZone, window: site.backups.window } : {}) };
  } catch {
    return { disks: 'local-lvm', images: 'local' };
  }
}

export async function runDoctor(env: NodeJS.ProcessEnv, cwd: string, ports: DoctorPorts = defaultDoctorPorts()): Promise<CheckResult[]> {
  const placeholders = checkPlaceholders(env);
  const { result, config } = checkConfiguration(env);
  if (!config) return [result, ...placeholders.filter((p) => p.status !== 'pass')];
  const discordBase = nonLoopback('DISCORD_API_BASE', config.discord?.apiBase);
  const slackBase = nonLoopback('SLACK_API_URL', config.slack?.apiUrl);
  const chatReachable = !discordBase && !slackBase;
  const groups = await Promise.all([
    config.proxmox ? guarded('proxmox.reach', 'Proxmox', async () => proxmoxChecks(config.proxmox!, config.ssh, ports, await phase0Facts(config, cwd))) : [],
    guarded('ssh', 'SSH', () => checkSshHosts(config.ssh, ports.openSsh, env.SSH_AUTH_SOCK)),
    guarded('tailscale', 'Tailscale API', () => tailnetChecks(config.tailscale, ports)),
    discordBase ? [discordBase] : guarded('discord', 'Discord API', () => checkDiscord(config.discord, ports.http)),
    slackBase ? [slackBase] : guarded('slack', 'Slack API', () => checkSlack(config.slack, ports.http, ports.slackScopes())),
    [checkChatConfigured(config)],
    chatReachable ? guarded('approvers', 'approvers', () => checkApprovers(config, env.JARVIS_APPROVER_GROUPS, ports.http)) : [],
    chatReachable ? guarded('alerts', 'alert channels', () => checkAlertChannels(config, ports.http)) : [],
  ]);
  return [result, ...placeholders, ...groups.flat(), checkWebhook(config), checkDataDir(config.dataDir, cwd)];
}
