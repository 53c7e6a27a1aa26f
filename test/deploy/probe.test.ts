import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { managementProbe, probeTcp } from '../../deploy/probe.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A server that keeps a new connection open (like pveproxy waiting for the TLS hello). */
async function listen(onConnection: (socket: import('node:net').Socket) => void = () => undefined): Promise<number> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** A loopback port with nothing listening: bound, read, closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('management probe', () => {
  it('succeeds on a port that accepts new connections and fails on one that refuses them', async () => {
    const open = await listen();
    const closed = await closedPort();
    expect(await probeTcp('127.0.0.1', open, { timeoutMs: 2000 })).toMatchObject({ ok: true });
    expect(await probeTcp('127.0.0.1', closed, { timeoutMs: 2000 })).toMatchObject({ ok: false, detail: expect.stringContaining('ECONNREFUSED') });
  });

  it('counts a greeting as an answer and a connection reset right after accept as a failure', async () => {
    const ssh = await listen((socket) => socket.end('SSH-2.0-OpenSSH_10.0\r\n'));
    const filtered = await listen((socket) => socket.destroy());
    expect(await probeTcp('127.0.0.1', ssh, { timeoutMs: 2000, settleMs: 5000 })).toMatchObject({ ok: true, detail: expect.stringContaining('answers') });
    expect(await probeTcp('127.0.0.1', filtered, { timeoutMs: 2000, settleMs: 5000 })).toMatchObject({ ok: false, detail: expect.stringMatching(/closed the new connection|ECONNRESET/) });
  });

  it('needs both the API and the SSH port', async () => {
    const api = await listen();
    const ssh = await listen((socket) => socket.end('SSH-2.0-OpenSSH_10.0\r\n'));
    const closed = await closedPort();
    expect((await managementProbe({ host: '127.0.0.1', apiPort: api, sshPort: ssh })()).ok).toBe(true);
    const half = await managementProbe({ host: '127.0.0.1', apiPort: api, sshPort: closed })();
    expect(half.ok).toBe(false);
    expect(half.detail).toMatch(/SSH 127\.0\.0\.1:\d+ ECONNREFUSED/);
  });
});
