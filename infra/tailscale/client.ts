// The Tailscale API v2 client (TailnetApi) over undici, answers validated with zod. Auth: an OAuth client
// (client-credentials tokens, cached and renewed before they expire) or an API access token, both as Bearer.
import { Agent } from 'undici';
import { z } from 'zod';
import { InputError, JarvisError, UnreachableError } from '../../lib/errors.ts';
import { isLoopbackHost } from '../../lib/addresses.ts';
import type { Secret } from '../../lib/secret.ts';
import { pathSegment } from '../proxmox/paths.ts';
import type { TailnetApi, TailnetDevice, TailnetPolicy } from './api.ts';

export interface TailnetClientOptions {
  /** `https://api.tailscale.com`; plain http only for a loopback host (the simulated tailnet). */
  baseUrl: string;
  /** Tailnet name, or `-` for the token's default tailnet. */
  tailnet: string;
  apiKey?: Secret;
  oauth?: { clientId: string; clientSecret: Secret; scopes?: string[] };
  /** Whole request, body included (default 15 s). */
  timeoutMs?: number;
}

export interface TailnetClient extends TailnetApi {
  close(): Promise<void>;
}

/** An error answer of the Tailscale API (`{message}` with an HTTP status). */
export class TailnetError extends JarvisError {
  constructor(
    readonly status: number,
    readonly apiMessage: string,
    readonly call: string,
  ) {
    super(`tailnet-${status}`, `Tailscale API answered ${status} to ${call}: ${apiMessage || 'no message'}`);
    this.name = 'TailnetError';
  }
}

/** Renew an OAuth token this long before it expires (tokens last an hour). */
const RENEW_BEFORE_MS = 5 * 60_000;

const routeList = z.array(z.string()).default([]);
const deviceSchema = z.looseObject({
  id: z.string(),
  nodeId: z.string(),
  name: z.string(),
  hostname: z.string(),
  addresses: z.array(z.string()),
  os: z.string().optional(),
  authorized: z.boolean(),
  connectedToControl: z.boolean().optional(),
  lastSeen: z.string().optional(),
  expires: z.string().optional(),
  keyExpiryDisabled: z.boolean().default(false),
  advertisedRoutes: routeList,
  enabledRoutes: routeList,
  tags: z.array(z.string()).optional(),
});
const devicesAnswer = z.object({ devices: z.array(deviceSchema) });
const policyAnswer = z.looseObject({
  nodeAttrs: z
    .array(z.looseObject({ target: z.array(z.string()), attr: z.array(z.string()).default([]) }))
    .optional(),
});
const routesAnswer = z.looseObject({ advertisedRoutes: routeList, enabledRoutes: routeList });
const tokenAnswer = z.looseObject({ access_token: z.string().min(1), expires_in: z.number().positive() });

export function createTailnetClient(opts: TailnetClientOptions): TailnetClient {
  const base = parseBase(opts.baseUrl);
  if (opts.tailnet === '') throw new InputError('Tailnet name is empty; use "-" for the default tailnet');
  if (!opts.apiKey && !opts.oauth) throw new InputError('Tailscale API needs an OAuth client or an API key');
  const tailnet = pathSegment(opts.tailnet, 'tailnet name');
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const agent = new Agent({ connections: 4, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  let cached: { token: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;

  async function exchange(
    call: string,
    method: 'GET' | 'POST',
    path: string,
    init: { headers: Record<string, string>; body?: string },
  ): Promise<unknown> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const response = await agent.request({
        origin: base.origin,
        path: `${base.prefix}${path}`,
        method,
        headers: init.headers,
        body: init.body ?? null,
        signal: abort.signal,
      });
      const text = await response.body.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (response.statusCode >= 400) {
        const message = (body as { message?: unknown } | undefined)?.message;
        const text = typeof message === 'string' ? message : response.statusText;
        throw new TailnetError(response.statusCode, text, call);
      }
      if (body === undefined) {
        throw new JarvisError('tailnet-bad-response', `Tailscale API answered ${call} with non-JSON`);
      }
      return body;
    } catch (error) {
      if (error instanceof JarvisError) throw error;
      const reason = abort.signal.aborted ? `no complete answer within ${timeoutMs} ms` : describe(error);
      throw new UnreachableError(`Tailscale API at ${base.origin} is unreachable (${call}): ${reason}`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  async function fetchToken(oauth: NonNullable<TailnetClientOptions['oauth']>): Promise<string> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: oauth.clientId,
      client_secret: oauth.clientSecret.reveal(),
    });
    if (oauth.scopes) form.set('scope', oauth.scopes.join(' '));
    const call = 'POST /api/v2/oauth/token';
    const body = await exchange(call, 'POST', '/api/v2/oauth/token', {
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    });
    const answer = validate(call, tokenAnswer, body);
    const lifetimeMs = answer.expires_in * 1_000;
    const renewAt = Date.now() + Math.max(lifetimeMs - RENEW_BEFORE_MS, lifetimeMs / 2);
    cached = { token: answer.access_token, renewAt };
    return answer.access_token;
  }

  async function bearer(): Promise<string> {
    if (opts.apiKey) return opts.apiKey.reveal();
    if (cached && Date.now() < cached.renewAt) return cached.token;
    // Calls that need a token at the same moment share one exchange.
    pending ??= fetchToken(opts.oauth!).finally(() => {
      pending = undefined;
    });
    return pending;
  }

  async function api<T>(
    call: string,
    schema: z.ZodType<T>,
    method: 'GET' | 'POST',
    path: string,
    json?: unknown,
  ): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${await bearer()}`, accept: 'application/json' };
    if (json !== undefined) headers['content-type'] = 'application/json';
    const body = json === undefined ? undefined : JSON.stringify(json);
    try {
      return validate(call, schema, await exchange(call, method, path, { headers, body }));
    } catch (error) {
      // A revoked or expired token: the next call fetches a new one.
      if (error instanceof TailnetError && error.status === 401) cached = undefined;
      throw error;
    }
  }

  return {
    listDevices: async (): Promise<TailnetDevice[]> => {
      const path = `/api/v2/tailnet/${tailnet}/devices?fields=all`;
      return (await api('GET /tailnet/{tailnet}/devices', devicesAnswer, 'GET', path)).devices;
    },
    getPolicy: async (): Promise<TailnetPolicy> =>
      api('GET /tailnet/{tailnet}/acl', policyAnswer, 'GET', `/api/v2/tailnet/${tailnet}/acl`),
    setEnabledRoutes: async (nodeId: string, routes: string[]): Promise<void> => {
      const path = `/api/v2/device/${pathSegment(nodeId, 'device id')}/routes`;
      await api('POST /device/{deviceId}/routes', routesAnswer, 'POST', path, { routes });
    },
    close: () => agent.close(),
  };
}

function validate<T>(call: string, schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  throw new JarvisError(
    'tailnet-bad-response',
    `Tailscale API answered ${call} with an unexpected response: ${issues.join('; ')}`,
  );
}

function parseBase(baseUrl: string): { origin: string; prefix: string } {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new InputError(`Invalid Tailscale API URL ${JSON.stringify(baseUrl)}: not a URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new InputError(
      `Invalid Tailscale API URL ${JSON.stringify(baseUrl)}: https is required (plain http only on loopback)`,
    );
  }
  // Accept `https://api.tailscale.com` and `https://api.tailscale.com/api/v2`; paths below add /api/v2 themselves.
  const prefix = url.pathname.replace(/\/+$/, '').replace(/\/api\/v2$/, '');
  return { origin: url.origin, prefix };
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return `${typeof code === 'string' ? `${code}: ` : ''}${error.message}`;
}
