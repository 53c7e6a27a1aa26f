// What an approver must read in a chat plan to know what they approve, per action: a firewall rule as one readable
// line (direction, action, source → dest, proto/port, comment), every changed field as from → to, what a create sets,
// and for the ZFS pool the disks it erases. Pure: the plan's own data, nothing read.
import type { Plan, PlanAction, PveRequest } from '../planner/plan.ts';
import { ruleLine } from '../planner/rule-text.ts';

const show = (value: unknown): string => (value === null || value === undefined || value === '' ? '(none)' : typeof value === 'string' ? value : JSON.stringify(value));

const firstRequest = (requests: PveRequest[] | undefined, method: PveRequest['method']): PveRequest | undefined => requests?.find((r) => r.method === method);

/** The devices a `zfs.pool.create` formats, as the request names them. */
export function erasedDisks(action: PlanAction): string[] {
  if (action.type !== 'zfs.pool.create' || action.params.channel !== 'pve') return [];
  const devices = action.params.requests[0]?.params.devices;
  return devices === undefined ? [] : String(devices).split(',').filter(Boolean);
}

/** The lines under an action's head: what it does, in full. */
export function actionDetails(action: PlanAction): string[] {
  const pve = action.params.channel === 'pve' ? action.params : undefined;
  const position = (path: string | undefined): string => (path ? (/\/(\d+)$/.exec(path)?.[1] ?? '') : '');
  switch (action.type) {
    case 'firewall.rule.create': {
      const post = firstRequest(pve?.requests, 'POST');
      return post ? [`+ rule${post.params.pos !== undefined ? ` ${post.params.pos}` : ''}: ${ruleLine(post.params)}`] : changeLines(action);
    }
    case 'firewall.rule.delete': {
      const restore = firstRequest(pve?.revert, 'POST');
      return restore ? [`- rule ${position(firstRequest(pve?.requests, 'DELETE')?.path)}: ${ruleLine(restore.params)}`] : changeLines(action);
    }
    case 'firewall.rule.update': {
      const put = firstRequest(pve?.requests, 'PUT');
      const was = firstRequest(pve?.revert, 'PUT');
      if (!put || !was) return changeLines(action);
      const at = position(put.path);
      return [`rule ${at} was: ${ruleLine(was.params)}`, `rule ${at} becomes: ${ruleLine(put.params)}`];
    }
    case 'zfs.pool.create': {
      const disks = erasedDisks(action);
      return [`ERASES ALL DATA ON ${disks.join(', ')}`, ...changeLines(action).filter((line) => !line.startsWith('devices'))];
    }
    default:
      // A manual step says what the owner does; Jarvis only watches for the result.
      if (action.params.channel === 'owner') return action.params.instructions.map((line) => `✋ ${line}`);
      return changeLines(action);
  }
}

/** Every change: `field: from → to` for updates and deletes; what a create sets, on one line. */
function changeLines(action: PlanAction): string[] {
  if (action.changes.length === 0) return [];
  if (action.kind === 'create' && action.changes.every((c) => c.from === null || c.from === undefined)) {
    return [`sets ${action.changes.map((c) => `${c.path}=${show(c.to)}`).join(', ')}`];
  }
  return action.changes.map((c) => `${c.path}: ${show(c.from)} → ${show(c.to)}`);
}

/** What the typed confirmation of a critical plan must restate: each critical action, and the disks it erases. */
export function criticalWarnings(plan: Plan): string[] {
  return plan.actions
    .filter((a) => a.risk === 'critical')
    .map((a) => {
      const disks = erasedDisks(a);
      return disks.length > 0 ? `${a.target}: ERASES ALL DATA ON ${disks.join(', ')}` : `${a.target}: ${a.type} (critical: ${a.rollbackHint})`;
    });
}
