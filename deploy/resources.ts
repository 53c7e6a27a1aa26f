// Which lab resources an action touches, so two actions on the same one never run side by side even when the plan
// does not order them: PVE takes a per-VM lock (a second task fails with "can't lock file"), firewall rule positions
// shift under concurrent inserts, and apt in one guest cannot run twice.
import type { Plan, PlanAction } from '../planner/plan.ts';

function requestResource(path: string, params: Record<string, string | number>): string {
  if (/^\/nodes\/[^/]+\/qemu$/.test(path) && params.vmid !== undefined) return `vm:${params.vmid}`;
  const vm = /^\/nodes\/[^/]+\/qemu\/(\d+)/.exec(path);
  if (vm) return `vm:${vm[1]}`;
  const node = /^\/nodes\/[^/]+\/([^/]+)/.exec(path);
  if (node) return `node:${node[1]}`;
  const cluster = /^\/cluster\/([^/]+)/.exec(path);
  if (cluster) return `cluster:${cluster[1]}`;
  return path.split('/').slice(0, 2).join('/');
}

export function resourceKeys(plan: Plan, action: PlanAction): string[] {
  const keys = new Set<string>([`target:${action.targetKey}`]);
  if (action.preSnapshot) keys.add(`vm:${action.preSnapshot.vmid}`);
  const params = action.params;
  switch (params.channel) {
    case 'pve':
      for (const request of [...params.requests, ...(params.revert ?? [])]) keys.add(requestResource(request.path, request.params));
      break;
    case 'host':
      keys.add(`host:${plan.node}`);
      break;
    case 'guest':
      keys.add(`guest:${params.vmid}`);
      break;
    case 'tailnet':
      keys.add(`tailnet:${params.hostname}`);
      break;
    case 'owner':
      // Nothing is touched: a manual step only looks.
      break;
  }
  return [...keys];
}
