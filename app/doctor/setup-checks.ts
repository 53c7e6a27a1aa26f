// The rest of what a newcomer gets wrong: values still the examples of .env.example, the storages the guests need on
// the node, and the webhook receiver's address (it must be an address of this machine, with its secret).
import { networkInterfaces } from 'node:os';
import type { ProxmoxApi } from '../../infra/proxmox/api.ts';
import type { JarvisConfig } from '../../lib/config.ts';
import { JarvisError } from '../../lib/errors.ts';
import { envPlaceholders } from '../../lib/placeholders.ts';
import { parseListen } from '../../monitor/webhook.ts';
import { fail, pass, warn, type CheckResult } from './result.ts';

export function checkPlaceholders(env: NodeJS.ProcessEnv): CheckResult[] {
  const found = envPlaceholders(env);
  if (found.length === 0) return [pass('placeholders', 'settings: no example value of .env.example left')];
  return found.map((p) => fail(`placeholders.${p.variable}`, `settings: ${p.variable} is still the example of .env.example`, p.fix));
}

/** File storages can keep images (`import`) and vendor data (`snippets`); block storages cannot. */
const FILE_STORAGES = new Set(['dir', 'nfs', 'cifs', 'cephfs', 'glusterfs', 'btrfs']);

/** The storages phase 0 builds on: VM disks (images) and the file storage of images and cloud-init vendor data. */
export async function checkStorages(pve: Pick<ProxmoxApi, 'nodeStorageStatus'>, node: string, wanted: { disks: string; images: string }): Promise<CheckResult> {
  const id = 'node.storages';
  const storages = await pve.nodeStorageStatus();
  const find = (name: string) => storages.find((s) => s.storage === name);
  const problems: string[] = [];
  const disks = find(wanted.disks);
  if (!disks) problems.push(`${wanted.disks} (VM disks) does not exist`);
  else if (!(disks.content ?? '').split(',').includes('images')) problems.push(`${wanted.disks} does not hold VM disks (content "${disks.content ?? ''}" lacks images)`);
  else if (disks.active === 0) problems.push(`${wanted.disks} is not active`);
  const images = find(wanted.images);
  if (!images) problems.push(`${wanted.images} (cloud images and cloud-init vendor data) does not exist`);
  else if (!FILE_STORAGES.has(images.type)) problems.push(`${wanted.images} is a ${images.type} storage; images and snippets need a file storage (dir, nfs…)`);
  else if (images.active === 0) problems.push(`${wanted.images} is not active`);
  if (problems.length > 0) {
    return fail(id, `node ${node}: the storages phase 0 needs: ${problems.join('; ')}`, 'name existing storages in the spec (node.ssdStorage for VM disks, node.imageStorage for images; Datacenter > Storage lists them), or add them in Proxmox');
  }
  const lacking = ['import', 'snippets'].filter((c) => !(images!.content ?? '').split(',').includes(c));
  return pass(id, `node ${node}: ${wanted.disks} holds VM disks; ${wanted.images} keeps images and vendor data${lacking.length ? ` (a phase-0 plan adds its content types ${lacking.join(', ')})` : ''}`);
}

/** Addresses of this machine's interfaces (what a listener can bind to). */
function localAddresses(): Set<string> {
  return new Set(Object.values(networkInterfaces()).flatMap((a) => a ?? []).map((a) => a.address));
}

export function checkWebhook(config: JarvisConfig, local: () => Set<string> = localAddresses): CheckResult {
  const id = 'webhook';
  const { webhookListen, webhookSecret, webhookAllowWildcard } = config.alerts;
  if (!webhookListen) return pass(id, 'webhook receiver: off (JARVIS_WEBHOOK_LISTEN unset); the watchers poll backups every round');
  if (!webhookSecret) return fail(id, `webhook receiver: JARVIS_WEBHOOK_LISTEN=${webhookListen} without JARVIS_WEBHOOK_SECRET: jarvis bot refuses to start`, 'set JARVIS_WEBHOOK_SECRET (or _FILE) to a long random string, and the same in the Proxmox webhook target\'s X-Jarvis-Secret header');
  let listen;
  try {
    listen = parseListen(webhookListen, webhookAllowWildcard);
  } catch (error) {
    if (!(error instanceof JarvisError)) throw error;
    return fail(id, `webhook receiver: ${error.message}`, 'name this machine\'s LAN or tailnet address, e.g. JARVIS_WEBHOOK_LISTEN=192.168.1.20:8787');
  }
  const host = listen.host.replace(/^\[|\]$/g, '');
  if (!listen.wildcard && /^[\d.:a-f]+$/i.test(host) && !local().has(host)) {
    return fail(id, `webhook receiver: ${host} is not an address of this machine: jarvis bot could not listen there`, 'use an address `ip -brief addr` shows here (the gateway\'s LAN or tailnet address)');
  }
  const where = `http://${listen.host}:${listen.port}`;
  if (listen.wildcard) return warn(id, `webhook receiver: listens on every address (${webhookListen}), allowed by JARVIS_WEBHOOK_ALLOW_WILDCARD`, 'prefer the LAN or tailnet address alone');
  return pass(id, `webhook receiver: ${where}; in Proxmox (Datacenter > Notifications > Add Webhook) POST to ${where} with header X-Jarvis-Secret set to the secret`);
}

/** The backup window of the site is read in the node's time zone (PVE runs its jobs in it): the two must agree. */
export async function checkTimeZone(pve: Pick<ProxmoxApi, 'nodeTime'>, node: string, siteZone: string, window: string | undefined): Promise<CheckResult> {
  const id = 'node.timezone';
  let zone: string;
  try {
    zone = (await pve.nodeTime()).timezone;
  } catch (error) {
    return warn(id, `node ${node}: its time zone could not be read (${error instanceof Error ? error.message : String(error)})`);
  }
  if (zone === siteZone) return pass(id, `node ${node}: time zone ${zone}, as the site file says (the backup window ${window ?? ''} is read in it)`);
  return warn(id, `node ${node}: its time zone is ${zone}, the site file says ${siteZone}: the nightly backup runs at ${window ?? 'its window'} ${zone} time`, `set backups.timeZone: ${zone} in the site file (or change the node's: timedatectl set-timezone on the node)`);
}
