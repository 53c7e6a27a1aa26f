// "What to do next" after an apply: exact commands, rollback hints of what was applied, the snapshots kept.
import type { Plan } from '../planner/plan.ts';
import type { ApplyReport } from './types.ts';

export function nextSteps(plan: Plan, report: ApplyReport): string[] {
  const next: string[] = [];
  const byId = new Map(plan.actions.map((action) => [action.id, action]));
  const resume = `resume after fixing the cause: jarvis apply ${plan.id} --yes (finished actions are skipped)`;
  const replan = `or re-plan from the current state: jarvis plan ${plan.phase}`;

  if (report.status === 'applied') {
    next.push('nothing left to do; see the lab with: jarvis status');
    next.push(...keptSnapshots(report));
    return next;
  }
  if (report.status === 'waiting-for-owner') {
    next.push(`Jarvis's part is applied and validated; waiting for the owner (manual steps, seen done once their result shows; jarvis plan ${plan.phase} stops listing them):`);
    for (const step of report.validation?.waiting ?? []) next.push(`${step.actionId}: ${step.instructions.join(' ')}`);
    for (const held of report.validation?.blocked ?? []) next.push(`blocked until ${held.waitsFor} is done: ${held.actionId} (${held.summary}); apply the next plan then`);
    next.push(...keptSnapshots(report));
    return next;
  }
  const stopped = report.actions.filter((a) => a.outcome === 'failed' || a.outcome === 'reverted' || a.outcome === 'refused');
  for (const action of stopped) {
    if (action.outcome === 'reverted' && byId.get(action.actionId)?.type === 'vm.nic.reattach') {
      next.push(`${action.actionId}: ${action.detail}; fix what failed (the router's interfaces, DHCP, rules), then: jarvis plan ${plan.phase}`);
    } else if (action.outcome === 'reverted') {
      next.push(`${action.actionId} cut management off and was reverted: fix the spec's management access, then: jarvis plan ${plan.phase}`);
    } else {
      next.push(`${action.actionId} (${action.target}) ${action.outcome}: ${action.detail}`);
    }
  }
  if (report.status === 'unreachable') {
    next.push(`the lab stopped answering; when it is back: jarvis apply ${plan.id} --yes (the journal reconciles what was in flight)`);
  } else if (stopped.some((a) => a.outcome !== 'reverted')) {
    next.push(resume, replan);
  }
  const applied = report.actions.filter((a) => a.outcome === 'done').reverse();
  for (const action of applied) {
    const hint = byId.get(action.actionId)?.rollbackHint;
    if (hint) next.push(`to undo ${action.actionId}: ${hint}`);
  }
  next.push(...keptSnapshots(report));
  if (report.validation && !report.validation.ok) {
    for (const left of report.validation.remaining) next.push(`still pending after apply: ${left.actionId} (${left.targetKey}): ${left.summary}`);
    for (const probe of report.validation.probes.filter((p) => !p.ok)) next.push(`health probe ${probe.name} fails: ${probe.detail}`);
    next.push(`see what is left: jarvis plan ${plan.phase}`);
  }
  return next;
}

function keptSnapshots(report: ApplyReport): string[] {
  return report.snapshots.map((snapshot) =>
    snapshot.kind === 'snapshot'
      ? `snapshot ${snapshot.name} of VM ${snapshot.vmid} is kept: qm rollback ${snapshot.vmid} ${snapshot.name}`
      : `VM ${snapshot.vmid} was backed up with vzdump before ${snapshot.actionId} (its storage cannot snapshot): restore it with qmrestore from that backup`,
  );
}
