// The Proxmox node: reachable with the pinned certificate and the token, the token's effective privileges exactly
// the documented role, and a clock that agrees with ours (approval expiry, backup ages and task times depend on it).
import type { ProxmoxApi } from '../../infra/proxmox/api.ts';
import { PveError } from '../../infra/proxmox/errors.ts';
import { JarvisError } from '../../lib/errors.ts';
import { JARVIS_ROLE, REQUIRED_PRIVILEGES, comparePrivileges, pveumRecipe } from '../../lib/privileges.ts';
import { fail, pass, type CheckResult } from './result.ts';

export interface ProxmoxTarget {
  url: string;
  node: string;
  tokenId: string;
  /** The configured pin, when the certificate is pinned rather than trusted through PROXMOX_CA_FILE. */
  fingerprint?: string;
}

const PIN_MISMATCH = /expected SHA-256 ([0-9A-F:]+), the server presented (\S+)/;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The answer to the first call tells reachability, TLS trust and whether the token is accepted, in that order. */
export async function checkProxmoxReachable(pve: Pick<ProxmoxApi, 'version' | 'nodeStatus'>, target: ProxmoxTarget): Promise<CheckResult> {
  const id = 'proxmox.reach';
  let release: string;
  try {
    release = (await pve.version()).release;
  } catch (error) {
    const code = error instanceof JarvisError ? error.code : undefined;
    if (code === 'tls-pin-mismatch') {
      const [, expected, seen] = PIN_MISMATCH.exec(messageOf(error)) ?? [];
      return fail(
        'proxmox.tls',
        `Proxmox TLS pin: ${target.url} presented a certificate with SHA-256 ${seen ?? '(unknown)'}, PROXMOX_FINGERPRINT expects ${expected ?? target.fingerprint ?? '(unset)'}`,
        'if the node certificate was renewed on purpose, confirm the new fingerprint on the node (`pvenode cert info`, "Fingerprint (sha256)") and put it in PROXMOX_FINGERPRINT; otherwise something else answers at that address: do not connect',
      );
    }
    if (code === 'tls-untrusted') {
      return fail('proxmox.tls', `Proxmox TLS: ${messageOf(error)}`, 'set PROXMOX_FINGERPRINT to the SHA-256 fingerprint `pvenode cert info` shows, or PROXMOX_CA_FILE to a copy of /etc/pve/pve-root-ca.pem');
    }
    if (error instanceof PveError && error.status === 401) {
      return fail(id, `Proxmox at ${target.url} refused token ${target.tokenId}: ${error.pveMessage}`, 'check PROXMOX_TOKEN_ID (user@realm!tokenname) and PROXMOX_TOKEN_SECRET; list tokens on the node with `pveum user token list USER`');
    }
    return fail(id, `Proxmox at ${target.url}: ${messageOf(error)}`, 'check PROXMOX_URL (https://HOST:8006), that pveproxy runs on the node, and that this machine may reach port 8006 (node firewall)');
  }
  try {
    await pve.nodeStatus();
  } catch (error) {
    // Without Sys.Audit the node answers 403; the privilege check says so.
    if (!(error instanceof PveError && error.status === 403)) {
      return fail(id, `Proxmox node "${target.node}" at ${target.url}: ${messageOf(error)}`, 'set PROXMOX_NODE to the node name (`hostname` on the node)');
    }
  }
  const trust = target.fingerprint ? 'certificate matches the pinned fingerprint' : 'certificate verified against PROXMOX_CA_FILE';
  return pass(id, `Proxmox: VE ${release} at ${target.url}, node ${target.node}; ${trust}`);
}

/** Effective privileges on `/` (they propagate to every VM, storage and the node) against the JarvisOps role. */
export async function checkPrivileges(pve: Pick<ProxmoxApi, 'permissions'>, tokenId: string): Promise<CheckResult> {
  const id = 'proxmox.privileges';
  let effective: Record<string, number>;
  try {
    effective = (await pve.permissions('/'))['/'] ?? {};
  } catch (error) {
    return fail(id, `Proxmox privileges: cannot read /access/permissions: ${messageOf(error)}`, 'the reachability check above names the cause');
  }
  const { missing, excess } = comparePrivileges(effective);
  // root@pam holds every privilege whatever the token says: the recipe then creates a dedicated user.
  const recipe = `on the node, as root:\n${tokenId.startsWith('root@pam!') ? pveumRecipe() : pveumRecipe(tokenId)}`;
  if (missing.length > 0) {
    const needs = missing.map((p) => `${p} (${REQUIRED_PRIVILEGES[p]})`);
    return fail(id, `Proxmox privileges: token ${tokenId} lacks ${missing.length} of ${Object.keys(REQUIRED_PRIVILEGES).length} on /: ${needs.join(', ')}`, recipe);
  }
  if (excess.length > 0) {
    return fail(
      id,
      `Proxmox privileges: token ${tokenId} has more than needed on /: ${excess.join(', ')} (a stolen token could do this; Jarvis never does)`,
      `give Jarvis a privilege-separated token holding only the ${JARVIS_ROLE} role; ${recipe}`,
    );
  }
  return pass(id, `Proxmox privileges: token ${tokenId} holds the ${Object.keys(REQUIRED_PRIVILEGES).length} privileges of ${JARVIS_ROLE} on / and none of the dangerous extras`);
}

export const MAX_CLOCK_SKEW_SECONDS = 60;

/**
 * Compares the node's clock (an HTTP `Date` header, whole seconds) with ours, read halfway through the exchange so
 * the round trip does not count as skew.
 */
export async function checkClock(serverTime: () => Promise<Date>, now: () => number = Date.now): Promise<CheckResult> {
  const id = 'clock';
  const before = now();
  let date: Date;
  try {
    date = await serverTime();
  } catch (error) {
    return fail(id, `clock: cannot read the node's time: ${messageOf(error)}`, 'the reachability check above names the cause');
  }
  const localMs = (before + now()) / 2;
  const skewSeconds = Math.round((date.getTime() - localMs) / 1000);
  const what =
    Math.abs(skewSeconds) <= 1
      ? 'agrees with this machine (within 1 s)'
      : `is ${Math.abs(skewSeconds)} s ${skewSeconds > 0 ? 'ahead of' : 'behind'} this machine`;
  if (Math.abs(skewSeconds) > MAX_CLOCK_SKEW_SECONDS) {
    return fail(id, `clock: the Proxmox node ${what} (limit ${MAX_CLOCK_SKEW_SECONDS} s)`, 'enable time sync on both: `timedatectl set-ntp true` (chrony on the node: `systemctl status chrony`), then compare `date -u` on each');
  }
  return pass(id, `clock: the Proxmox node ${what}`);
}
