// The node's side of building guests: what it can download (the simulator's internet), how download-url, import-from
// and `qm disk import` answer, what `apt-get update` does on a fresh unsubscribed node, and directory mappings that
// must name a directory that exists on the node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from 'undici';
import { createSimShellRunner, type SimShellRunner } from '../../sim/guest/runner.ts';
import { DEBIAN_13_IMAGE_URL, DEBIAN_13_SUMS_URL, HAOS_IMAGE_URL } from '../../sim/internet.ts';
import { startSim, type RunningSim } from '../../sim/server.ts';
import { agentFor, call, IMAGE_TOKEN, waitForAgent, waitTask } from './helpers.ts';

let sim: RunningSim;
let agent: Agent;
let node: SimShellRunner;

beforeAll(async () => {
  sim = await startSim({ scenario: 'fresh', taskSeconds: 0.05, tokens: IMAGE_TOKEN });
  agent = agentFor(sim);
  node = createSimShellRunner(sim.lab);
});
afterAll(async () => {
  await node.close();
  await agent.close();
  await sim.close();
});

/** A command line on the node, as its SSH server would run it. */
async function onNode(command: string): Promise<{ code: number; out: string; err: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const code = await node.hostExec(command, { onStdout: (c) => out.push(c), onStderr: (c) => err.push(c) });
  return { code, out: Buffer.concat(out).toString('utf8'), err: Buffer.concat(err).toString('utf8') };
}

async function download(params: Record<string, string>, storage = 'local'): Promise<{ status: number; statusText: string; exitstatus?: string; log: string[] }> {
  const res = await call(sim, agent, 'POST', `/nodes/proxmox/storage/${storage}/download-url`, { content: 'import', ...params });
  if (res.status !== 200) return { status: res.status, statusText: res.statusText, log: [] };
  const done = await waitTask(sim, agent, res.body.data);
  const log = (await call(sim, agent, 'GET', `/nodes/proxmox/tasks/${encodeURIComponent(String(res.body.data))}/log`)).body.data as Array<{ t: string }>;
  return { status: 200, statusText: 'OK', ...(done.exitstatus ? { exitstatus: done.exitstatus } : {}), log: log.map((l) => l.t) };
}

describe('the node downloads from the simulated internet', () => {
  it('a fresh node has the storages a PVE 9 install gives: local with import, no snippets', async () => {
    expect((await call(sim, agent, 'GET', '/storage/local')).body.data).toMatchObject({ content: 'iso,vztmpl,backup,import' });
    expect((await call(sim, agent, 'GET', '/storage/local-lvm')).body.data).toMatchObject({ content: 'rootdir,images' });
  });

  it('curl on the node serves the table and fails an unknown host as curl does', async () => {
    const sums = await onNode(`curl -fsSL ${DEBIAN_13_SUMS_URL}`);
    expect(sums.code).toBe(0);
    expect(sums.out).toContain(`${sim.lab.internet.sha512(DEBIAN_13_IMAGE_URL)}  debian-13-genericcloud-amd64.qcow2\n`);
    expect(await onNode('curl -fsSL https://images.example.invalid/disk.qcow2')).toMatchObject({ code: 6, err: 'curl: (6) Could not resolve host: images.example.invalid\n' });
    // GitHub release assets redirect: without -L curl saves the empty redirect answer.
    expect((await onNode(`curl -fs -o "$JARVIS_ROOT/haos.xz" ${HAOS_IMAGE_URL} && stat -c %s "$JARVIS_ROOT/haos.xz"`)).out).toBe('0\n');
    expect((await onNode(`curl -fsL -o "$JARVIS_ROOT/haos.xz" ${HAOS_IMAGE_URL} && xz -t "$JARVIS_ROOT/haos.xz" && echo ok`)).out).toBe('ok\n');
  });

  it('download-url verifies the published sum and keeps the file in the import directory', async () => {
    const done = await download({ url: DEBIAN_13_IMAGE_URL, filename: 'debian-13-genericcloud-amd64.qcow2', checksum: sim.lab.internet.sha512(DEBIAN_13_IMAGE_URL)!, 'checksum-algorithm': 'sha512' });
    expect(done).toMatchObject({ exitstatus: 'OK' });
    expect(done.log).toContain('calculating checksum...OK, checksum verified');
    const content = (await call(sim, agent, 'GET', '/nodes/proxmox/storage/local/content', { content: 'import' })).body.data as Array<{ volid: string; format: string }>;
    expect(content).toEqual([expect.objectContaining({ volid: 'local:import/debian-13-genericcloud-amd64.qcow2', format: 'qcow2', content: 'import' })]);
    expect((await onNode('ls "$JARVIS_ROOT/var/lib/vz/import"')).out).toBe('debian-13-genericcloud-amd64.qcow2\n');
  });

  it('download-url fails an unreachable URL, a checksum mismatch, a file that is not the image it claims, a storage without files', async () => {
    expect(await download({ url: 'https://images.example.invalid/x.qcow2', filename: 'x.qcow2' })).toMatchObject({ exitstatus: "download failed: wget: unable to resolve host address 'images.example.invalid'" });
    const wrong = 'a'.repeat(128);
    expect(await download({ url: DEBIAN_13_IMAGE_URL, filename: 'again.qcow2', checksum: wrong, 'checksum-algorithm': 'sha512' })).toMatchObject({
      exitstatus: `checksum mismatch: got '${sim.lab.internet.sha512(DEBIAN_13_IMAGE_URL)}' != expect '${wrong}'`,
    });
    sim.lab.internet.set('https://cloud.debian.org/images/cloud/trixie/latest/corrupt.qcow2', 'this is not a qcow2 image');
    expect(await download({ url: 'https://cloud.debian.org/images/cloud/trixie/latest/corrupt.qcow2', filename: 'corrupt.qcow2' })).toMatchObject({
      exitstatus: 'failed to verify file: failed to query file information with qemu-img',
    });
    expect(await download({ url: DEBIAN_13_IMAGE_URL, filename: 'x.qcow2' }, 'local-lvm')).toMatchObject({ status: 500, statusText: "can't upload to storage type 'lvmthin', not a file based storage!" });
    expect(await download({ url: DEBIAN_13_IMAGE_URL, filename: 'x.iso' })).toMatchObject({ status: 400 });
    expect((await onNode('ls "$JARVIS_ROOT/var/lib/vz/import"')).out).toBe('debian-13-genericcloud-amd64.qcow2\n');
  });

  it('import-from a file that is not there fails the create and leaves no VM', async () => {
    const syntax = await call(sim, agent, 'POST', '/nodes/proxmox/qemu', { vmid: '240', scsi0: 'local-lvm:8,import-from=local:import/debian-13-genericcloud-amd64.qcow2' });
    expect(syntax.status).toBe(400);
    expect(syntax.body.errors).toEqual({ scsi0: "'import-from' requires special syntax - use <storage ID>:0,import-from=<source>" });
    const missing = await call(sim, agent, 'POST', '/nodes/proxmox/qemu', { vmid: '240', scsi0: 'local-lvm:0,import-from=local:import/nothing.qcow2' });
    expect(await waitTask(sim, agent, missing.body.data)).toMatchObject({ exitstatus: 'unable to create VM 240 - failed to query file information with qemu-img' });
    expect(sim.lab.vms.has(240)).toBe(false);
    expect(sim.lab.volumes.filter((v) => v.vmid === 240)).toEqual([]);
  });

  it('qm disk import prints the PVE 9 line and the imported HAOS disk boots HAOS', async () => {
    const create = await call(sim, agent, 'POST', '/nodes/proxmox/qemu', { vmid: '241', name: 'ha', memory: '2048', bios: 'ovmf', efidisk0: 'local-lvm:1,efitype=4m,pre-enrolled-keys=0', agent: '1', net0: 'virtio,bridge=vmbr0' });
    await waitTask(sim, agent, create.body.data);
    const imported = await onNode(
      `curl -fL -o "$JARVIS_ROOT/haos.qcow2.xz" ${HAOS_IMAGE_URL} && xz -d "$JARVIS_ROOT/haos.qcow2.xz" && qm disk import 241 "$JARVIS_ROOT/haos.qcow2" local-lvm`,
    );
    expect(imported.code).toBe(0);
    expect(imported.out.split('\n').filter(Boolean).at(-1)).toBe("unused0: successfully imported disk 'local-lvm:vm-241-disk-1'");
    expect(sim.lab.vms.get(241)!.config.unused0).toBe('local-lvm:vm-241-disk-1');
    expect(await onNode('qm disk import 241 "$JARVIS_ROOT/haos.qcow2" nowhere')).toMatchObject({ code: 255, err: "storage 'nowhere' does not exist\n" });
    expect((await onNode('qm set 241 --scsi0 local-lvm:vm-241-disk-1 --boot order=scsi0')).code).toBe(0);
    expect(sim.lab.vms.get(241)!.config.scsi0).toBe('local-lvm:vm-241-disk-1,size=32G');
    const start = await call(sim, agent, 'POST', '/nodes/proxmox/qemu/241/status/start');
    await waitTask(sim, agent, start.body.data);
    await waitForAgent(sim, agent, 241);
    expect(((await call(sim, agent, 'GET', '/nodes/proxmox/qemu/241/agent/get-osinfo')).body.data as { result: { id: string } }).result.id).toBe('haos');
    expect((await onNode('qm guest exec 241 -- cat /dev/null')).code).toBe(0);
  });
});

describe('the node’s package sources', () => {
  it('apt-get update on a fresh node without subscription gets 401 from the enterprise repositories and exits 100', async () => {
    const update = await onNode('apt-get update');
    expect(update.code).toBe(100);
    expect(update.out).toContain('Err:5 https://enterprise.proxmox.com/debian/pve trixie InRelease\n  401  Unauthorized [IP: 212.224.123.70 443]\n');
    expect(update.err).toContain('E: Failed to fetch https://enterprise.proxmox.com/debian/pve/dists/trixie/InRelease  401  Unauthorized [IP: 212.224.123.70 443]\n');
    expect(update.err).toContain("E: The repository 'https://enterprise.proxmox.com/debian/ceph-squid trixie InRelease' is not signed.\n");
    expect((await onNode('ls "$JARVIS_ROOT/etc/apt/sources.list.d"')).out).toBe('ceph.sources\ndebian.sources\npve-enterprise.sources\n');
  });

  it('with the enterprise sources disabled and the no-subscription repository, update succeeds', async () => {
    const switched = await onNode(
      'cd "$JARVIS_ROOT/etc/apt/sources.list.d" && for f in pve-enterprise.sources ceph.sources; do echo "Enabled: false" >>"$f"; done && ' +
        'printf "Types: deb\\nURIs: http://download.proxmox.com/debian/pve\\nSuites: trixie\\nComponents: pve-no-subscription\\n" >proxmox.sources && apt-get update',
    );
    expect(switched.code).toBe(0);
    expect(switched.out).toContain('Hit:4 http://download.proxmox.com/debian/pve trixie InRelease');
  });
});

describe('directory mappings', () => {
  it('refuses a path that does not exist on the node, takes it once it does', async () => {
    const missing = await call(sim, agent, 'POST', '/cluster/mapping/dir', { id: 'media', map: 'node=proxmox,path=/tank/media' });
    expect(missing).toMatchObject({ status: 500, statusText: 'Path /tank/media does not exist' });
    await onNode('mkdir -p "$JARVIS_ROOT/tank/media"');
    expect((await call(sim, agent, 'POST', '/cluster/mapping/dir', { id: 'media', map: 'node=proxmox,path=/tank/media' })).status).toBe(200);
    const again = await call(sim, agent, 'POST', '/cluster/mapping/dir', { id: 'media', map: 'node=proxmox,path=/tank/media' });
    expect(again.statusText).toBe("create directory mapping failed: dir ID 'media' already defined");
  });
});
