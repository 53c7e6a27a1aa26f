// buildPlan: spec + live state → the Plan artifact (planner/plan.ts). Pure: the clock and the id come in as inputs.
// planHash covers what the plan would do and what an approver decides on (computePlanHash), never its id, time or
// requester, so the same spec against the same lab gives the same hash; approvals bind to the whole content.
import { formatDowntime, rate } from './catalogue.ts';
import { diffAll } from './diff/index.ts';
import type { DiffContext } from './diff/types.ts';
import { fingerprintState } from './fingerprint.ts';
import { checkPlan, specViolations, type SpecFinding } from './guardrails.ts';
import { canonicalJson, hashOf, sha256Hex } from './hash.ts';
import { orderActions } from './order.ts';
import { PLAN_FORMAT_VERSION, RISK_ORDER, type Plan, type PlanAction, type PlanPhase, type PlanSummary, type Risk } from './plan.ts';
import { phaseNumberOf, resolvePhase } from './resolve.ts';
import { DEFAULT_SELF_VMID, selfVmWarnings } from './self-vm.ts';
import type { DesiredState } from './desired-state.ts';
import type { Spec } from './spec/schema.ts';
import type { LiveState } from './state.ts';

export interface BuildPlanInput {
  spec: Spec;
  specPath: string;
  specSha256: string;
  phase: PlanPhase;
  state: LiveState;
  requestedBy: string;
  /** ISO time of creation (passed in: planner/ has no clock). */
  now: string;
  id: string;
  /** Findings of the spec guardrails (planner/spec/guardrails.ts `checkSpec`): errors refuse the plan. */
  specFindings?: ReadonlyArray<SpecFinding>;
  /** The VM Jarvis runs in (JARVIS_SELF_VMID): actions that take it offline are marked. Default 100. */
  selfVmid?: number;
}

/** The VM ids whose state the plan depends on (spec VMs and VM firewalls). */
export const managedVmids = (desired: DesiredState): number[] =>
  [...new Set([...desired.vms.map((vm) => vm.vmid), ...Object.keys(desired.firewall.vms).map(Number)])].sort((a, b) => a - b);

export function buildPlan(input: BuildPlanInput): Plan {
  const phaseNumber = phaseNumberOf(input.phase, input.spec);
  const desired = resolvePhase(input.spec, phaseNumber);
  // A site placeholder needed only by a later phase (the disks of phase 1) does not refuse this one.
  const specFindings = (input.specFindings ?? []).filter((f) => f.fromPhase === undefined || f.fromPhase <= phaseNumber);
  const fingerprint = fingerprintState(input.state, managedVmids(desired));
  // Pre-snapshots are named from the plan's basis (spec + state), which is stable, unlike the random plan id.
  const basis = hashOf({ formatVersion: PLAN_FORMAT_VERSION, spec: input.specSha256, phase: input.phase, fingerprint });
  const snapshotName = `jarvis-pre-${basis.slice(0, 8)}`;
  const ctx: DiffContext = {
    desired,
    state: input.state,
    snapshotName,
    unknowns: [],
    warnings: specFindings
      // The plan reports SSD backup space itself, for the resolved phase and with the storage's real usage.
      .filter((f) => f.severity === 'warning' && f.ruleId !== 'backups.ssd-space')
      .map((f) => ({ code: f.ruleId, message: `${f.file}:${f.line}:${f.col}: ${f.path ? `${f.path}: ` : ''}${f.message}` })),
    violations: specViolations(specFindings, desired),
    chains: new Map(),
    pendingReboot: new Set(),
    installers: new Map(),
  };
  const drafts = diffAll(ctx);
  const ordered = orderActions(drafts);
  const snapshotted = new Set<number>();
  const actions: PlanAction[] = ordered.map((a) => {
    const wantsSnapshot = input.spec.safetyGuards.snapshotBeforeRisk && a.facts.snapshotCapable !== false;
    const rating = rate(a.type, a.facts, wantsSnapshot ? snapshotName : undefined);
    let preSnapshot: PlanAction['preSnapshot'] = false;
    if (rating.snapshotFirst && wantsSnapshot && a.facts.vmid !== undefined) {
      // One snapshot per VM per plan: the first risky action takes it, later ones refer to it.
      if (!snapshotted.has(a.facts.vmid)) preSnapshot = { vmid: a.facts.vmid, name: snapshotName };
      snapshotted.add(a.facts.vmid);
    }
    if (rating.snapshotFirst && a.facts.snapshotCapable === false) {
      ctx.warnings.push({ code: 'no-pre-snapshot', message: `${a.id}: no snapshot possible on ${(a.facts.noSnapshotOn ?? []).join(', ')}; the undo path is a restore from backup`, actionId: a.id });
    }
    return {
      id: a.id,
      type: a.type,
      kind: a.kind,
      channel: a.channel,
      target: a.target,
      targetKey: a.targetKey,
      risk: rating.risk,
      preSnapshot,
      rollbackHint: rating.rollbackHint,
      expectedDowntime: formatDowntime(rating.downtimeSeconds, rating.downtimeWhy),
      expectedDowntimeSeconds: rating.downtimeSeconds,
      dependsOn: a.dependsOn,
      changes: a.changes,
      params: a.params,
      commitConfirm: rating.commitConfirm,
      ...(a.note ? { note: a.note } : {}),
    };
  });
  const violations = [
    ...ctx.violations,
    ...checkPlan({ desired, phase: input.phase, liveFirewall: input.state.firewall.known ? input.state.firewall.value : undefined, actions }),
  ];
  ctx.warnings.push(...selfVmWarnings(actions, input.selfVmid ?? DEFAULT_SELF_VMID));
  for (const u of ctx.unknowns) ctx.warnings.push({ code: 'unknown', message: `${u.what} could not be read (${u.reason}); nothing is planned for it` });
  const unsealed: Omit<Plan, 'planHash'> = {
    formatVersion: PLAN_FORMAT_VERSION,
    id: input.id,
    createdAt: input.now,
    requestedBy: input.requestedBy,
    phase: input.phase,
    node: desired.node,
    spec: { path: input.specPath, sha256: input.specSha256 },
    stateFingerprint: fingerprint,
    summary: summarize(actions, fingerprint),
    unknowns: ctx.unknowns,
    warnings: ctx.warnings,
    violations,
    actions,
  };
  return sealPlan(unsealed);
}

/** The fields of a plan that `planHash` leaves out (see computePlanHash). */
type Unhashed = 'id' | 'createdAt' | 'requestedBy' | 'planHash';

/**
 * The hash approvals bind to and the journal keys apply by; apply recomputes it with this same function to detect an
 * edited plan file. It covers everything that steers apply or the approver's decision and follows from the spec and
 * the lab alone: format, spec content (its sha256; apply reads the spec by path and refuses it if the sha256 differs),
 * phase, node, state fingerprint, actions, summary (its max risk sets how many approvals and whether a typed
 * confirmation is needed), warnings and unknowns (what the approver read), and violations (any refuses the plan).
 * It leaves out the plan's id, time and requester, so the same spec against the same lab gives the same hash. Those
 * three steer the decision too (TTL, self-approval): the approval store keeps the whole plan as it was shown and apply
 * refuses a file whose content hash (planContentHash) differs from it.
 */
export function computePlanHash(plan: Omit<Plan, Unhashed>): string {
  return hashOf({
    formatVersion: plan.formatVersion,
    spec: plan.spec.sha256,
    phase: plan.phase,
    node: plan.node,
    fingerprint: plan.stateFingerprint,
    actions: plan.actions,
    summary: plan.summary,
    warnings: plan.warnings,
    unknowns: plan.unknowns,
    violations: plan.violations,
  });
}

/** The plan with its planHash. */
export function sealPlan(plan: Omit<Plan, 'planHash'>): Plan {
  const { formatVersion, id, createdAt, requestedBy, phase, node, spec, stateFingerprint, summary, unknowns, warnings, violations, actions } = plan;
  return { formatVersion, id, createdAt, requestedBy, phase, node, spec, stateFingerprint, planHash: computePlanHash(plan), summary, unknowns, warnings, violations, actions };
}

/**
 * The whole plan as canonical JSON, every field included (id, time and requester too): what the approval store keeps
 * of the plan an approver was shown, and what apply compares the saved file with.
 */
export const planContent = (plan: unknown): string => canonicalJson(plan);

/** SHA-256 of planContent: two plans with the same content hash are the same plan, field for field. */
export const planContentHash = (plan: unknown): string => sha256Hex(planContent(plan));

/** Counts by kind and risk; `noop` = scanned targets that no action touches (already as the spec wants, or unmanaged here). */
export function summarize(actions: PlanAction[], fingerprint: Record<string, string> = {}): PlanSummary {
  const byRisk: Record<Risk, number> = { low: 0, medium: 0, high: 0, critical: 0 };
  const counts = { create: 0, update: 0, delete: 0, replace: 0 };
  let maxRisk: Risk | 'none' = 'none';
  let seconds = 0;
  for (const a of actions) {
    byRisk[a.risk] += 1;
    counts[a.kind] += 1;
    if (maxRisk === 'none' || RISK_ORDER.indexOf(a.risk) > RISK_ORDER.indexOf(maxRisk)) maxRisk = a.risk;
    seconds += a.expectedDowntimeSeconds;
  }
  const touched = new Set(actions.map((a) => a.targetKey));
  const noop = Object.entries(fingerprint).filter(([key, value]) => value !== 'unknown' && !touched.has(key)).length;
  return { ...counts, noop, byRisk, maxRisk, expectedDowntime: formatDowntime(seconds, ''), expectedDowntimeSeconds: seconds };
}
