// The HTTP layer of the Proxmox client: one undici Pool per node, token auth, PVE's parameter encoding, a timeout
// over the whole exchange (body included), retries for reads only, bounded concurrency and request counts.
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { ZodType } from 'zod';
import { InputError, UnreachableError } from '../../lib/errors.ts';
import type { Secret } from '../../lib/secret.ts';
import type { PveParams } from './api.ts';
import { PveError, PveResponseError } from './errors.ts';
import { describeIssue } from './schemas.ts';
import { PinMismatchError, trustedConnector } from './tls.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface TransportOptions {
  url: string;
  tokenId: string;
  tokenSecret: Secret;
  fingerprint?: string;
  caPem?: string;
  /** Whole request, from sending to the last byte of the body (default 30 s). */
  timeoutMs?: number;
  /** Requests in flight at once (default 4: pveproxy runs 3 workers, a fourth keeps the pipe full). */
  maxConcurrency?: number;
  /** Extra attempts for a failed GET (default 2). Writes are never retried. */
  retries?: number;
  /** First retry delay; doubles per attempt (default 200 ms). */
  retryDelayMs?: number;
  /**
   * How long an idle connection is kept open (default 4 s, or less when the server says so). Commit-confirm keeps
   * one connection alive through a firewall change, which admits established connections only.
   */
  keepAliveMs?: number;
}

export interface TransportStats {
  /** HTTP requests sent, retries included. */
  total: number;
  /** Of those, repeated GETs. */
  retries: number;
  /** Requests per `METHOD /template`, retries included. */
  perCall: Record<string, number>;
}

const TOKEN_ID = /^[^\s@!=]+@[A-Za-z0-9._-]+![A-Za-z][A-Za-z0-9._-]*$/;

/** A failed attempt that may be repeated when the method is GET. */
class Transient extends Error {
  constructor(readonly final: Error) {
    super(final.message);
  }
}

export class PveTransport {
  readonly origin: string;
  readonly #pool: Pool;
  readonly #authorization: string;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #slots: Semaphore;
  readonly #perCall = new Map<string, number>();
  #total = 0;
  #retried = 0;

  constructor(opts: TransportOptions) {
    this.origin = parseOrigin(opts.url);
    if (!TOKEN_ID.test(opts.tokenId)) {
      throw new InputError(`Invalid Proxmox token id ${JSON.stringify(opts.tokenId)}: expected USER@REALM!TOKENNAME`);
    }
    this.#authorization = `PVEAPIToken=${opts.tokenId}=${opts.tokenSecret.reveal()}`;
    this.#timeoutMs = positive(opts.timeoutMs, 30_000, 'timeoutMs');
    this.#retries = Math.max(0, Math.floor(opts.retries ?? 2));
    this.#retryDelayMs = opts.retryDelayMs ?? 200;
    const concurrency = positive(opts.maxConcurrency, 4, 'maxConcurrency');
    this.#slots = new Semaphore(concurrency);
    this.#pool = new Pool(this.origin, {
      connections: concurrency,
      pipelining: 1,
      connect: trustedConnector({
        fingerprint: opts.fingerprint,
        caPem: opts.caPem,
        connectTimeoutMs: Math.min(this.#timeoutMs, 10_000),
      }),
      ...(opts.keepAliveMs !== undefined
        ? { keepAliveTimeout: opts.keepAliveMs, keepAliveMaxTimeout: opts.keepAliveMs }
        : {}),
      // Backstops only: the per-request abort below is the real limit.
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
    });
  }

  /**
   * Sends one call and returns the validated `data` of the answer. `path` is already encoded (paths.ts);
   * `template` names the call in statistics and errors.
   */
  async call<T>(method: HttpMethod, path: string, template: string, params: PveParams, schema: ZodType<T>): Promise<T> {
    const data = await this.send(method, path, template, params);
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      throw new PveResponseError(`${method} ${template}`, parsed.error.issues.map((issue) => describeIssue(issue)).join('; '));
    }
    return parsed.data;
  }

  /**
   * Like `call`, for the answers whose envelope carries more than `data` (the network list's `changes`): the schema
   * reads the whole `{data, …}` object.
   */
  async callEnvelope<T>(method: HttpMethod, path: string, template: string, params: PveParams, schema: ZodType<T>): Promise<T> {
    const envelope = await this.#exchange(method, path, template, params);
    const parsed = schema.safeParse(envelope);
    if (!parsed.success) {
      throw new PveResponseError(`${method} ${template}`, parsed.error.issues.map((issue) => describeIssue(issue, '')).join('; '));
    }
    return parsed.data;
  }

  /** Sends one call and returns the unvalidated `data` of the answer. */
  async send(method: HttpMethod, path: string, template: string, params: PveParams): Promise<unknown> {
    return (await this.#exchange(method, path, template, params)).data;
  }

  /** Sends one call (GETs retried) and returns the whole `{data, …}` envelope. */
  async #exchange(method: HttpMethod, path: string, template: string, params: PveParams): Promise<Record<string, unknown>> {
    const key = `${method} ${template}`;
    const encoded = encodeParams(params);
    const attempts = method === 'GET' ? this.#retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      this.#count(key, attempt > 1);
      try {
        return await this.#slots.run(() => this.#attempt(method, path, key, encoded));
      } catch (error) {
        if (!(error instanceof Transient)) throw error;
        if (attempt >= attempts) throw error.final;
        await sleep(this.#retryDelayMs * 2 ** (attempt - 1));
      }
    }
  }

  stats(): TransportStats {
    return { total: this.#total, retries: this.#retried, perCall: Object.fromEntries(this.#perCall) };
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }

  #count(key: string, retry: boolean): void {
    this.#total++;
    if (retry) this.#retried++;
    this.#perCall.set(key, (this.#perCall.get(key) ?? 0) + 1);
  }

  async #attempt(method: HttpMethod, path: string, call: string, params: URLSearchParams): Promise<Record<string, unknown>> {
    const query = params.size > 0 ? `?${params}` : '';
    const inBody = method === 'POST' || method === 'PUT';
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.#timeoutMs);
    try {
      const response = await this.#pool.request({
        method,
        path: `/api2/json${path}${inBody ? '' : query}`,
        headers: {
          authorization: this.#authorization,
          accept: 'application/json',
          ...(inBody ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        body: inBody ? params.toString() : null,
        signal: abort.signal,
      });
      const text = await response.body.text();
      return interpret(response.statusCode, response.statusText, text, call);
    } catch (error) {
      if (abort.signal.aborted) {
        throw new Transient(
          new UnreachableError(
            `Proxmox at ${this.origin} did not answer ${call} completely within ${this.#timeoutMs} ms` +
              (method === 'GET' ? '' : '; the change may or may not have been made'),
            { code: 'pve-timeout' },
          ),
        );
      }
      throw classify(error, this.origin);
    } finally {
      clearTimeout(timer);
    }
  }
}

function interpret(status: number, statusText: string, text: string, call: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (status >= 200 && status < 300) {
    if (typeof body !== 'object' || body === null || !('data' in body)) {
      throw new PveResponseError(call, `not a JSON {"data": …} envelope (${text.length} bytes)`);
    }
    return body as Record<string, unknown>;
  }
  const envelope = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const message = typeof envelope.message === 'string' && envelope.message !== '' ? envelope.message : statusText;
  const error = new PveError(status, message, fieldErrors(envelope.errors), call);
  // 5xx includes PVE's 596 (proxy to another node timed out) and pveproxy's "too many connections"; 501 (no such
  // method) is the one 5xx a repeat cannot change.
  throw status >= 500 && status !== 501 ? new Transient(error) : error;
}

function fieldErrors(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(Object.entries(value).map(([key, why]) => [key, String(why)]));
}

/** Connection-level failures: retried for GET, reported as unreachable in the end. */
function classify(error: unknown, origin: string): Error {
  if (error instanceof PveError || error instanceof PveResponseError || error instanceof Transient) return error;
  if (error instanceof PinMismatchError) {
    return new UnreachableError(`Proxmox at ${origin} refused: ${error.message}`, { code: 'tls-pin-mismatch' });
  }
  const reason = describeNetworkError(error);
  if (isCertificateError(error)) {
    return new UnreachableError(
      `Proxmox at ${origin} presented a certificate that is not trusted (${reason}); ` +
        'pin it with its SHA-256 fingerprint or name the cluster CA file',
      { code: 'tls-untrusted', cause: error },
    );
  }
  return new Transient(new UnreachableError(`Proxmox at ${origin} is unreachable: ${reason}`, { cause: error }));
}

/** OpenSSL verification codes (DEPTH_ZERO_SELF_SIGNED_CERT, CERT_HAS_EXPIRED…) and Node's host-name check. */
function isCertificateError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME/.test(code);
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${typeof code === 'string' ? `${code}: ` : ''}${error.message}${cause}`;
}

/** PVE's encoding: booleans 0/1, arrays as repeated keys, undefined dropped; URLSearchParams encodes `;` and `,`. */
export function encodeParams(params: PveParams): URLSearchParams {
  const out = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) out.append(key, item);
    else if (typeof value === 'boolean') out.append(key, value ? '1' : '0');
    else out.append(key, String(value));
  }
  return out;
}

function parseOrigin(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(`Invalid Proxmox URL ${JSON.stringify(url)}: not a URL`);
  }
  if (parsed.protocol !== 'https:') {
    throw new InputError(`Invalid Proxmox URL ${JSON.stringify(url)}: the API is served over https only`);
  }
  const rest = parsed.pathname.replace(/\/+$/, '');
  if ((rest !== '' && rest !== '/api2/json') || parsed.search !== '' || parsed.username !== '') {
    throw new InputError(`Invalid Proxmox URL ${JSON.stringify(url)}: expected https://HOST:PORT`);
  }
  return parsed.origin;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new InputError(`Invalid ${name} ${value}: must be a positive number`);
  return value;
}

/** At most `limit` tasks run at once; the rest wait in order. */
class Semaphore {
  #free: number;
  readonly #waiting: Array<() => void> = [];
  constructor(limit: number) {
    this.#free = limit;
  }
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}
