// Loading a saved plan for apply: by id from `<data dir>/plans/<id>.json` (chat and the CLI), or from a file the CLI
// names explicitly. An id is an id (PLAN_ID_PATTERN: no dot, no slash), never a path; a file must be a regular file
// of at most 10 MB. The JSON is checked with zod (a garbled plan is refused with the field that is wrong) and its
// planHash is recomputed the way the planner computes it (planner/artifact.ts), so an edited plan cannot pass as made.
import { join } from 'node:path';
import { z } from 'zod';
import { InputError, JarvisError, EXIT } from '../lib/errors.ts';
import { formatBytes, readRegularFile } from '../lib/files.ts';
import { computePlanHash, planContentHash } from '../planner/artifact.ts';
import { PLAN_FORMAT_VERSION, PLAN_ID_PATTERN, type Plan } from '../planner/plan.ts';

const MAX_PLAN_BYTES = 10 * 1024 * 1024;

const risk = z.enum(['low', 'medium', 'high', 'critical']);
const pveRequest = z.looseObject({
  method: z.enum(['POST', 'PUT', 'DELETE']),
  path: z.string().regex(/^\/[^?#]*$/, 'must be an API path below /api2/json'),
  params: z.record(z.string(), z.union([z.string(), z.number()])),
  async: z.boolean(),
});
const agentWait = z.object({ vmid: z.number().int().min(100), seconds: z.number().int().min(1).max(7200), os: z.enum(['debian-13', 'haos', 'opnsense', 'none']) }).optional();
const netProbe = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('addresses') }),
  z.object({ kind: z.literal('default-route') }),
  z.object({ kind: z.literal('ping'), address: z.string().min(1) }),
  z.object({ kind: z.literal('resolve'), name: z.string().min(1) }),
  z.object({ kind: z.literal('connect'), address: z.string().min(1), port: z.number().int().min(1).max(65535) }),
  z.object({ kind: z.literal('renew'), iface: z.string().min(1) }),
]);
const observe = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('tailnet-device-online'), hostname: z.string().min(1) }),
  z.object({ kind: z.literal('guest-agent-answers'), vmid: z.number().int().min(100) }),
  z.object({ kind: z.literal('router-routes'), routerVmid: z.number().int().min(100), fromVmid: z.number().int().min(100), probes: z.array(netProbe) }),
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
  id: z.string().regex(PLAN_ID_PATTERN, 'must be a plan id (letters, digits, _ and -)'),
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

/** A plan whose content does not match its hash, or not the plan that was approved: refused (exit 1). */
export class TamperedPlanError extends JarvisError {
  constructor(message: string) {
    super('plan-tampered', message, EXIT.refused);
    this.name = 'TamperedPlanError';
  }
}

/** Where the plan with this id is saved; anything but an id is refused (it must never become a path). */
export function planPath(id: string, dataDir: string): string {
  if (!PLAN_ID_PATTERN.test(id)) throw new InputError(`"${id.slice(0, 80)}" is not a plan id (letters, digits, _ and -, as \`jarvis plan\` prints it)`);
  return join(dataDir, 'plans', `${id}.json`);
}

export function parsePlan(text: string, where: string): Plan {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${where}: not a plan: the JSON does not parse (${(error as Error).message})`);
  }
  const version = (json as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof version === 'number' && version !== PLAN_FORMAT_VERSION) {
    throw new JarvisError('plan-format', `${where}: plan format version ${version}; this Jarvis reads version ${PLAN_FORMAT_VERSION} only: make a new plan`, EXIT.refused);
  }
  const parsed = planSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new InputError(`${where}: not a valid plan: ${issues.join('; ')}`);
  }
  const plan = parsed.data as unknown as Plan;
  const hash = computePlanHash(plan);
  if (hash !== plan.planHash) {
    throw new TamperedPlanError(
      `${where}: plan ${plan.id} was changed after it was made (its content hashes to ${hash.slice(0, 12)}…, the plan says ${plan.planHash.slice(0, 12)}…); make a new plan with: jarvis plan ${plan.phase}`,
    );
  }
  return plan;
}

async function readPlanText(path: string, missing: string): Promise<string> {
  const read = await readRegularFile(path, MAX_PLAN_BYTES);
  if (read.ok) return read.bytes.toString('utf8');
  const why = read.problem === 'not-found' ? missing : read.problem === 'too-large' ? `larger than ${formatBytes(MAX_PLAN_BYTES)}` : read.message;
  throw new InputError(`cannot read plan ${path}: ${why}`);
}

/**
 * The plan saved under `id` in the data dir (chat's only way to name a plan), with the content hash of the file as
 * written (planContentHash of its JSON, every field included, even ones the schema does not know).
 */
export async function readSavedPlan(id: string, dataDir: string): Promise<{ plan: Plan; path: string; contentHash: string }> {
  const path = planPath(id, dataDir);
  const text = await readPlanText(path, 'no such plan (list them in the plans/ folder of JARVIS_DATA_DIR)');
  const plan = parsePlan(text, path);
  if (plan.id !== id) throw new TamperedPlanError(`${path} holds plan ${plan.id}, not ${id}; a saved plan is never renamed`);
  return { plan, path, contentHash: planContentHash(JSON.parse(text)) };
}

export async function loadPlanById(id: string, dataDir: string): Promise<Plan> {
  return (await readSavedPlan(id, dataDir)).plan;
}

/** A plan file the CLI was given explicitly (`jarvis apply ./plan.json`). */
export async function loadPlanFile(path: string): Promise<Plan> {
  return parsePlan(await readPlanText(path, 'no such file'), path);
}

/**
 * The CLI's `<PLAN_ID|FILE>`: a plan id names a saved plan in the data dir; an argument with a `/` or ending in
 * `.json` is a file path (relative to the working directory); anything else is refused. So `plan-1.json` is a file
 * in the working directory, never the saved plan `plan-1`.
 */
export function planReference(arg: string): { id: string } | { file: string } {
  if (PLAN_ID_PATTERN.test(arg)) return { id: arg };
  if (arg.includes('/') || arg.endsWith('.json')) return { file: arg };
  throw new InputError(`"${arg.slice(0, 80)}" is neither a plan id (letters, digits, _ and -) nor a .json file`);
}
