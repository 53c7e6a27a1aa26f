// Dry-run: every request each action would send (method, path, parameters with secrets redacted), each checked
// against the official PVE schema; provisioning steps and Tailscale calls are described. Nothing is sent.
import { validatePveRequest } from '../lib/pve-schema/index.ts';
import type { Plan, PlanAction, PveRequest } from '../planner/plan.ts';
import { redactValue, safeJson } from './redact.ts';
import type { DryRunAction, DryRunRequest } from './types.ts';

function checked(purpose: DryRunRequest['purpose'], request: PveRequest): DryRunRequest {
  const result = validatePveRequest(request.method, request.path, request.params);
  return {
    purpose,
    method: request.method,
    path: request.path,
    params: redactValue(request.params) as Record<string, unknown>,
    async: request.async,
    schema: result.ok ? { ok: true, template: result.template } : { ok: false, status: result.status, errors: result.errors },
  };
}

export function preSnapshotRequest(plan: Plan, action: PlanAction): PveRequest | undefined {
  if (!action.preSnapshot) return undefined;
  return {
    method: 'POST',
    path: `/nodes/${plan.node}/qemu/${action.preSnapshot.vmid}/snapshot`,
    params: { snapname: action.preSnapshot.name, description: `Jarvis: before plan ${plan.id} (${action.id})` },
    async: true,
  };
}

export function dryRunAction(plan: Plan, action: PlanAction): DryRunAction {
  const requests: DryRunRequest[] = [];
  const operations: string[] = [];
  const snapshot = preSnapshotRequest(plan, action);
  if (snapshot) requests.push(checked('pre-snapshot', snapshot));
  const params = action.params;
  switch (params.channel) {
    case 'pve':
      for (const request of params.requests) requests.push(checked('action', request));
      if (action.commitConfirm) {
        operations.push('probe management (new TCP connections to the API and SSH ports) within the confirm window');
        for (const request of params.revert ?? []) requests.push(checked('revert', request));
      }
      break;
    case 'host':
      operations.push(`run step ${params.step} on the node ${plan.node} with ${safeJson(params.args)} (check first, apply if not done)`);
      break;
    case 'guest':
      operations.push(`wait for VM ${params.vmid}'s guest agent (up to ${params.agentWait?.seconds ?? 0} s), then run step ${params.step} in it with ${safeJson(params.args)} (check first, apply if not done)`);
      break;
    case 'tailnet':
      operations.push(`Tailscale API: approve routes ${params.routes.join(', ')} for device ${params.hostname} (POST /api/v2/device/{id}/routes)`);
      break;
    case 'owner':
      operations.push(`manual step for the owner (Jarvis sends nothing, it looks for the result): ${params.instructions.join(' ')}`);
      break;
  }
  return { actionId: action.id, target: action.target, requests, operations };
}

export function dryRunPlan(plan: Plan): { actions: DryRunAction[]; schemaErrors: number } {
  const actions = plan.actions.map((action) => dryRunAction(plan, action));
  const schemaErrors = actions.reduce((sum, action) => sum + action.requests.filter((request) => !request.schema.ok).length, 0);
  return { actions, schemaErrors };
}
