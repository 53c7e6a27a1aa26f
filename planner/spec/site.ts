// The owner's site: the facts only they know (LAN, admin CIDRs, the ZFS disks, owner tag, Tailscale hostname, the
// backup window and its time zone, the SSH keys of new VMs), set once in a site file that the canonical specs
// reference with `!site <name>` (e.g. `managementAccessCidrs: !site adminCidrs`). A value still holding the word
// REPLACE is a placeholder: `jarvis check` names it, and plans of the phase that needs it are refused.
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { z } from 'zod';
import type { SpecDiagnostic } from './diagnostic.ts';

export const siteSchema = z.strictObject({
  apiVersion: z.literal('jarvis/v1'),
  kind: z.literal('Site'),
  lan: z.strictObject({
    /** The LAN behind vmbr0. */
    cidr: z.string().min(1),
    /** The node's own address on vmbr0, with its prefix. */
    nodeAddress: z.string().min(1),
    gateway: z.string().min(1),
  }),
  /** Who may reach the node's SSH (22) and web UI (8006). */
  adminCidrs: z.array(z.string().min(1)).min(1),
  /** The owner tag every VM carries (`owner-<name>`). */
  ownerTag: z.string().min(1),
  /** OpenSSH public keys of the cloud-init user of new VMs: the owner's and Jarvis's own. */
  sshKeys: z.array(z.string().min(1)).min(1),
  tailscale: z.strictObject({ gatewayHostname: z.string().min(1) }),
  backups: z.strictObject({
    /** When the nightly backup runs, a Proxmox calendar event in the node's time zone. */
    window: z.string().min(1),
    /** The node's time zone (`timedatectl` on the node), in which the window is read. */
    timeZone: z.string().min(1),
  }),
  zfs: z.strictObject({
    /** The two HDDs of the tank mirror, by /dev/disk/by-id (phase 1 erases them). */
    tankDisks: z.array(z.string().min(1)).min(1),
  }),
});
export type Site = z.infer<typeof siteSchema>;

/** The first phase whose plans need each value; a placeholder elsewhere refuses plans from phase 0 on. */
const NEEDED_FROM: Record<string, number> = { 'zfs.tankDisks': 1 };
export const neededFromPhase = (name: string): number => NEEDED_FROM[name] ?? 0;

/** The names a spec may reference: every leaf of the schema (lists count as one value). */
export const SITE_NAMES: readonly string[] = [
  'lan.cidr',
  'lan.nodeAddress',
  'lan.gateway',
  'adminCidrs',
  'ownerTag',
  'sshKeys',
  'tailscale.gatewayHostname',
  'backups.window',
  'backups.timeZone',
  'zfs.tankDisks',
];

const PLACEHOLDER = /REPLACE/i;

export interface LoadedSite {
  site: Site;
  path: string;
  bytes: Uint8Array;
  /** Values still holding a placeholder, located in the site file. */
  placeholders: Array<{ name: string; line: number; col: number }>;
}

export type SiteResult = { ok: true; loaded: LoadedSite } | { ok: false; errors: SpecDiagnostic[] };

export function siteValue(site: Site, name: string): unknown {
  let node: unknown = site;
  for (const key of name.split('.')) node = (node as Record<string, unknown>)[key];
  return node;
}

const error = (file: string, line: number, col: number, path: string, message: string, fix: string, ruleId = 'site.input'): SpecDiagnostic => ({
  severity: 'error',
  ruleId,
  file,
  line,
  col,
  path,
  message,
  fix,
});

/** Parses and validates a site file's bytes; every problem is located in it. */
export function parseSiteBytes(bytes: Uint8Array, file: string): SiteResult {
  const text = Buffer.from(bytes).toString('utf8');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, logLevel: 'error' });
  if (doc.errors.length > 0) {
    return { ok: false, errors: doc.errors.map((e) => error(file, e.linePos?.[0]?.line ?? 1, e.linePos?.[0]?.col ?? 1, '', e.message.split('\n')[0]!, 'fix the YAML syntax here')) };
  }
  const locate = (path: ReadonlyArray<string | number>): { line: number; col: number } => {
    let node: unknown = doc.contents;
    for (const segment of path) {
      if (isMap(node)) node = node.items.find((i) => isPair(i) && isScalar(i.key) && String(i.key.value) === String(segment))?.value ?? node;
      else if (isSeq(node) && typeof segment === 'number') node = node.items[segment] ?? node;
    }
    return lineCounter.linePos((node as Node | null)?.range?.[0] ?? 0);
  };
  const parsed = siteSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((issue) => {
        const where = locate(issue.path as Array<string | number>);
        return error(file, where.line, where.col, issue.path.join('.'), issue.message, 'see the comments of specs/site.yaml for each value');
      }),
    };
  }
  const placeholders: LoadedSite['placeholders'] = [];
  for (const name of SITE_NAMES) {
    const value = siteValue(parsed.data, name);
    const items = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : [[undefined, value] as const];
    for (const [index, item] of items) {
      if (typeof item === 'string' && PLACEHOLDER.test(item)) {
        placeholders.push({ name, ...locate([...name.split('.'), ...(index === undefined ? [] : [index])]) });
        break;
      }
    }
  }
  return { ok: true, loaded: { site: parsed.data, path: file, bytes, placeholders } };
}

/** What to do about a placeholder, per value. */
const PLACEHOLDER_FIX: Record<string, string> = {
  'zfs.tankDisks': 'list the node\'s disks with `ls -l /dev/disk/by-id/` (on the node) and name the two HDDs of the mirror; phase 1 ERASES them',
  sshKeys: 'put your own public key and Jarvis\'s (the .pub of SSH_KEY_PATH) here; VMs get them at their first boot',
};

/** One error per placeholder the spec uses, located in the site file, with the phase from which it refuses plans. */
export function placeholderFindings(site: LoadedSite, used: ReadonlySet<string>): SpecDiagnostic[] {
  return site.placeholders
    .filter((p) => used.has(p.name))
    .map((p) => {
      const phase = neededFromPhase(p.name);
      return {
        severity: 'error' as const,
        ruleId: 'site.placeholder',
        file: site.path,
        line: p.line,
        col: p.col,
        path: p.name,
        message: `still the shipped placeholder: plans of phase ${phase} and later are refused until it is set`,
        fix: PLACEHOLDER_FIX[p.name] ?? `set your own value in ${site.path}`,
        fromPhase: phase,
      };
    });
}
