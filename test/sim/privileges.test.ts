// The simulator's default token holds exactly the JarvisOps role (lib/privileges.ts, the README's pveum recipe), and
// privileges are checked on the paths PVE checks them: SDN.Use on the bridge, Mapping.Use on the mapping,
// Datastore.AllocateSpace on the storage, cloud-init keys, import sources, download-url, each answered 403 like PVE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from 'undici';
import { REQUIRED_PRIVILEGES } from '../../lib/privileges.ts';
import { startSim, type RunningSim } from '../../sim/server.ts';
import { agentFor, call, waitTask } from './helpers.ts';

const ROLE = Object.keys(REQUIRED_PRIVILEGES);
const without = (...privileges: string[]): string[] => ROLE.filter((p) => !privileges.includes(p));
const TOKENS = {
  noIot: { tokenId: 'jarvis@pve!noiot', secret: '10000000-0000-4000-8000-000000000001', acl: [{ path: '/sdn/zones/localnetwork/vmbr2', privileges: without('SDN.Use') }] },
  noMedia: { tokenId: 'jarvis@pve!nomedia', secret: '10000000-0000-4000-8000-000000000002', acl: [{ path: '/mapping/dir/plex-media', privileges: ['Mapping.Audit'] }] },
  noSpace: { tokenId: 'jarvis@pve!nospace', secret: '10000000-0000-4000-8000-000000000003', acl: [{ path: '/storage/local-lvm', privileges: ['Datastore.Audit'] }] },
  noCloudinit: { tokenId: 'jarvis@pve!nocloudinit', secret: '10000000-0000-4000-8000-000000000004', privileges: without('VM.Config.Cloudinit', 'VM.Config.Network') },
  noImports: { tokenId: 'jarvis@pve!noimports', secret: '10000000-0000-4000-8000-000000000005', acl: [{ path: '/storage/local', privileges: [] }] },
  noTemplates: { tokenId: 'jarvis@pve!notemplates', secret: '10000000-0000-4000-8000-000000000006', privileges: without('Datastore.AllocateTemplate') },
};

let sim: RunningSim;
let agent: Agent;

beforeAll(async () => {
  sim = await startSim({ scenario: 'phase1', taskSeconds: 0.05 });
  agent = agentFor(sim);
});
afterAll(async () => {
  await agent.close();
  await sim.close();
});

const as = (token: { tokenId: string; secret: string }) => ({ authorization: `PVEAPIToken=${token.tokenId}=${token.secret}` });

async function withTokens<T>(run: (s: RunningSim, a: Agent) => Promise<T>): Promise<T> {
  const s = await startSim({ scenario: 'phase1', taskSeconds: 0.05, tokens: Object.values(TOKENS) });
  const a = agentFor(s);
  try {
    return await run(s, a);
  } finally {
    await a.close();
    await s.close();
  }
}

describe('the default token', () => {
  it('is jarvis@pve!chatops holding exactly the JarvisOps role on /', async () => {
    expect(sim.tokenId).toBe('jarvis@pve!chatops');
    const perms = (await call(sim, agent, 'GET', '/access/permissions', { path: '/' })).body.data as Record<string, Record<string, number>>;
    expect(Object.keys(perms['/']!).sort()).toEqual([...ROLE].sort());
  });

  it('builds and changes what Jarvis builds', async () => {
    const create = await call(sim, agent, 'POST', '/nodes/proxmox/qemu', { vmid: '250', name: 'ok', memory: '512', scsi0: 'local-lvm:4', net0: 'virtio,bridge=vmbr0', agent: '1', tags: 'env-lab' });
    expect(await waitTask(sim, agent, create.body.data)).toMatchObject({ exitstatus: 'OK' });
  });
});

describe('privileges on the paths PVE checks them', () => {
  it('SDN.Use on /sdn/zones/localnetwork/<bridge> for every NIC', () =>
    withTokens(async (s, a) => {
      const iot = await call(s, a, 'POST', '/nodes/proxmox/qemu', { vmid: '251', memory: '512', net0: 'virtio,bridge=vmbr2' }, as(TOKENS.noIot));
      expect(iot).toMatchObject({ status: 403, statusText: 'Permission check failed (/sdn/zones/localnetwork/vmbr2, SDN.Use)' });
      const lan = await call(s, a, 'POST', '/nodes/proxmox/qemu', { vmid: '251', memory: '512', net0: 'virtio,bridge=vmbr0' }, as(TOKENS.noIot));
      expect(lan.status).toBe(200);
      expect((await call(s, a, 'PUT', '/nodes/proxmox/qemu/300/config', { net1: 'virtio,bridge=vmbr2' }, as(TOKENS.noIot))).status).toBe(403);
      expect(s.lab.vms.get(300)!.config.net1).toBeUndefined();
    }));

  it('Mapping.Use on /mapping/dir/<id> to attach a mapped directory', () =>
    withTokens(async (s, a) => {
      const res = await call(s, a, 'PUT', '/nodes/proxmox/qemu/100/config', { virtiofs0: 'plex-media' }, as(TOKENS.noMedia));
      expect(res).toMatchObject({ status: 403, statusText: 'Permission check failed (/mapping/dir/plex-media, Mapping.Use)' });
      expect((await call(s, a, 'PUT', '/nodes/proxmox/qemu/100/config', { virtiofs0: 'docker-appdata' }, as(TOKENS.noMedia))).status).toBe(200);
    }));

  it('Datastore.AllocateSpace on /storage/<id> for a new disk and for growing one', () =>
    withTokens(async (s, a) => {
      const create = await call(s, a, 'POST', '/nodes/proxmox/qemu', { vmid: '252', memory: '512', scsi0: 'local-lvm:4' }, as(TOKENS.noSpace));
      expect(create).toMatchObject({ status: 403, statusText: 'Permission check failed (/storage/local-lvm, Datastore.AllocateSpace)' });
      const grow = await call(s, a, 'PUT', '/nodes/proxmox/qemu/100/resize', { disk: 'scsi0', size: '+1G' }, as(TOKENS.noSpace));
      expect(grow).toMatchObject({ status: 403, statusText: 'Permission check failed (/storage/local-lvm, Datastore.AllocateSpace)' });
      expect(s.lab.vms.has(252)).toBe(false);
    }));

  it('Datastore.AllocateTemplate on the storage download-url writes to', () =>
    withTokens(async (s, a) => {
      const url = 'https://cloud.debian.org/images/cloud/trixie/latest/debian-13-genericcloud-amd64.qcow2';
      const res = await call(s, a, 'POST', '/nodes/proxmox/storage/local/download-url', { url, content: 'import', filename: 'd.qcow2' }, as(TOKENS.noTemplates));
      expect(res).toMatchObject({ status: 403, statusText: 'Permission check failed (/storage/local, Datastore.AllocateTemplate)' });
    }));

  it('VM.Config.Cloudinit or VM.Config.Network for cloud-init settings', () =>
    withTokens(async (s, a) => {
      const res = await call(s, a, 'PUT', '/nodes/proxmox/qemu/100/config', { ciuser: 'someone' }, as(TOKENS.noCloudinit));
      expect(res).toMatchObject({ status: 403, statusText: 'Permission check failed (/vms/100, VM.Config.Cloudinit|VM.Config.Network)' });
    }));

  it('read access to the storage of an import source', () =>
    withTokens(async (s, a) => {
      const res = await call(s, a, 'POST', '/nodes/proxmox/qemu', { vmid: '253', memory: '512', scsi0: 'local-lvm:0,import-from=local:import/debian-13-genericcloud-amd64.qcow2' }, as(TOKENS.noImports));
      expect(res).toMatchObject({ status: 403, statusText: 'Permission check failed (/storage/local, Datastore.AllocateSpace|Datastore.Audit)' });
    }));

  it('a ticket of root@pam passes every check', async () => {
    const login = await call(sim, agent, 'POST', '/access/ticket', { username: 'root@pam', password: sim.lab.passwords.get('root@pam')! }, {});
    const { ticket, CSRFPreventionToken } = login.body.data as { ticket: string; CSRFPreventionToken: string };
    const res = await call(sim, agent, 'POST', '/nodes/proxmox/storage/local/download-url', { url: 'https://cloud.debian.org/images/cloud/trixie/latest/debian-13-genericcloud-amd64.qcow2', content: 'import', filename: 'root.qcow2' }, { cookie: `PVEAuthCookie=${encodeURIComponent(ticket)}`, CSRFPreventionToken });
    expect(res.status).toBe(200);
  });
});
