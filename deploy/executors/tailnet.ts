// Approves a device's advertised subnet routes through the Tailscale API and reads the approval back. The device may
// have joined moments ago (a guest step earlier in the plan), so it is looked for a few times before the action fails.
import type { PlanAction } from '../../planner/plan.ts';
import { ActionFailure, type ActionRun, type ExecutorResult } from './run.ts';

type TailnetParams = Extract<PlanAction['params'], { channel: 'tailnet' }>;

const ATTEMPTS = 10;
const INTERVAL_MS = 1_000;

export async function executeTailnet(run: ActionRun, params: TailnetParams): Promise<ExecutorResult> {
  const tailnet = run.ctx.tailnet;
  if (!tailnet) throw new ActionFailure('no Tailscale API configured (TAILSCALE_* variables)', 'failed');
  let missing = '';
  for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
    const devices = await tailnet.listDevices();
    const device = devices.find((candidate) => candidate.hostname === params.hostname || candidate.name.split('.')[0] === params.hostname);
    const notAdvertised = device ? params.routes.filter((route) => !device.advertisedRoutes.includes(route)) : params.routes;
    if (device && notAdvertised.length === 0) {
      const toEnable = params.routes.filter((route) => !device.enabledRoutes.includes(route));
      if (toEnable.length === 0) return { detail: `routes ${params.routes.join(', ')} already approved for ${params.hostname} (read from the tailnet)`, alreadyDone: true };
      run.intent('routes', { nodeId: device.nodeId, routes: params.routes });
      await tailnet.setEnabledRoutes(device.nodeId, [...device.enabledRoutes, ...toEnable]);
      // Read back: the tailnet's own answer is what counts (an ACL autoApprovers or a policy may differ).
      const after = (await tailnet.listDevices()).find((candidate) => candidate.nodeId === device.nodeId);
      const enabled = after?.enabledRoutes ?? [];
      const refused = params.routes.filter((route) => !enabled.includes(route));
      if (refused.length > 0) {
        run.outcome('routes', 'failed', `read back: ${enabled.join(', ') || 'none'} enabled`);
        throw new ActionFailure(`the tailnet did not approve ${refused.join(', ')} for ${params.hostname}: read back, its approved routes are ${enabled.join(', ') || 'none'}`, 'failed');
      }
      run.outcome('routes', 'done', `enabled ${toEnable.join(', ')}`);
      return { detail: `approved ${toEnable.join(', ')} for ${params.hostname}; read back from the tailnet: approved routes ${enabled.join(', ')}` };
    }
    missing = device ? `${params.hostname} does not advertise ${notAdvertised.join(', ')}` : `${params.hostname} is not in the tailnet`;
    if (attempt < ATTEMPTS) await run.sleep(INTERVAL_MS);
  }
  throw new ActionFailure(`cannot approve routes: ${missing} (after ${ATTEMPTS} looks)`, 'failed');
}
