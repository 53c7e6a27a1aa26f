// Who may approve what: read from the environment, validated with zod, immutable once built.
import { z } from 'zod';
import { InputError } from '../../lib/errors.ts';
import { RISK_ORDER, type Risk } from '../../planner/plan.ts';
import { qualifiedId, type Requester } from '../services.ts';

export interface ApprovalPolicy {
  /** Qualified immutable ids (`discord:1234`, `slack:U123`, `console:owner`); never display names. */
  approvers: ReadonlySet<string>;
  /** Qualified group ids (`discord:<roleId>`, `slack:<userGroupId>`) whose members are approvers. */
  approverGroups: ReadonlySet<string>;
  /** How long after it was made a plan may be approved and applied. */
  ttlMs: number;
  /** Distinct approvals a plan needs, by its maximum risk. */
  required: Record<Risk | 'none', number>;
  /** A critical plan also needs the short hash typed by an approver within confirmWindowMs. */
  criticalTypedConfirmation: boolean;
  confirmWindowMs: number;
  /** The one-owner default: whoever asked for the plan may approve it. */
  requesterMayApprove: boolean;
}

export const DEFAULT_TTL_MS = 30 * 60_000;
export const DEFAULT_CONFIRM_WINDOW_MS = 2 * 60_000;

export function isApprover(policy: ApprovalPolicy, who: Pick<Requester, 'platform' | 'id' | 'groups'>): boolean {
  return policy.approvers.has(qualifiedId(who)) || matchingGroup(policy, who) !== undefined;
}

/** The qualified approver group (`discord:<roleId>`) that makes `who` an approver, if any. */
export function matchingGroup(policy: ApprovalPolicy, who: Pick<Requester, 'platform' | 'groups'>): string | undefined {
  return (who.groups ?? []).map((group) => `${who.platform}:${group}`).find((group) => policy.approverGroups.has(group));
}

const QUALIFIED = /^(discord|slack|console|cli):[A-Za-z0-9_-]+$/;
const idList = (variable: string) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      const ids = (value ?? '').split(',').map((id) => id.trim()).filter(Boolean);
      for (const id of ids) {
        if (!QUALIFIED.test(id)) ctx.addIssue({ code: 'custom', message: `${variable}: "${id}" is not platform:id (e.g. discord:123456789012345678, slack:U0123ABCD)` });
      }
      return new Set(ids);
    });

const EnvSchema = z.object({
  JARVIS_APPROVERS: idList('JARVIS_APPROVERS'),
  JARVIS_APPROVER_GROUPS: idList('JARVIS_APPROVER_GROUPS'),
  JARVIS_APPROVAL_TTL_MINUTES: z.coerce.number().int().min(1).max(24 * 60).optional(),
  /** e.g. `critical=2` or `high=2,critical=2`; unnamed risks keep 1. */
  JARVIS_APPROVALS_REQUIRED: z
    .string()
    .optional()
    .transform((value, ctx) => {
      const required: Record<Risk | 'none', number> = { none: 1, low: 1, medium: 1, high: 1, critical: 1 };
      for (const part of (value ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
        const match = /^(low|medium|high|critical)=([1-5])$/.exec(part);
        if (!match) ctx.addIssue({ code: 'custom', message: `JARVIS_APPROVALS_REQUIRED: "${part}" is not risk=count (risk: ${RISK_ORDER.join('|')}, count 1-5)` });
        else required[match[1] as Risk] = Number(match[2]);
      }
      return required;
    }),
  JARVIS_SELF_APPROVAL: z.enum(['true', 'false']).optional(),
  /** Shorthand for `JARVIS_APPROVALS_REQUIRED=critical=2`. */
  JARVIS_SECOND_APPROVER_FOR_CRITICAL: z.enum(['1', '0', 'true', 'false', 'yes', 'no']).optional(),
});

/**
 * Builds the policy from the environment. A second approver for critical plans (`JARVIS_APPROVALS_REQUIRED=critical=2`)
 * replaces the typed confirmation; otherwise a critical plan needs the typed short hash.
 */
export function approvalPolicyFromEnv(env: Record<string, string | undefined>, extraApprovers: string[] = []): ApprovalPolicy {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) throw new InputError(parsed.error.issues.map((issue) => issue.message).join('; '));
  const values = parsed.data;
  if (['1', 'true', 'yes'].includes(values.JARVIS_SECOND_APPROVER_FOR_CRITICAL ?? '')) {
    values.JARVIS_APPROVALS_REQUIRED.critical = Math.max(2, values.JARVIS_APPROVALS_REQUIRED.critical);
  }
  return {
    approvers: new Set([...values.JARVIS_APPROVERS, ...extraApprovers]),
    approverGroups: values.JARVIS_APPROVER_GROUPS,
    ttlMs: (values.JARVIS_APPROVAL_TTL_MINUTES ?? 30) * 60_000,
    required: values.JARVIS_APPROVALS_REQUIRED,
    criticalTypedConfirmation: values.JARVIS_APPROVALS_REQUIRED.critical < 2,
    confirmWindowMs: DEFAULT_CONFIRM_WINDOW_MS,
    requesterMayApprove: values.JARVIS_SELF_APPROVAL !== 'false',
  };
}
