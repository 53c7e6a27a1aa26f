// Optional receiver for Proxmox notification webhooks (a "Webhook" notification target). It listens only on the
// address the owner names (JARVIS_WEBHOOK_LISTEN, LAN or tailnet); a wildcard address is refused unless explicitly
// allowed, and even then it warns. Every request must carry the shared secret in `X-Jarvis-Secret` (configure the
// target's header as `X-Jarvis-Secret: {{ secrets.jarvis }}`); a wrong one gets 401 and raises nothing.
// Proxmox bodies carry little structure (the owner's template, typically title/message/severity/fields), so the UPID,
// VM ids and job id are read from the text when present.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { pveObject } from '../infra/proxmox/schemas.ts';
import { InputError } from '../lib/errors.ts';
import { boundToEveryAddress, parseListenAddress, type ListenAddress } from '../lib/addresses.ts';
import type { Secret } from '../lib/secret.ts';

export const SECRET_HEADER = 'x-jarvis-secret';
const MAX_BODY_BYTES = 64 * 1024;

/** The body a notification template renders; a template field PVE has no value for may come out as `null`. */
export const notificationBody = pveObject({
  title: z.string().max(4096).default(''),
  message: z.string().max(MAX_BODY_BYTES).default(''),
  severity: z.string().max(32).default('unknown'),
  timestamp: z.union([z.number(), z.string()]).optional(),
  fields: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))
    .transform((fields) => Object.fromEntries(Object.entries(fields).flatMap(([key, value]) => (value === null ? [] : [[key, String(value)]]))))
    .default({}),
});

export interface WebhookNotification {
  title: string;
  message: string;
  /** Proxmox severities: info, notice, warning, error, unknown. */
  severity: string;
  fields: Record<string, string>;
  upid?: string;
  vmids: number[];
  jobId?: string;
  /** A vzdump notification that reports an error. */
  backupFailure: boolean;
}

const UPID = /UPID:[A-Za-z0-9.-]+:[0-9A-F]{8}:[0-9A-F]{8,}:[0-9A-F]{8}:[A-Za-z0-9]+:[^:\s]*:[^:\s]+:/i;
const FAILED_VM = /Backup of VM (\d+) failed/g;
const VM_ROW = /^\s*(\d{3,9})\s+\S+\s+(?:err|FAILED|error)\b/gim;

/** Parses and interprets a webhook body; throws a ZodError for a body that is not an object of the expected fields. */
export function parseNotification(body: unknown): WebhookNotification {
  const b = notificationBody.parse(body);
  const text = `${b.title}\n${b.message}`;
  const vmids = new Set<number>();
  for (const m of text.matchAll(FAILED_VM)) vmids.add(Number(m[1]));
  for (const m of b.message.matchAll(VM_ROW)) vmids.add(Number(m[1]));
  const type = b.fields.type ?? '';
  const isBackup = type === 'vzdump' || /\b(backup|vzdump)\b/i.test(b.title);
  const failed = b.severity === 'error' || /\bfail(ed|ure)?\b/i.test(b.title);
  return {
    title: b.title,
    message: b.message,
    severity: b.severity,
    fields: b.fields,
    upid: UPID.exec(text)?.[0],
    vmids: [...vmids],
    jobId: b.fields['job-id'],
    backupFailure: isBackup && failed,
  };
}

/** `host:port` or `[v6]:port`, any spelling of "every address" caught (lib/addresses.ts); a wildcard only with allowWildcard. */
export function parseListen(listen: string, allowWildcard = false): ListenAddress {
  return parseListenAddress('JARVIS_WEBHOOK_LISTEN', listen, { allowWildcard, wildcardHint: '(or set JARVIS_WEBHOOK_ALLOW_WILDCARD=1 if you really mean it)' });
}

/** Constant-time comparison of the presented secret (hashing first makes the lengths equal). */
export function secretMatches(presented: string | undefined, expected: Secret): boolean {
  if (presented === undefined) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected.reveal()).digest();
  return timingSafeEqual(a, b);
}

export interface WebhookReceiverOptions {
  listen: string;
  secret: Secret;
  allowWildcard?: boolean;
  onNotification: (notification: WebhookNotification) => Promise<void>;
  /** Warnings and refusals, for the log (never the secret or the body). */
  warn?: (message: string) => void;
}

export interface WebhookReceiver {
  /** http://host:port of the bound socket. */
  url: string;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startWebhookReceiver(options: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const { host, port, wildcard } = parseListen(options.listen, options.allowWildcard);
  if (wildcard) options.warn?.(`webhook receiver listens on ALL addresses (${options.listen}); prefer a LAN or tailnet address`);
  const server: Server = createServer((req, res) => {
    const reply = (status: number, text: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${text}\n`);
    };
    void (async () => {
      if (req.method !== 'POST') return reply(405, 'POST only');
      const presented = req.headers[SECRET_HEADER];
      if (!secretMatches(Array.isArray(presented) ? presented[0] : presented, options.secret)) {
        options.warn?.(`webhook: refused a request from ${req.socket.remoteAddress ?? '?'} (missing or wrong ${SECRET_HEADER})`);
        return reply(401, 'unauthorized');
      }
      const raw = await readBody(req);
      if (raw === undefined) return reply(413, `body larger than ${MAX_BODY_BYTES} bytes`);
      let notification: WebhookNotification;
      try {
        notification = parseNotification(JSON.parse(raw));
      } catch (error) {
        const why = error instanceof z.ZodError ? error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') : 'not JSON';
        return reply(400, `invalid notification: ${why}`);
      }
      await options.onNotification(notification);
      reply(202, 'accepted');
    })().catch((error: unknown) => {
      options.warn?.(`webhook: handling failed: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) reply(500, 'handling failed');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  // A host name can still resolve to "every address": what the socket is bound to is what counts.
  if (boundToEveryAddress(address.address) && !options.allowWildcard) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw new InputError(`JARVIS_WEBHOOK_LISTEN=${options.listen}: resolves to every address (${address.address}); name your LAN or tailnet address`);
  }
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
