// Loading a saved plan for apply: by id from `<data dir>/plans/<id>.json`, or from a file path. The JSON is checked
// with zod (a garbled plan is refused with the field that is wrong) and its planHash is recomputed the way the
// planner computes it (planner/artifact.ts), so an edited plan cannot borrow the approval of the original.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError, JarvisError, EXIT } from '../lib/errors.ts';
import { hashOf } from '../planner/hash.ts';
import type { Plan } from '../planner/plan.ts';

const PLAN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const MAX_PLAN_BYTES = 10 * 1024 * 1024;

const risk = z.enum(['low', 'medium', 'high', 'critical']);
const pveRequest = z.looseObject({
  method: z.enum(['POST', 'PUT', 'DELETE']),
  path: z.string().regex(/^\/[^?#]*$/, 'must be an API path below /api2/json'),
  params: z.record(z.string(), z.union([z.string(), z.number()])),
  async: z.boolean(),
});
const agentWait = z.object({ vmid: z.number().int().min(100), seconds: z.number().int().min(1).max(7200), os: z.enum(['debian-13', 'haos', 'none']) }).optional();
const observe = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('tailnet-device-online'), hostname: z.string().min(1) }),
  z.object({ kind: z.literal('guest-agent-answers'), vmid: z.number().int().min(100) }),
]);
const params = z.discriminatedUnion('channel', [
  z.looseObject({ channel: z.literal('pve'), requests: z.array(pveRequest), revert: z.array(pveRequest).optional(), agentWait }),
  z.looseObject({ channel: z.literal('host'), step: z.string().min(1), args: z.record(z.string(), z.unknown()), agentWait }),
  z.looseObject({ channel: z.literal('guest'), vmid: z.number().int().min(100), step: z.string().min(1), args: z.record(z.string(), z.unknown()), agentWait }),
  z.looseObject({ channel: z.literal('tailnet'), op: z.literal('routes.approve'), hostname: z.string().min(1), routes: z.array(z.string()) }),
  z.looseObject({ channel: z.literal('owner'), instructions: z.array(z.string()), observe }),
]);
const action = z.looseObject({
  id: z.string().min(1),
  type: z.string().min(1),
  kind: z.enum(['create', 'update', 'delete', 'replace']),
  channel: z.enum(['pve', 'host', 'guest', 'tailnet', 'owner']),
  target: z.string(),
  targetKey: z.string().min(1),
  risk,
  preSnapshot: z.union([z.literal(false), z.looseObject({ vmid: z.number().int().min(100), name: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{1,39}$/) })]),
  rollbackHint: z.string(),
  expectedDowntime: z.string(),
  expectedDowntimeSeconds: z.number().min(0),
  dependsOn: z.array(z.string()),
  changes: z.array(z.object({ path: z.string(), from: z.unknown(), to: z.unknown() })),
  params,
  commitConfirm: z.boolean(),
  note: z.string().optional(),
});
export const planSchema = z.looseObject({
  formatVersion: z.number().int(),
  id: z.string().regex(PLAN_ID),
  createdAt: z.string(),
  requestedBy: z.string(),
  phase: z.enum(['phase0', 'phase1', 'phase2', 'firewall']),
  node: z.string().min(1),
  spec: z.object({ path: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  stateFingerprint: z.record(z.string(), z.string()),
  planHash: z.string().regex(/^[0-9a-f]{64}$/),
  summary: z.looseObject({}),
  unknowns: z.array(z.object({ what: z.string(), reason: z.string() })),
  warnings: z.array(z.object({ code: z.string(), message: z.string(), actionId: z.string().optional() })),
  violations: z.array(z.object({ ruleId: z.string(), message: z.string(), actionId: z.string().optional(), location: z.string().optional() })),
  actions: z.array(action),
});

/** The hash the planner gives a plan (planner/artifact.ts): format, spec, phase, state fingerprint and actions. */
export function planHashOf(plan: Plan): string {
  return hashOf({ formatVersion: plan.formatVersion, spec: plan.spec.sha256, phase: plan.phase, fingerprint: plan.stateFingerprint, actions: plan.actions });
}

/** A plan whose content does not match its hash: refused (exit 1), not merely invalid input. */
export class TamperedPlanError extends JarvisError {
  constructor(message: string) {
    super('plan-tampered', message, EXIT.refused);
    this.name = 'TamperedPlanError';
  }
}

export function planPath(ref: string, dataDir: string): string {
  if (ref.endsWith('.json') || ref.includes('/')) return ref;
  if (!PLAN_ID.test(ref)) throw new InputError(`"${ref}" is neither a plan id (letters, digits, . _ -) nor a .json file`);
  return join(dataDir, 'plans', `${ref}.json`);
}

export function parsePlan(text: string, where: string): Plan {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${where}: not a plan: the JSON does not parse (${(error as Error).message})`);
  }
  const parsed = planSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new InputError(`${where}: not a valid plan: ${issues.join('; ')}`);
  }
  const plan = parsed.data as unknown as Plan;
  const hash = planHashOf(plan);
  if (hash !== plan.planHash) {
    throw new TamperedPlanError(
      `${where}: plan ${plan.id} was changed after it was made (its content hashes to ${hash.slice(0, 12)}…, the plan says ${plan.planHash.slice(0, 12)}…); make a new plan with: jarvis plan ${plan.phase}`,
    );
  }
  return plan;
}

export async function loadPlan(ref: string, dataDir: string): Promise<Plan> {
  const path = planPath(ref, dataDir);
  let text: string;
  try {
    const bytes = await readFile(path);
    if (bytes.length > MAX_PLAN_BYTES) throw new Error(`larger than ${MAX_PLAN_BYTES} bytes`);
    text = bytes.toString('utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such plan (list them in the plans/ folder of JARVIS_DATA_DIR)' : (error as Error).message;
    throw new InputError(`cannot read plan ${path}: ${why}`);
  }
  return parsePlan(text, path);
}
