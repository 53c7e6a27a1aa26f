// Plan values for chat tests: realistic shape, deterministic content.
import { createHash } from 'node:crypto';
import { RISK_ORDER, type Plan, type PlanAction, type PlanPhase, type Risk } from '../../../planner/plan.ts';

export interface PlanShape {
  id: string;
  phase?: PlanPhase;
  risks?: Risk[];
  createdAt?: string;
  requestedBy?: string;
}

export function makeAction(index: number, risk: Risk): PlanAction {
  const vmid = 100 + index;
  return {
    id: `vm.create:${vmid}`,
    type: 'vm.create',
    kind: 'create',
    channel: 'pve',
    target: `vm/${vmid} (guest-${vmid})`,
    targetKey: `vm/${vmid}`,
    risk,
    preSnapshot: risk === 'high' || risk === 'critical' ? { vmid, name: `jarvis-pre-${index}` } : false,
    rollbackHint: `destroy VM ${vmid} (qm destroy ${vmid} --purge)`,
    expectedDowntime: risk === 'low' ? 'none' : '~30 s (reboot)',
    expectedDowntimeSeconds: risk === 'low' ? 0 : 30,
    dependsOn: [],
    changes: [{ path: 'memory', from: null, to: 2048 }],
    params: { channel: 'pve', requests: [{ method: 'POST', path: '/nodes/proxmox/qemu', params: { vmid }, async: true }] },
    commitConfirm: false,
  };
}

export function makePlan(shape: PlanShape): Plan {
  const risks = shape.risks ?? ['low', 'medium'];
  const actions = risks.map((risk, index) => makeAction(index, risk));
  const byRisk = Object.fromEntries(RISK_ORDER.map((risk) => [risk, risks.filter((r) => r === risk).length])) as Record<Risk, number>;
  const maxRisk = [...RISK_ORDER].reverse().find((risk) => byRisk[risk] > 0) ?? 'none';
  const downtime = actions.reduce((sum, a) => sum + a.expectedDowntimeSeconds, 0);
  return {
    formatVersion: 1,
    id: shape.id,
    createdAt: shape.createdAt ?? new Date().toISOString(),
    requestedBy: shape.requestedBy ?? 'console:owner',
    phase: shape.phase ?? 'phase0',
    node: 'proxmox',
    spec: { path: 'specs/nas.desired.yaml', sha256: 'a'.repeat(64) },
    stateFingerprint: {},
    planHash: `sha256:${createHash('sha256').update(`${shape.id}:${risks.join(',')}`).digest('hex')}`,
    summary: {
      create: actions.length,
      update: 0,
      delete: 0,
      replace: 0,
      noop: 0,
      byRisk,
      maxRisk,
      expectedDowntime: downtime ? `~${downtime} s` : 'none',
      expectedDowntimeSeconds: downtime,
    },
    unknowns: [],
    warnings: [],
    violations: [],
    actions,
  };
}

export const planMarkdown = (plan: Plan): string =>
  `# Plan ${plan.id} (${plan.phase})\n\n${plan.actions.map((a) => `- ${a.risk} ${a.target}: ${a.type}\n  rollback: ${a.rollbackHint}`).join('\n')}\n`;
