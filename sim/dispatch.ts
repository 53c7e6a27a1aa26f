// One API call inside the simulator: schema check, then the route handler. Used by the HTTPS server and by the
// scenario builders, so scenario state is made by the same code a client's requests run.
import { validatePveRequest } from '../lib/pve-schema/index.ts';
import { PveHttpError, type Params } from './http.ts';
import type { SimLab } from './lab.ts';
import { agentRoutes } from './routes/agent.ts';
import { backupRoutes } from './routes/backup.ts';
import { clusterRoutes } from './routes/cluster.ts';
import { downloadRoutes } from './routes/download.ts';
import { firewallRoutes } from './routes/firewall.ts';
import { networkRoutes } from './routes/network.ts';
import { qemuRoutes } from './routes/qemu.ts';
import { snapshotRoutes } from './routes/snapshots.ts';
import { storageRoutes } from './routes/storage.ts';
import type { RouteTable } from './routes/types.ts';

export const ROUTES: RouteTable = {
  ...clusterRoutes,
  ...qemuRoutes,
  ...snapshotRoutes,
  ...agentRoutes,
  ...networkRoutes,
  ...storageRoutes,
  ...downloadRoutes,
  ...firewallRoutes,
  ...backupRoutes,
};

export type Checked = { template: string; path: Record<string, string> };

/** Validates against the official schema; throws PVE's 400/501 as a PveHttpError. */
export function checkRequest(method: string, path: string, params: Params): Checked {
  const result = validatePveRequest(method, path, params);
  if (!result.ok) {
    const message = result.status === 400 ? 'Parameter verification failed.' : Object.values(result.errors)[0] ?? 'not implemented';
    throw new PveHttpError(result.status, message, result.status === 400 ? result.errors : undefined);
  }
  const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
  const names = result.template.split('/').filter(Boolean);
  const pathParams: Record<string, string> = {};
  names.forEach((name, i) => {
    const placeholder = /^\{(.+)\}$/.exec(name);
    if (placeholder) pathParams[placeholder[1]!] = segments[i]!;
  });
  return { template: result.template, path: pathParams };
}

export async function runRoute(lab: SimLab, method: string, checked: Checked, params: Params, user: string): Promise<unknown> {
  const handler = ROUTES[`${method} ${checked.template}`];
  if (!handler) throw new PveHttpError(501, `Method '${method} ${checked.template}' not implemented by the simulator`);
  return await handler({ lab, params, path: checked.path, user });
}

/** A call made by the simulator itself (scenarios): validated, run, and its tasks finished at once. */
export async function callInternal(lab: SimLab, method: string, path: string, params: Params = {}): Promise<unknown> {
  const checked = checkRequest(method, path, params);
  const result = await runRoute(lab, method, checked, params, 'root@pam');
  await lab.tasks.drain();
  const upid = typeof result === 'string' && result.startsWith('UPID:') ? result : undefined;
  const task = upid ? lab.tasks.find(upid) : undefined;
  if (task && task.exitstatus !== 'OK') throw new Error(`scenario step ${method} ${path} failed: ${task.exitstatus}`);
  return result;
}
