// A tiny HTTPS server on 127.0.0.1 with a fresh self-signed certificate, answering through a handler the test
// supplies. It records each request (method, path, query, body, headers) and how many were in flight at once.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';

export interface StubRequest {
  method: string;
  /** Path as sent, percent-encoding kept, without the query. */
  path: string;
  query: URLSearchParams;
  body: string;
  headers: IncomingMessage['headers'];
}

export type StubHandler = (req: StubRequest, res: ServerResponse) => void | Promise<void>;

export interface RunningStub {
  url: string;
  fingerprint: string;
  certPem: string;
  requests: StubRequest[];
  maxInFlight: number;
  setHandler(handler: StubHandler): void;
  close(): Promise<void>;
}

export interface StubCert {
  certPem: string;
  keyPem: string;
  fingerprint: string;
}

export async function makeCert(commonName = 'proxmox'): Promise<StubCert> {
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keySize: 2048,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: commonName }] }],
  });
  return { certPem: pems.cert, keyPem: pems.private, fingerprint: new X509Certificate(pems.cert).fingerprint256 };
}

/** Sends PVE's envelope: `{data}` on success, `{data:null, message, errors}` otherwise, with a reason phrase. */
export function answer(
  res: ServerResponse,
  status: number,
  data: unknown,
  extra: { message?: string; errors?: Record<string, string>; reason?: string } = {},
): void {
  const body = JSON.stringify({
    data,
    ...(extra.message ? { message: extra.message } : {}),
    ...(extra.errors ? { errors: extra.errors } : {}),
  });
  res.writeHead(status, extra.reason ?? '', { 'content-type': 'application/json;charset=UTF-8' });
  res.end(body);
}

export async function startStub(handler: StubHandler, cert?: StubCert): Promise<RunningStub> {
  const { certPem, keyPem, fingerprint } = cert ?? (await makeCert());
  let current = handler;
  let inFlight = 0;
  const sockets = new Set<Socket>();
  const stub: RunningStub = {
    url: '',
    fingerprint,
    certPem,
    requests: [],
    maxInFlight: 0,
    setHandler: (next) => {
      current = next;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer({ cert: certPem, key: keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://stub');
      const record: StubRequest = {
        method: req.method ?? '',
        path: (req.url ?? '/').split('?')[0] ?? '/',
        query: url.searchParams,
        body: Buffer.concat(chunks).toString('utf8'),
        headers: req.headers,
      };
      stub.requests.push(record);
      inFlight++;
      stub.maxInFlight = Math.max(stub.maxInFlight, inFlight);
      res.on('close', () => inFlight--);
      Promise.resolve(current(record, res)).catch((error: unknown) => {
        answer(res, 599, null, { message: `stub handler failed: ${String(error)}` });
      });
    });
  });
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stub;
}
