// Authentication as pveproxy does it: API tokens in the Authorization header, or a ticket cookie from
// POST /access/ticket with a CSRFPreventionToken header on writes. Privileges are admin or read-only per token.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { PveHttpError } from './http.ts';

export type Privileges = 'admin' | 'readonly';

export interface SimToken {
  tokenId: string;
  secret: string;
  privileges?: Privileges;
}

export interface Caller {
  /** `root@pam!jarvis` for tokens, `root@pam` for tickets. */
  authid: string;
  privileges: Privileges;
}

const READ_PRIVILEGES = ['VM.Audit', 'Sys.Audit', 'Datastore.Audit', 'SDN.Audit', 'Pool.Audit', 'Mapping.Audit'];
// The simulated lab is set up as the README says: its token may change everything Jarvis changes, and holds none of
// the privileges `jarvis doctor` flags as more than needed (Permissions.Modify, Sys.PowerMgmt, Sys.Console…).
const ADMIN_PRIVILEGES = [
  ...READ_PRIVILEGES,
  'VM.Allocate', 'VM.Config.Disk', 'VM.Config.CPU', 'VM.Config.Memory', 'VM.Config.Network', 'VM.Config.Options',
  'VM.Config.HWType', 'VM.Config.Cloudinit', 'VM.Config.CDROM', 'VM.PowerMgmt', 'VM.Snapshot', 'VM.Snapshot.Rollback',
  'VM.Backup', 'VM.Console', 'VM.GuestAgent.Audit', 'VM.GuestAgent.Unrestricted', 'Sys.Modify',
  'Datastore.Allocate', 'Datastore.AllocateSpace', 'Datastore.AllocateTemplate', 'Mapping.Modify',
  'Mapping.Use', 'SDN.Use',
];

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export class Authenticator {
  private readonly tickets = new Map<string, { user: string; csrf: string }>();
  private readonly key = randomBytes(32);

  constructor(
    readonly tokens: SimToken[],
    readonly passwords: Map<string, string>,
  ) {}

  login(username: string, password: string, realm?: string): { ticket: string; CSRFPreventionToken: string; username: string; cap: Record<string, unknown> } {
    const user = username.includes('@') ? username : `${username}@${realm ?? 'pam'}`;
    const expected = this.passwords.get(user);
    if (expected === undefined || !safeEqual(expected, password)) throw new PveHttpError(401, 'authentication failure');
    const now = Math.floor(Date.now() / 1000).toString(16).toUpperCase();
    const ticket = `PVE:${user}:${now}::${createHmac('sha256', this.key).update(`${user}:${now}`).digest('base64')}`;
    const csrf = `${now}:${createHmac('sha256', this.key).update(`csrf:${ticket}`).digest('base64').replace(/=+$/, '')}`;
    this.tickets.set(ticket, { user, csrf });
    return { ticket, CSRFPreventionToken: csrf, username: user, cap: { vms: {}, storage: {}, nodes: {}, access: {}, dc: {}, sdn: {}, mapping: {} } };
  }

  /** Throws PVE's 401s; returns who is calling. */
  authenticate(req: IncomingMessage, method: string): Caller {
    const header = req.headers.authorization;
    if (header) {
      const match = /^PVEAPIToken[= ](\S+?@\S+?!\S+?)[=:](\S+)$/.exec(header.trim());
      if (!match) throw new PveHttpError(401, 'invalid authorization header');
      const token = this.tokens.find((t) => t.tokenId === match[1]);
      if (!token || !safeEqual(token.secret, match[2]!)) throw new PveHttpError(401, 'invalid token value!');
      return { authid: token.tokenId, privileges: token.privileges ?? 'admin' };
    }
    const cookie = /(?:^|;\s*)PVEAuthCookie=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (!cookie) throw new PveHttpError(401, 'No ticket');
    const session = this.tickets.get(decodeURIComponent(cookie));
    if (!session) throw new PveHttpError(401, 'invalid ticket');
    if (method !== 'GET') {
      const csrf = req.headers.csrfpreventiontoken;
      if (typeof csrf !== 'string' || !safeEqual(csrf, session.csrf)) throw new PveHttpError(401, 'Permission denied - invalid csrf token');
    }
    return { authid: session.user, privileges: 'admin' };
  }
}

/** The ACL path and privilege PVE would check for a write on this template. */
export function requiredPrivilege(template: string, path: Record<string, string>): { aclPath: string; privilege: string } {
  if (path.vmid) {
    if (template.includes('/snapshot')) return { aclPath: `/vms/${path.vmid}`, privilege: 'VM.Snapshot' };
    if (template.includes('/status/')) return { aclPath: `/vms/${path.vmid}`, privilege: 'VM.PowerMgmt' };
    if (template.includes('/agent/')) return { aclPath: `/vms/${path.vmid}`, privilege: 'VM.GuestAgent.Unrestricted' };
    return { aclPath: `/vms/${path.vmid}`, privilege: 'VM.Allocate' };
  }
  if (template === '/nodes/{node}/qemu') return { aclPath: '/vms', privilege: 'VM.Allocate' };
  if (template.startsWith('/storage')) return { aclPath: `/storage${path.storage ? `/${path.storage}` : ''}`, privilege: 'Datastore.Allocate' };
  if (template.startsWith('/cluster/mapping')) return { aclPath: '/mapping/dir', privilege: 'Mapping.Modify' };
  if (template === '/nodes/{node}/vzdump') return { aclPath: '/vms', privilege: 'VM.Backup' };
  if (template.startsWith('/nodes/{node}')) return { aclPath: `/nodes/${path.node}`, privilege: 'Sys.Modify' };
  return { aclPath: '/', privilege: 'Sys.Modify' };
}

export function permissionsOf(privileges: Privileges, path = '/'): Record<string, Record<string, number>> {
  const list = privileges === 'admin' ? ADMIN_PRIVILEGES : READ_PRIVILEGES;
  return { [path]: Object.fromEntries(list.map((p) => [p, 1])) };
}
