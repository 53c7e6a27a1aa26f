// Validation after apply: re-scan the lab and re-plan the same spec and phase — the plan must be empty — and probe
// the health of what the plan touched: VMs running where the spec wants them running, the guest agent answering where
// it is enabled, bridges up. Facts the re-scan could not read are reported as "not verified", never as achieved.
import type { ProxmoxApi } from '../infra/proxmox/api.ts';
import { buildPlan, phaseNumberOf, resolvePhase, scanLab, type ScanPorts } from '../planner/index.ts';
import type { Plan, PlanAction } from '../planner/plan.ts';
import { isSpecialPlan } from '../planner/special-plans.ts';
import type { Spec } from '../planner/spec/schema.ts';
import type { LiveState } from '../planner/state.ts';
import { segmentProbes } from './segment-probes.ts';
import type { ValidationProbe, ValidationReport } from './types.ts';

export interface ValidatorInput {
  plan: Plan;
  spec: Spec;
  scanPorts: ScanPorts;
  pve: Pick<ProxmoxApi, 'agentPing' | 'agentExec' | 'agentExecStatus'>;
  now: () => number;
}

const describeAction = (action: PlanAction): string =>
  `${action.kind} ${action.target}${action.changes.length > 0 ? `: ${action.changes.map((c) => c.path).join(', ')}` : ''}`;

/** The fingerprint key a re-scan gap is about (the planner words its unknowns this way), when it maps to one. */
function unknownTarget(what: string): string | undefined {
  const guest = /^in-guest state of VM (\d+)/.exec(what);
  if (guest) return `guest/${guest[1]}`;
  const vmFirewall = /^firewall of VM (\d+)/.exec(what);
  if (vmFirewall) return `firewall/vm/${vmFirewall[1]}`;
  if (what === 'firewall') return 'firewall/cluster';
  if (what.startsWith('host network')) return 'network';
  if (what.startsWith('ZFS pool')) return 'zfs/pools';
  if (what.startsWith('ZFS dataset')) return 'zfs/datasets';
  if (what.startsWith('snapshot policy')) return 'zfs/snapshot-policies';
  if (what.startsWith('storage ')) return 'storage';
  if (what.startsWith('directory mapping')) return 'mappings';
  if (what.startsWith('backup job')) return 'backup';
  if (what.startsWith('tailnet')) return 'tailnet';
  if (what.startsWith('apt sources')) return 'apt';
  const vm = /^vm\/(\d+).* config$/.exec(what);
  return vm ? `vm/${vm[1]}` : undefined;
}

const vmidOf = (key: string): number | undefined => {
  const m = /^(?:vm|guest)\/(\d+)$/.exec(key);
  return m ? Number(m[1]) : undefined;
};

async function healthProbes(input: ValidatorInput, state: LiveState, ownerInstalls: Set<number>): Promise<ValidationProbe[]> {
  const { plan, spec } = input;
  const desired = resolvePhase(spec, phaseNumberOf(plan.phase, spec));
  const probes: ValidationProbe[] = [];
  const vmids = [...new Set(plan.actions.flatMap((action) => vmidOf(action.targetKey) ?? []))].sort((a, b) => a - b);
  await Promise.all(
    vmids.map(async (vmid) => {
      const want = desired.vms.find((vm) => vm.vmid === vmid);
      const live = state.vms[vmid];
      if (!want) return;
      if (!live) {
        probes.push({ name: `vm/${vmid} exists`, targetKey: `vm/${vmid}`, ok: false, detail: `VM ${vmid} is not there` });
        return;
      }
      if (!want.running) return;
      const running = live.status === 'running';
      probes.push({ name: `vm/${vmid} running`, targetKey: `vm/${vmid}`, ok: running, detail: `status ${live.status}` });
      // An `os: none` VM whose system the owner has not installed yet has no agent to ask: that is its manual step.
      // OPNsense answers the agent only with an optional plugin: the router is judged by its routing (its manual step).
      if (!want.agent || !running || ownerInstalls.has(vmid) || want.os === 'opnsense') return;
      try {
        await input.pve.agentPing(vmid);
        probes.push({ name: `vm/${vmid} guest agent`, targetKey: `guest/${vmid}`, ok: true, detail: 'answers' });
      } catch (error) {
        probes.push({ name: `vm/${vmid} guest agent`, targetKey: `guest/${vmid}`, ok: false, detail: error instanceof Error ? error.message : String(error), unreadable: true });
      }
    }),
  );
  if (plan.actions.some((action) => action.targetKey === 'network' || action.type.startsWith('network.'))) {
    for (const bridge of desired.bridges) {
      if (!state.network.known) {
        probes.push({ name: `bridge ${bridge.iface} up`, targetKey: 'network', ok: false, detail: `network not readable: ${state.network.reason}` });
        continue;
      }
      const live = state.network.value.find((iface) => iface.iface === bridge.iface);
      probes.push({
        name: `bridge ${bridge.iface} up`,
        targetKey: 'network',
        ok: Boolean(live?.active) && !live?.pending,
        detail: !live ? 'missing' : live.pending ? 'changes still pending' : live.active ? 'active' : 'not active',
      });
    }
  }
  probes.push(...(await segmentProbes(input.pve, desired, state)));
  return probes.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Rollback and backup-retry plans (planner/special-plans.ts) are not made from the spec: after a rollback the lab may
 * rightly differ from it, so re-planning the spec would call a good rollback a failure. They are validated by probing
 * their VM instead: it exists and, when the rollback restarted it, it runs.
 */
async function validateSpecialPlan(input: ValidatorInput): Promise<ValidationReport> {
  const probes: ValidationProbe[] = [];
  for (const action of input.plan.actions) {
    const vmid = vmidOf(action.targetKey);
    if (vmid === undefined) continue;
    try {
      const status = await input.scanPorts.pve.vmStatus(vmid);
      probes.push({ name: `vm/${vmid} exists`, targetKey: action.targetKey, ok: true, detail: `status ${status.status}` });
      const restarts = action.params.channel === 'pve' && action.params.requests.some((request) => request.params.start === 1);
      if (action.type === 'vm.rollback' && restarts) {
        probes.push({ name: `vm/${vmid} running`, targetKey: action.targetKey, ok: status.status === 'running', detail: `status ${status.status}` });
      }
    } catch (error) {
      probes.push({ name: `vm/${vmid} exists`, targetKey: action.targetKey, ok: false, detail: error instanceof Error ? error.message : String(error) });
    }
  }
  return { remaining: [], probes, unverified: [] };
}

/** Non-owner actions that (transitively) depend on a manual step, with the step they wait for. */
function ownerDependencies(actions: PlanAction[]): Map<string, string> {
  const byId = new Map(actions.map((a) => [a.id, a]));
  const cause = new Map<string, string | undefined>();
  const find = (action: PlanAction): string | undefined => {
    if (cause.has(action.id)) return cause.get(action.id);
    cause.set(action.id, undefined);
    let found: string | undefined;
    for (const dep of action.dependsOn) {
      const other = byId.get(dep);
      if (!other) continue;
      found = other.channel === 'owner' ? other.id : find(other);
      if (found) break;
    }
    cause.set(action.id, found);
    return found;
  };
  const out = new Map<string, string>();
  for (const action of actions) {
    const step = action.channel === 'owner' ? undefined : find(action);
    if (step) out.set(action.id, step);
  }
  return out;
}

export function makeValidator(input: ValidatorInput): () => Promise<ValidationReport> {
  return async () => {
    const { plan, spec } = input;
    if (isSpecialPlan(plan)) return validateSpecialPlan(input);
    const state = await scanLab(input.scanPorts, spec, phaseNumberOf(plan.phase, spec));
    const again = buildPlan({
      spec,
      specPath: plan.spec.path,
      specSha256: plan.spec.sha256,
      phase: plan.phase,
      state,
      requestedBy: 'jarvis:validate',
      now: new Date(input.now()).toISOString(),
      id: `${plan.id}-validate`,
    });
    // Manual steps the re-plan still lists are the owner's to do: reported as waiting, not as Jarvis's unfinished work;
    // so is what waits behind them (a NIC move behind the router gate): blocked, not failed.
    const behind = ownerDependencies(again.actions);
    const remaining = again.actions
      .filter((action) => action.channel !== 'owner' && !behind.has(action.id))
      .map((action) => ({ actionId: action.id, targetKey: action.targetKey, summary: describeAction(action) }));
    const blocked = again.actions
      .filter((action) => behind.has(action.id))
      .map((action) => ({ actionId: action.id, targetKey: action.targetKey, summary: describeAction(action), waitsFor: behind.get(action.id)! }));
    const waiting = again.actions.flatMap((action) =>
      action.params.channel === 'owner' ? [{ actionId: action.id, summary: `${action.target}: ${action.changes.map((c) => String(c.to)).join(', ')}`, instructions: action.params.instructions }] : [],
    );
    const ownerInstalls = new Set(again.actions.flatMap((action) => (action.params.channel === 'owner' && action.params.observe.kind === 'guest-agent-answers' ? [action.params.observe.vmid] : [])));
    const probes = await healthProbes(input, state, ownerInstalls);
    const touched = new Set(plan.actions.map((action) => action.targetKey));
    const unverified: ValidationReport['unverified'] = [];
    for (const unknown of again.unknowns) {
      const key = unknownTarget(unknown.what);
      if (key && touched.has(key)) probes.push({ name: `read ${unknown.what}`, targetKey: key, ok: false, detail: `not verified: ${unknown.reason}`, unreadable: true });
      else unverified.push(unknown);
    }
    return { remaining, waiting, blocked, probes, unverified };
  };
}

/** Pauses before validating again when the only failures were reads that failed (the lab answered 5xx, an agent was slow). */
export const VALIDATION_REREAD_DELAYS_MS = [1_000, 2_000] as const;

/** Nothing left to do, and every failing probe failed to read rather than found something wrong. */
const onlyReadsFailed = (validation: ValidationReport): boolean =>
  validation.remaining.length === 0 && validation.probes.some((probe) => !probe.ok) && validation.probes.every((probe) => probe.ok || probe.unreadable === true);

/** Validates, and again after a pause while the only failures are failed reads: a read that failed is not a failure. */
export async function validateRereading(validate: () => Promise<ValidationReport>, sleep?: (ms: number) => Promise<void>): Promise<ValidationReport> {
  let validation = await validate();
  for (const delay of VALIDATION_REREAD_DELAYS_MS) {
    if (!onlyReadsFailed(validation)) break;
    await (sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms))))(delay);
    validation = await validate();
  }
  return validation;
}
