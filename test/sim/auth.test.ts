import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from 'undici';
import { startSim, type RunningSim } from '../../sim/server.ts';
import { agentFor, call } from './helpers.ts';

let sim: RunningSim;
let agent: Agent;

beforeAll(async () => {
  sim = await startSim({
    scenario: 'phase0',
    taskSeconds: 0.05,
    tokens: [
      { tokenId: 'jarvis@pve!chatops', secret: '11111111-2222-3333-4444-555555555555', privileges: 'admin' },
      { tokenId: 'audit@pve!ro', secret: '66666666-7777-8888-9999-000000000000', privileges: 'readonly' },
    ],
  });
  agent = agentFor(sim);
});
afterAll(async () => {
  await agent.close();
  await sim.close();
});

const token = (id: string, secret: string) => ({ authorization: `PVEAPIToken=${id}=${secret}` });

describe('authentication and privileges', () => {
  it('uses the first configured token as the advertised one', () => {
    expect(sim.tokenId).toBe('jarvis@pve!chatops');
  });

  it('answers 401 without credentials and with a wrong secret', async () => {
    expect((await call(sim, agent, 'GET', '/version', {}, {})).status).toBe(401);
    const wrong = await call(sim, agent, 'GET', '/version', {}, token('jarvis@pve!chatops', 'nope'));
    expect(wrong.status).toBe(401);
    expect(wrong.statusText).toBe('invalid token value!');
  });

  it('lets a read-only token read and answers 403 with PVE\'s message on writes', async () => {
    const ro = token('audit@pve!ro', '66666666-7777-8888-9999-000000000000');
    expect((await call(sim, agent, 'GET', '/nodes/proxmox/qemu/100/config', {}, ro)).status).toBe(200);
    const denied = await call(sim, agent, 'PUT', '/nodes/proxmox/qemu/100/config', { memory: '4096' }, ro);
    expect(denied.status).toBe(403);
    // qemu-server update_vm declares any VM.Config.* on the VM (pve-access-control check_any names them all).
    expect(denied.statusText).toBe('Permission check failed (/vms/100, VM.Config.Disk|VM.Config.CDROM|VM.Config.CPU|VM.Config.Memory|VM.Config.Network|VM.Config.HWType|VM.Config.Options|VM.Config.Cloudinit)');
    expect(sim.lab.vms.get(100)!.config.memory).toBe('2048');
    const perms = await call(sim, agent, 'GET', '/access/permissions', {}, ro);
    expect((perms.body.data as Record<string, Record<string, number>>)['/']).not.toHaveProperty('VM.Allocate');
  });

  it('issues tickets; writes with the cookie need the CSRF token', async () => {
    const login = await call(sim, agent, 'POST', '/access/ticket', { username: 'root@pam', password: sim.lab.passwords.get('root@pam')! }, {});
    expect(login.status).toBe(200);
    const { ticket, CSRFPreventionToken } = login.body.data as { ticket: string; CSRFPreventionToken: string };
    const cookie = { cookie: `PVEAuthCookie=${encodeURIComponent(ticket)}` };
    expect((await call(sim, agent, 'GET', '/nodes/proxmox/qemu', {}, cookie)).status).toBe(200);
    const noCsrf = await call(sim, agent, 'PUT', '/nodes/proxmox/qemu/100/config', { description: 'x' }, cookie);
    expect(noCsrf.status).toBe(401);
    const withCsrf = await call(sim, agent, 'PUT', '/nodes/proxmox/qemu/100/config', { description: 'x' }, { ...cookie, CSRFPreventionToken });
    expect(withCsrf.status).toBe(200);
    const bad = await call(sim, agent, 'POST', '/access/ticket', { username: 'root@pam', password: 'wrong' }, {});
    expect(bad.status).toBe(401);
  });

  it('serves a certificate whose SHA-256 fingerprint is the advertised one', async () => {
    const seen = await new Promise<string>((resolve, reject) => {
      import('node:tls').then(({ connect }) => {
        const socket = connect({ host: '127.0.0.1', port: Number(new URL(sim.url).port), rejectUnauthorized: false }, () => {
          resolve(socket.getPeerX509Certificate()!.fingerprint256);
          socket.end();
        });
        socket.on('error', reject);
      }, reject);
    });
    expect(seen).toBe(sim.fingerprint);
    expect(sim.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });
});

describe('schema enforcement over HTTP', () => {
  it('answers violations with HTTP 400 and exactly {data:null, errors} and records them', async () => {
    const before = sim.schemaViolations.length;
    const cases: Array<[string, string, Record<string, string>, string]> = [
      ['POST', '/nodes/proxmox/qemu', { vmid: '130', colour: 'blue' }, 'colour'],
      ['POST', '/nodes/proxmox/qemu', { vmid: '130', ostype: 'linux' }, 'ostype'],
      ['PUT', '/nodes/proxmox/qemu/100/config', { tags: 'env=prod' }, 'tags'],
      ['POST', '/cluster/firewall/rules', { type: 'in', action: 'ACCEPT', source: '192.168.1.5:22' }, 'source'],
      ['POST', '/nodes/proxmox/qemu/100/status/start', { skiplock: 'true' }, 'skiplock'],
    ];
    for (const [method, path, params, field] of cases) {
      const res = await call(sim, agent, method, path, params);
      expect(res.status).toBe(400);
      expect(res.statusText).toBe('Parameter verification failed.');
      expect(Object.keys(res.body)).toEqual(['data', 'errors']);
      expect(res.body.data).toBeNull();
      expect(Object.keys(res.body.errors!)).toEqual([field]);
    }
    expect(sim.schemaViolations.length - before).toBe(cases.length);
    expect(sim.schemaViolations.at(-1)).toMatchObject({ method: 'POST', path: '/nodes/proxmox/qemu/100/status/start', status: 400 });
    expect(sim.lab.vms.has(130)).toBe(false);
  });

  it('answers 501 for a path the API does not have', async () => {
    const res = await call(sim, agent, 'GET', '/nodes/proxmox/teleport');
    expect(res.status).toBe(501);
  });
});
