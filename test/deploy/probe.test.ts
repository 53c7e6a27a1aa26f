import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { managementProbe, probeTcp } from '../../deploy/probe.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(): Promise<number> {
  const server = createServer((socket) => socket.end());
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
    expect(await probeTcp('127.0.0.1', open, 2000)).toMatchObject({ ok: true });
    expect(await probeTcp('127.0.0.1', closed, 2000)).toMatchObject({ ok: false, detail: expect.stringContaining('ECONNREFUSED') });
  });

  it('needs both the API and the SSH port', async () => {
    const api = await listen();
    const ssh = await listen();
    const closed = await closedPort();
    expect((await managementProbe({ host: '127.0.0.1', apiPort: api, sshPort: ssh })()).ok).toBe(true);
    const half = await managementProbe({ host: '127.0.0.1', apiPort: api, sshPort: closed })();
    expect(half.ok).toBe(false);
    expect(half.detail).toMatch(/SSH 127\.0\.0\.1:\d+ ECONNREFUSED/);
  });
});
