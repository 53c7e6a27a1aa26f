// The real-answer fixtures (test/fixtures/pve-real): answers recorded from real Proxmox VE nodes by public projects,
// or derived from PVE's own source where no recording exists (each file names its source). `serveAnswers` puts them
// behind a local HTTPS stub so they reach Jarvis through its real client, transport and schemas.
import { readdirSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { answer, startStub, type RunningStub } from '../infra/proxmox/support/stub.ts';
import { testClient } from '../infra/proxmox/support/clients.ts';
import type { ProxmoxClient } from '../../infra/proxmox/client.ts';

export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/pve-real/', import.meta.url));

export type FixtureCall = 'listNetwork' | 'zfsPoolDetail' | 'listSnapshots' | 'listDisks' | 'vzdumpTasks';

export interface PveRealFixture {
  file: string;
  call: FixtureCall;
  kind: 'recorded' | 'derived';
  pveVersion: string;
  source: string;
  derivation?: string;
  notes?: string;
  /** The whole JSON body (`{data, …}`); for vzdumpTasks: the task list body and one log body per UPID. */
  answer: unknown;
}

export interface VzdumpAnswer {
  tasks: { data: Array<{ upid: string }> };
  logs: Record<string, { data: unknown }>;
}

export function fixtureFiles(): string[] {
  return readdirSync(FIXTURE_DIR).filter((name) => name.endsWith('.json')).sort();
}

export function loadFixture(file: string): PveRealFixture {
  return { file, ...(JSON.parse(readFileSync(`${FIXTURE_DIR}${file}`, 'utf8')) as Omit<PveRealFixture, 'file'>) };
}

/** The API path (below /api2/json) each fixture answers, for node `proxmox` and the names it carries. */
export function routesOf(fixture: PveRealFixture): Record<string, unknown> {
  const body = fixture.answer as { data: Record<string, unknown> };
  switch (fixture.call) {
    case 'listNetwork':
      return { '/nodes/proxmox/network': body };
    case 'zfsPoolDetail':
      return { [`/nodes/proxmox/disks/zfs/${String(body.data.name)}`]: body };
    case 'listSnapshots':
      return { '/nodes/proxmox/qemu/300/snapshot': body };
    case 'listDisks':
      return { '/nodes/proxmox/disks/list': body };
    case 'vzdumpTasks': {
      const vzdump = fixture.answer as VzdumpAnswer;
      return {
        '/nodes/proxmox/tasks': vzdump.tasks,
        // A task's log lives on the node its UPID names.
        ...Object.fromEntries(Object.entries(vzdump.logs).map(([upid, log]) => [`/nodes/${upid.split(':')[1]}/tasks/${upid}/log`, log])),
      };
    }
  }
}

export interface AnswerServer {
  stub: RunningStub;
  client: ProxmoxClient;
}

/**
 * An HTTPS stub answering GETs of `routes` with their bodies verbatim, and anything else with `fallback` (default: a
 * 501 as pveproxy sends for a method it does not have), plus a client of the node `proxmox` pinned to it.
 */
export async function serveAnswers(routes: Record<string, unknown>, fallback?: (method: string, path: string, res: ServerResponse) => void): Promise<AnswerServer> {
  const stub = await startStub((req, res) => {
    const path = decodeURIComponent(req.path.replace(/^\/api2\/json/, ''));
    if (req.method === 'GET' && path in routes) {
      res.writeHead(200, 'OK', { 'content-type': 'application/json;charset=UTF-8' });
      res.end(JSON.stringify(routes[path]));
    } else if (fallback) fallback(req.method, path, res);
    else answer(res, 501, null, { reason: `Method '${req.method} ${path}' not implemented` });
  });
  return { stub, client: testClient(stub) };
}
