// HTTP plumbing shared by the simulator's servers: PVE-shaped errors and request parameter parsing.
import type { IncomingMessage } from 'node:http';

/** An error the handler raises; rendered the way pveproxy renders a `die` (status line + JSON body). */
export class PveHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: Record<string, string>,
  ) {
    super(message);
  }
}

/** PVE's `die "...\n"` inside an API handler: HTTP 500 with the message as reason phrase. */
export const fail = (message: string): never => {
  throw new PveHttpError(500, message);
};

export type Params = Record<string, string | string[]>;

function addParam(out: Params, key: string, value: string): void {
  const existing = out[key];
  if (existing === undefined) out[key] = value;
  else out[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
}

export function parseQuery(search: string): Params {
  const out: Params = {};
  for (const [key, value] of new URLSearchParams(search)) addParam(out, key, value);
  return out;
}

export async function readBody(req: IncomingMessage, limit = 4 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new PveHttpError(413, 'request entity too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Form-encoded or JSON body; JSON booleans become 0/1 as PVE's JSON decoding does. */
export function parseBody(body: string, contentType: string | undefined): Params {
  if (body.trim() === '') return {};
  if ((contentType ?? '').includes('application/json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new PveHttpError(400, 'invalid JSON body', { body: 'unable to parse JSON' });
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new PveHttpError(400, 'JSON body must be an object');
    const out: Params = {};
    for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (Array.isArray(value)) out[key] = value.map((v) => scalar(v));
      else out[key] = scalar(value);
    }
    return out;
  }
  return parseQuery(body);
}

function scalar(value: unknown): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Single value of a parameter (the last one wins for repeated scalars). */
export function str(params: Params, key: string): string | undefined {
  const value = params[key];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

export function bool(params: Params, key: string, fallback = false): boolean {
  const value = str(params, key);
  return value === undefined ? fallback : value === '1';
}

export function int(params: Params, key: string): number | undefined {
  const value = str(params, key);
  return value === undefined ? undefined : Number(value);
}
