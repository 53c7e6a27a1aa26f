// Building request paths below /api2/json from templates and values that may come from chat input.
// Every value becomes exactly one percent-encoded path segment: `..`, `?`, `#` and `/` can never change the target
// (the `proxmox-api` package escaped only `/`, so `..` and `?` leaked into the URL).
import { InputError } from '../../lib/errors.ts';

const FORBIDDEN_IN_SEGMENT = /[/?#\\\u0000-\u001f\u007f]/;

/** Checks one path-segment value and returns it percent-encoded. */
export function pathSegment(value: string | number, what = 'path segment'): string {
  const text = String(value);
  if (text === '' || text === '.' || text === '..') {
    throw new InputError(`Invalid ${what} ${JSON.stringify(text)}: empty, "." and ".." are not allowed`);
  }
  const bad = FORBIDDEN_IN_SEGMENT.exec(text);
  if (bad) {
    throw new InputError(`Invalid ${what} ${JSON.stringify(text)}: character ${JSON.stringify(bad[0])} is not allowed`);
  }
  return encodeURIComponent(text);
}

/** A VM id as PVE accepts it (100–999999999). */
export function vmidSegment(vmid: number): string {
  if (!Number.isInteger(vmid) || vmid < 100 || vmid > 999_999_999) {
    throw new InputError(`Invalid VM id ${JSON.stringify(vmid)}: must be an integer from 100 to 999999999`);
  }
  return String(vmid);
}

/** A firewall rule position (0-based). */
export function positionSegment(pos: number): string {
  if (!Number.isInteger(pos) || pos < 0) {
    throw new InputError(`Invalid firewall rule position ${JSON.stringify(pos)}: must be an integer ≥ 0`);
  }
  return String(pos);
}

/**
 * Fills `{name}` placeholders of a template with encoded segments: `fillPath('/nodes/{node}/qemu', { node })`.
 * The template itself is code, never input.
 */
export function fillPath(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{([a-z]+)\}/g, (_whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`path template ${template} needs a value for {${name}}`);
    if (name === 'vmid') return vmidSegment(Number(value));
    if (name === 'pos') return positionSegment(Number(value));
    return pathSegment(value, name);
  });
}

/**
 * Re-encodes a raw path from a plan (`/nodes/proxmox/qemu/100/config`): each segment is percent-decoded, checked
 * and encoded again, so an encoded `%2F` stays inside its segment and a literal `..` is refused.
 */
export function normalizeRawPath(path: string): string {
  if (!path.startsWith('/')) throw new InputError(`Invalid API path ${JSON.stringify(path)}: must start with "/"`);
  const segments = path.slice(1).split('/');
  return '/' + segments.map((segment) => rawSegment(decodeSegment(segment, path), path)).join('/');
}

/**
 * A decoded segment of a raw path may hold a `/` that arrived encoded (an ipset entry `192.168.1.0%2F24`); it is
 * encoded again, and none of its pieces may be empty, `.` or `..` in case a server decodes before routing.
 */
function rawSegment(decoded: string, path: string): string {
  for (const piece of decoded.split('/')) pathSegment(piece, `segment of ${path}`);
  return encodeURIComponent(decoded);
}

function decodeSegment(segment: string, path: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InputError(`Invalid API path ${JSON.stringify(path)}: bad percent-encoding in ${JSON.stringify(segment)}`);
  }
}

/** Names of the placeholder that follows each collection in PVE's API tree, for call statistics of raw paths. */
const PLACEHOLDER_AFTER: Record<string, string> = {
  nodes: '{node}',
  qemu: '{vmid}',
  lxc: '{vmid}',
  tasks: '{upid}',
  snapshot: '{snapname}',
  storage: '{storage}',
  network: '{iface}',
  zfs: '{name}',
  rules: '{pos}',
  groups: '{group}',
  ipset: '{name}',
  aliases: '{name}',
  backup: '{id}',
  dir: '{id}',
};

/** Best-effort template of a concrete path (`/nodes/proxmox/qemu/100/config` → `/nodes/{node}/qemu/{vmid}/config`). */
export function templateOf(path: string): string {
  const parts = path.split('/');
  const out = parts.map((part, i) => {
    const previous = parts[i - 1];
    if (i === 0 || previous === undefined) return part;
    return PLACEHOLDER_AFTER[previous] ?? part;
  });
  // Second-level ids inside firewall collections: groups/{group}/{pos}, ipset/{name}/{cidr}.
  for (let i = 2; i < out.length; i++) {
    if (out[i - 2] === 'groups' && out[i - 1] === '{group}') out[i] = '{pos}';
    if (out[i - 2] === 'ipset' && out[i - 1] === '{name}') out[i] = '{cidr}';
  }
  return out.join('/');
}
