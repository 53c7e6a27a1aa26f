// Jarvis runs in one of the VMs it manages (JARVIS_SELF_VMID, VM 100 edge-gateway by default). An action that stops,
// reboots, re-addresses or rolls back that VM takes Jarvis itself offline in the middle of the apply: the plan says so
// beside the action, and the apply resumes from its journal when Jarvis is back. Judged by what the requests do (as
// the lock-out check is), so an action of any type that restarts the VM is caught.
import type { PlanAction, PlanWarning } from './plan.ts';

export const DEFAULT_SELF_VMID = 100;

const RESTART = /^\/nodes\/[^/]+\/qemu\/(\d+)\/status\/(stop|shutdown|reboot|reset|suspend)$/;
const ROLLBACK = /^\/nodes\/[^/]+\/qemu\/(\d+)\/snapshot\/[^/]+\/rollback$/;
const CONFIG = /^\/nodes\/[^/]+\/qemu\/(\d+)\/config$/;
/** A NIC moved or re-addressed: the guest's address changes under Jarvis. */
const ADDRESSING = /^(net\d+|ipconfig\d+)$/;

/** Why the action takes the VM `selfVmid` away, or undefined when it does not. */
function impact(action: PlanAction, selfVmid: number): string | undefined {
  if (action.params.channel !== 'pve') return undefined;
  for (const request of action.params.requests) {
    const restart = RESTART.exec(request.path);
    if (restart && Number(restart[1]) === selfVmid) return restart[2] === 'stop' || restart[2] === 'shutdown' ? 'its VM stops' : 'its VM restarts';
    const rollback = ROLLBACK.exec(request.path);
    if (rollback && Number(rollback[1]) === selfVmid) return 'its VM is rolled back to a snapshot';
    const config = CONFIG.exec(request.path);
    if (config && Number(config[1]) === selfVmid && Object.keys(request.params).some((key) => ADDRESSING.test(key))) return 'its VM is re-addressed';
  }
  return undefined;
}

/** Seconds Jarvis is away: the action's own downtime, and at least a reboot. */
const awaySeconds = (action: PlanAction): number => Math.max(30, action.expectedDowntimeSeconds);

/** One warning per action that takes Jarvis's own VM away. */
export function selfVmWarnings(actions: readonly PlanAction[], selfVmid: number): PlanWarning[] {
  return actions.flatMap((action) => {
    const why = impact(action, selfVmid);
    if (!why) return [];
    return [
      {
        code: 'jarvis-offline',
        actionId: action.id,
        message: `${action.id}: Jarvis itself goes offline for ~${awaySeconds(action)} s (${why}: VM ${selfVmid} is where Jarvis runs); the apply resumes from the journal after restart`,
      },
    ];
  });
}
