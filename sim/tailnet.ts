// The simulated tailnet: the Tailscale API v2 subset Jarvis uses (devices, device routes, policy file, keys),
// served over plain HTTP on loopback with bearer API-key auth. Errors are `{message}` like the real API.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from './http.ts';

export interface TailnetDevice {
  id: string;
  nodeId: string;
  name: string;
  hostname: string;
  user: string;
  os: string;
  addresses: string[];
  blocksIncomingConnections: boolean;
  enabledRoutes: string[];
  advertisedRoutes: string[];
  connectedToControl: boolean;
  lastSeen?: string;
  authorized: boolean;
  created: string;
  expires: string;
  keyExpiryDisabled: boolean;
  machineKey: string;
  nodeKey: string;
  tailnetLockKey: string;
  tailnetLockError: string;
  clientVersion: string;
  updateAvailable: boolean;
  clientConnectivity: { endpoints: string[]; latency: Record<string, unknown>; mappingVariesByDestIP: boolean; clientSupports: Record<string, boolean> };
  distro: { name: string; version: string; codeName: string };
  tags: string[];
  isExternal: boolean;
  isEphemeral: boolean;
  multipleConnections: boolean;
  sshEnabled: boolean;
  postureIdentity: { disabled: boolean };
}

const DETAIL_FIELDS = ['advertisedRoutes', 'enabledRoutes', 'clientConnectivity', 'sshEnabled', 'postureIdentity', 'distro'] as const;
const TAILNET_DOMAIN = 'tail5a1b2c.ts.net';
const CREATED = '2026-01-15T09:00:00Z';

/** Key expiry relative to today (UTC midnight), so a scenario never shows keys that expired in the calendar. */
function daysFromToday(days: number): string {
  const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  return new Date(today + days * 86_400_000).toISOString().replace('.000Z', 'Z');
}

const hash = (text: string): string => createHash('sha256').update(text).digest('hex');

export class TailnetState {
  readonly devices = new Map<string, TailnetDevice>();
  policy: Record<string, unknown> = {
    acls: [{ action: 'accept', src: ['autogroup:member'], dst: ['*:*'] }],
    tagOwners: {},
    ssh: [{ action: 'check', src: ['autogroup:member'], dst: ['autogroup:self'], users: ['autogroup:nonroot', 'root'] }],
    nodeAttrs: [] as Array<{ target: string[]; attr: string[] }>,
  };
  readonly keys: Array<Record<string, unknown>> = [
    {
      id: 'kAuthJarvis1CNTRL',
      keyType: 'auth',
      description: 'jarvis lab enrolment',
      created: CREATED,
      expires: daysFromToday(60),
      expirySeconds: 7776000,
      capabilities: { devices: { create: { reusable: true, ephemeral: false, preauthorized: true, tags: [] } } },
      userId: 'uJarvisOwner1CNTRL',
    },
  ];

  constructor(readonly apiKey: string) {}

  /** A guest that ran `tailscale up` appears (or is updated) here. */
  upsertDevice(input: { hostname: string; advertisedRoutes?: string[]; tags?: string[]; os?: string; clientVersion?: string }): TailnetDevice {
    const existing = [...this.devices.values()].find((d) => d.hostname === input.hostname);
    if (existing) {
      if (input.advertisedRoutes) {
        existing.advertisedRoutes = [...input.advertisedRoutes];
        existing.enabledRoutes = existing.enabledRoutes.filter((r) => existing.advertisedRoutes.includes(r));
      }
      if (input.tags) existing.tags = [...input.tags];
      return existing;
    }
    const digest = hash(input.hostname);
    const n = this.devices.size + 1;
    const nodeId = `n${digest.slice(0, 10)}CNTRL`;
    const device: TailnetDevice = {
      id: String(BigInt(`0x${digest.slice(0, 13)}`)),
      nodeId,
      name: `${input.hostname}.${TAILNET_DOMAIN}`,
      hostname: input.hostname,
      user: 'loic@example.com',
      os: input.os ?? 'linux',
      addresses: [`100.101.102.${n}`, `fd7a:115c:a1e0::${n.toString(16)}`],
      blocksIncomingConnections: false,
      enabledRoutes: [],
      advertisedRoutes: [...(input.advertisedRoutes ?? [])],
      connectedToControl: true,
      authorized: true,
      created: CREATED,
      expires: daysFromToday(150),
      keyExpiryDisabled: false,
      machineKey: `mkey:${digest.slice(0, 64)}`,
      nodeKey: `nodekey:${hash(`node:${input.hostname}`).slice(0, 64)}`,
      tailnetLockKey: `nlpub:${hash(`lock:${input.hostname}`).slice(0, 64)}`,
      tailnetLockError: '',
      clientVersion: input.clientVersion ?? '1.90.6-t0123456789-g0123456789',
      updateAvailable: false,
      clientConnectivity: { endpoints: [`192.168.1.${100 + n}:41641`], latency: {}, mappingVariesByDestIP: false, clientSupports: { ipv6: false, udp: true } },
      distro: { name: 'debian', version: '13', codeName: 'trixie' },
      tags: [...(input.tags ?? [])],
      isExternal: false,
      isEphemeral: false,
      multipleConnections: false,
      sshEnabled: false,
      postureIdentity: { disabled: true },
    };
    this.devices.set(device.nodeId, device);
    return device;
  }

  device(id: string): TailnetDevice | undefined {
    return this.devices.get(id) ?? [...this.devices.values()].find((d) => d.id === id);
  }

  etag(): string {
    return `"${hash(JSON.stringify(this.policy)).slice(0, 16)}"`;
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function authorized(req: IncomingMessage, apiKey: string): boolean {
  const header = req.headers.authorization ?? '';
  if (header === `Bearer ${apiKey}`) return true;
  if (header.startsWith('Basic ')) return Buffer.from(header.slice(6), 'base64').toString('utf8') === `${apiKey}:`;
  return false;
}

async function handle(state: TailnetState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (!authorized(req, state.apiKey)) return send(res, 401, { message: 'API token invalid' });
  const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
  if (parts[0] !== 'api' || parts[1] !== 'v2') return send(res, 404, { message: 'not found' });
  const [kind, id, sub] = parts.slice(2);
  if (kind === 'tailnet' && id !== undefined) {
    if (id !== '-' && id !== 'example.com') return send(res, 404, { message: 'tailnet not found' });
    if (sub === 'devices' && req.method === 'GET') {
      const all = url.searchParams.get('fields') === 'all';
      const devices = [...state.devices.values()].map((d) => {
        const copy: Record<string, unknown> = { ...d };
        if (!all) for (const field of DETAIL_FIELDS) delete copy[field];
        return copy;
      });
      return send(res, 200, { devices });
    }
    if (sub === 'acl' && req.method === 'GET') {
      const headers = { etag: state.etag() };
      if (url.searchParams.get('details') === 'true') {
        return send(res, 200, { acl: Buffer.from(JSON.stringify(state.policy, null, 2)).toString('base64'), warnings: [], errors: [] }, headers);
      }
      if ((req.headers.accept ?? '').includes('application/json')) return send(res, 200, state.policy, headers);
      res.writeHead(200, { 'content-type': 'application/hujson', ...headers });
      res.end(`// Simulated tailnet policy\n${JSON.stringify(state.policy, null, '\t')}\n`);
      return;
    }
    if (sub === 'keys' && req.method === 'GET') return send(res, 200, { keys: state.keys });
  }
  if (kind === 'device' && id !== undefined && sub === 'routes') {
    const device = state.device(id);
    if (!device) return send(res, 404, { message: 'device not found' });
    if (req.method === 'GET') return send(res, 200, { advertisedRoutes: device.advertisedRoutes, enabledRoutes: device.enabledRoutes });
    if (req.method === 'POST') {
      let routes: unknown;
      try {
        routes = (JSON.parse(await readBody(req)) as { routes?: unknown }).routes;
      } catch {
        return send(res, 400, { message: 'invalid JSON body' });
      }
      if (!Array.isArray(routes) || !routes.every((r) => typeof r === 'string')) return send(res, 400, { message: 'routes must be an array of CIDR strings' });
      // Enabling a route the device does not advertise is allowed by the API (it takes effect once advertised).
      device.enabledRoutes = [...(routes as string[])];
      return send(res, 200, { advertisedRoutes: device.advertisedRoutes, enabledRoutes: device.enabledRoutes });
    }
  }
  return send(res, 404, { message: 'not found' });
}

export async function startTailnetServer(state: TailnetState, host: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    handle(state, req, res).catch((error: unknown) => send(res, 500, { message: error instanceof Error ? error.message : String(error) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://${host}:${port}`, server };
}
