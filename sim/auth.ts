// Authentication as pveproxy does it: API tokens in the Authorization header, or a ticket cookie from
// POST /access/ticket with a CSRFPreventionToken header on writes. What a caller may do is sim/permissions.ts.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { REQUIRED_PRIVILEGES } from '../lib/privileges.ts';
import { PveHttpError } from './http.ts';
import { Permissions, type AclEntry } from './permissions.ts';

/**
 * `admin`: the JarvisOps role of lib/privileges.ts on `/` (the README's pveum recipe; the token `jarvis doctor` finds
 * neither short nor over-privileged); `readonly`: the audit privileges; or an explicit privilege list on `/`.
 */
export type Privileges = 'admin' | 'readonly' | readonly string[];

export interface SimToken {
  tokenId: string;
  secret: string;
  privileges?: Privileges;
  /** More role assignments on deeper paths (each replaces what the token inherits there, as PVE's ACLs do). */
  acl?: AclEntry[];
}

export interface Caller {
  /** `jarvis@pve!chatops` for tokens, `root@pam` for tickets. */
  authid: string;
  permissions: Permissions;
}

const READ_PRIVILEGES = ['VM.Audit', 'Sys.Audit', 'Datastore.Audit', 'SDN.Audit', 'Pool.Audit', 'Mapping.Audit'];

function privilegesOf(preset: Privileges | undefined): readonly string[] {
  if (preset === 'readonly') return READ_PRIVILEGES;
  if (preset === undefined || preset === 'admin') return Object.keys(REQUIRED_PRIVILEGES);
  return preset;
}

export function tokenPermissions(token: SimToken): Permissions {
  return new Permissions(token.tokenId, [{ path: '/', privileges: privilegesOf(token.privileges) }, ...(token.acl ?? [])]);
}

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
      return { authid: token.tokenId, permissions: tokenPermissions(token) };
    }
    const cookie = /(?:^|;\s*)PVEAuthCookie=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (!cookie) throw new PveHttpError(401, 'No ticket');
    const session = this.tickets.get(decodeURIComponent(cookie));
    if (!session) throw new PveHttpError(401, 'invalid ticket');
    if (method !== 'GET') {
      const csrf = req.headers.csrfpreventiontoken;
      if (typeof csrf !== 'string' || !safeEqual(csrf, session.csrf)) throw new PveHttpError(401, 'Permission denied - invalid csrf token');
    }
    return { authid: session.user, permissions: new Permissions(session.user, []) };
  }
}
