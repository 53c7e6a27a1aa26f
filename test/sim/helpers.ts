// Plain HTTPS calls to the simulator, the way any third-party client would make them (form bodies, 0/1 booleans).
import { Agent, request } from 'undici';
import { REQUIRED_PRIVILEGES } from '../../lib/privileges.ts';
import type { RunningSim, SimOptions } from '../../sim/server.ts';

export interface ApiResponse {
  status: number;
  statusText: string;
  body: { data: unknown; errors?: Record<string, string>; changes?: string };
}

export function agentFor(sim: RunningSim): Agent {
  return new Agent({ connect: { ca: sim.caPem, servername: 'proxmox' } });
}

export async function call(
  sim: RunningSim,
  agent: Agent,
  method: string,
  path: string,
  params: Record<string, string | number | string[]> = {},
  headers: Record<string, string> = { authorization: `PVEAPIToken=${sim.tokenId}=${sim.tokenSecret}` },
): Promise<ApiResponse> {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const item of Array.isArray(value) ? value : [value]) form.append(key, String(item));
  }
  const withBody = method === 'POST' || method === 'PUT';
  const query = !withBody && form.size ? `?${form}` : '';
  const res = await request(`${sim.url}/api2/json${path}${query}`, {
    method: method as 'GET',
    dispatcher: agent,
    headers: withBody ? { ...headers, 'content-type': 'application/x-www-form-urlencoded' } : headers,
    body: withBody ? form.toString() : undefined,
  });
  const text = await res.body.text();
  return { status: res.statusCode, statusText: res.statusText, body: JSON.parse(text) as ApiResponse['body'] };
}

/** Polls a task until it stops; returns its status row. */
export async function waitTask(sim: RunningSim, agent: Agent, upid: unknown): Promise<{ status: string; exitstatus?: string }> {
  for (let i = 0; i < 400; i++) {
    const res = await call(sim, agent, 'GET', `/nodes/proxmox/tasks/${encodeURIComponent(String(upid))}/status`);
    const data = res.body.data as { status: string; exitstatus?: string };
    if (data.status === 'stopped') return data;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`task ${String(upid)} did not stop`);
}

/**
 * A token that may also download images into a storage (download-url wants Datastore.AllocateTemplate on it), for
 * the tests that build guests from the cloud image through the API.
 */
export const IMAGE_TOKEN: NonNullable<SimOptions['tokens']> = [
  { tokenId: 'jarvis@pve!chatops', secret: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', privileges: [...Object.keys(REQUIRED_PRIVILEGES), 'Datastore.AllocateTemplate'] },
];

/** The vendor data the product writes: install qemu-guest-agent, then start it (its unit is static). */
export const AGENT_VENDOR_DATA = '#cloud-config\npackages:\n  - qemu-guest-agent\nruncmd:\n  - [systemctl, start, qemu-guest-agent]\n';

/** As the product prepares a node: `local` holds snippets, the Debian 13 cloud image downloaded and verified. */
export async function prepareDebianImage(sim: RunningSim, agent: Agent): Promise<void> {
  await call(sim, agent, 'PUT', '/storage/local', { content: 'iso,vztmpl,backup,import,snippets' });
  const url = 'https://cloud.debian.org/images/cloud/trixie/latest/debian-13-genericcloud-amd64.qcow2';
  const res = await call(sim, agent, 'POST', '/nodes/proxmox/storage/local/download-url', {
    url,
    content: 'import',
    filename: 'debian-13-genericcloud-amd64.qcow2',
    checksum: sim.lab.internet.sha512(url)!,
    'checksum-algorithm': 'sha512',
  });
  const status = await waitTask(sim, agent, res.body.data);
  if (status.exitstatus !== 'OK') throw new Error(`download-url: ${status.exitstatus}`);
}

/** Create parameters of a Debian VM built from the imported image, with a cloud-init drive and vendor data. */
export function debianVmParams(sim: RunningSim, vmid: number, opts: { name?: string; vendorData?: string | null } = {}): Record<string, string> {
  const params: Record<string, string> = {
    vmid: String(vmid),
    name: opts.name ?? `debian-${vmid}`,
    memory: '1024',
    scsihw: 'virtio-scsi-single',
    scsi0: 'local-lvm:0,import-from=local:import/debian-13-genericcloud-amd64.qcow2,cache=none',
    ide2: 'local-lvm:cloudinit',
    boot: 'order=scsi0',
    ciuser: 'jarvis',
    sshkeys: encodeURIComponent('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHelperTestKeyOnly000000000000000000000000 jarvis@test\n'),
    ipconfig0: 'ip=dhcp',
    net0: 'virtio,bridge=vmbr0',
    agent: '1',
  };
  if (opts.vendorData !== null) {
    sim.lab.nodeFiles.write(`/var/lib/vz/snippets/vendor-${vmid}.yaml`, Buffer.from(opts.vendorData ?? AGENT_VENDOR_DATA));
    params.cicustom = `vendor=local:snippets/vendor-${vmid}.yaml`;
  }
  return params;
}

/** Polls guest-ping until the agent answers; returns how long that took (ms). */
export async function waitForAgent(sim: RunningSim, agent: Agent, vmid: number, limitMs = 20_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const res = await call(sim, agent, 'POST', `/nodes/proxmox/qemu/${vmid}/agent/ping`);
    if (res.status === 200) return Date.now() - started;
    if (Date.now() - started > limitMs) throw new Error(`VM ${vmid}: no agent after ${limitMs} ms (${res.statusText})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** An SSH session to the simulated node as root (the generated key), reused for every command (node-ssh trims output). */
export async function sshToNode(sim: RunningSim): Promise<{ run(command: string): Promise<{ code: number; out: string; err: string }>; close(): void }> {
  const { NodeSSH } = await import('node-ssh');
  const ssh = new NodeSSH();
  await ssh.connect({ host: '127.0.0.1', port: sim.mgmtSshPort, username: 'root', privateKeyPath: sim.mgmtSshKeyPath, readyTimeout: 5_000 });
  return {
    async run(command) {
      const result = await ssh.execCommand(command);
      return { code: result.code ?? -1, out: result.stdout, err: result.stderr };
    },
    close: () => ssh.dispose(),
  };
}
