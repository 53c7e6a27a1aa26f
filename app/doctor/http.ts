// The doctor's own HTTP exchanges (the chat APIs' token checks and the Proxmox node's Date header), kept here so
// each check takes them as a port and tests drive the checks against local fakes.
import { Agent, request } from 'undici';
import { trustedConnector } from '../../infra/proxmox/tls.ts';
import { UnreachableError } from '../../lib/errors.ts';
import type { Secret } from '../../lib/secret.ts';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  body: unknown;
}

export type HttpExchange = (req: { method: 'GET' | 'POST'; url: string; headers: Record<string, string>; body?: string }) => Promise<HttpAnswer>;

function headerMap(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).flatMap(([k, v]) => (v === undefined ? [] : [[k.toLowerCase(), Array.isArray(v) ? v.join(', ') : v]])));
}

export function httpExchange(timeoutMs = 10_000): HttpExchange {
  return async ({ method, url, headers, body }) => {
    try {
      const answer = await request(url, { method, headers, body: body ?? null, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
      const text = await answer.body.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: answer.statusCode, headers: headerMap(answer.headers), body: json };
    } catch (error) {
      throw new UnreachableError(`${new URL(url).origin} is unreachable: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  };
}

/** The node's clock from the `Date` header of an authenticated GET /version, over a connection trusted as the client's. */
export function proxmoxServerTime(target: { url: string; tokenId: string; tokenSecret: Secret; fingerprint?: string; caPem?: string; timeoutMs: number }): () => Promise<Date> {
  return async () => {
    const agent = new Agent({ connect: trustedConnector({ fingerprint: target.fingerprint, caPem: target.caPem, connectTimeoutMs: target.timeoutMs }) });
    try {
      const answer = await request(`${target.url}/api2/json/version`, {
        dispatcher: agent,
        headers: { authorization: `PVEAPIToken=${target.tokenId}=${target.tokenSecret.reveal()}` },
        signal: AbortSignal.timeout(target.timeoutMs),
      });
      await answer.body.dump();
      const date = answer.headers.date;
      const parsed = typeof date === 'string' ? new Date(date) : undefined;
      if (!parsed || Number.isNaN(parsed.getTime())) throw new Error(`the answer (HTTP ${answer.statusCode}) carries no Date header`);
      return parsed;
    } finally {
      await agent.close();
    }
  };
}
