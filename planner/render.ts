// Human renderings of a plan: Terraform-like text for the terminal (+ create, ~ update, - delete, -/+ replace),
// grouped by risk (most risky first), with rollback hint and downtime on every line; and a Markdown twin.
import type { Plan, PlanAction, Risk } from './plan.ts';
import { RISK_ORDER } from './plan.ts';

const SYMBOL: Record<PlanAction['kind'], string> = { create: '+', update: '~', delete: '-', replace: '-/+' };
const fmt = (v: unknown) => (v === null || v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v));

function header(plan: Plan): string[] {
  const s = plan.summary;
  return [
    `Plan ${plan.id} — ${plan.phase} on node ${plan.node} (spec ${plan.spec.path}, sha256 ${plan.spec.sha256.slice(0, 12)})`,
    `planHash ${plan.planHash}`,
    `${plan.actions.length} action(s): ${s.create} to create, ${s.update} to update, ${s.delete} to delete, ${s.replace} to replace; max risk ${s.maxRisk}; expected downtime ${s.expectedDowntime}`,
  ];
}

const nextCommand = (plan: Plan): string =>
  plan.violations.length > 0
    ? 'Refused: fix the violations above and plan again.'
    : plan.actions.length === 0
      ? 'Nothing to do: the lab matches the spec.'
      : `Next: jarvis apply ${plan.id} --dry-run   then   jarvis apply ${plan.id} --yes`;

const byRisk = (plan: Plan): Array<[Risk, PlanAction[]]> =>
  [...RISK_ORDER].reverse().map((risk) => [risk, plan.actions.filter((a) => a.risk === risk)] as [Risk, PlanAction[]]).filter(([, list]) => list.length > 0);

export function renderPlanText(plan: Plan): string {
  const lines = header(plan);
  const order = new Map(plan.actions.map((a, i) => [a.id, i + 1]));
  for (const [risk, list] of byRisk(plan)) {
    lines.push('', `${risk.toUpperCase()} risk (${list.length})`);
    for (const a of list) {
      lines.push(`  ${SYMBOL[a.kind].padEnd(3)} [${order.get(a.id)}] ${a.id}  ${a.target}`);
      for (const c of a.changes.slice(0, 12)) lines.push(`        ${c.path}: ${fmt(c.from)} → ${fmt(c.to)}`);
      if (a.changes.length > 12) lines.push(`        … ${a.changes.length - 12} more`);
      if (a.preSnapshot) lines.push(`        snapshot first: ${a.preSnapshot.name} (VM ${a.preSnapshot.vmid})`);
      lines.push(`        downtime: ${a.expectedDowntime} · rollback: ${a.rollbackHint}${a.commitConfirm ? ' · commit-confirmed' : ''}`);
      if (a.note) lines.push(`        note: ${a.note}`);
      if (a.params.channel === 'owner') for (const step of a.params.instructions) lines.push(`        by hand: ${step}`);
    }
  }
  if (plan.unknowns.length) {
    lines.push('', 'Unknown (not read, nothing planned for it):');
    for (const u of plan.unknowns) lines.push(`  ? ${u.what}: ${u.reason}`);
  }
  const warnings = plan.warnings.filter((w) => w.code !== 'unknown');
  if (warnings.length) {
    lines.push('', 'Warnings:');
    for (const w of warnings) lines.push(`  ! ${w.message}`);
  }
  if (plan.violations.length) {
    lines.push('', 'Violations (plan refused):');
    for (const v of plan.violations) lines.push(`  ✗ [${v.ruleId}] ${v.message}${v.actionId ? ` (action ${v.actionId})` : ''}${v.location ? ` at ${v.location}` : ''}`);
  }
  lines.push('', nextCommand(plan));
  return `${lines.join('\n')}\n`;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderPlanMarkdown(plan: Plan): string {
  const [title, hash, summary] = header(plan);
  const lines = [`# ${title}`, '', `- ${hash}`, `- ${summary}`, `- requested by ${plan.requestedBy} at ${plan.createdAt}`, ''];
  if (plan.violations.length) {
    lines.push('## Violations (plan refused)', '');
    for (const v of plan.violations) lines.push(`- **${v.ruleId}**: ${v.message}${v.actionId ? ` (action \`${v.actionId}\`)` : ''}`);
    lines.push('');
  }
  lines.push('## Actions (in execution order)', '', '| # | | action | target | risk | snapshot | downtime | rollback |', '|---|---|---|---|---|---|---|---|');
  plan.actions.forEach((a, i) => {
    lines.push(`| ${i + 1} | \`${SYMBOL[a.kind]}\` | \`${a.id}\` | ${cell(a.target)} | ${a.risk} | ${a.preSnapshot ? a.preSnapshot.name : '—'} | ${cell(a.expectedDowntime)} | ${cell(a.rollbackHint)} |`);
  });
  lines.push('', '## Changes', '');
  for (const a of plan.actions) {
    lines.push(`### ${a.id}`, '');
    if (a.note) lines.push(`- **${cell(a.note)}**`);
    for (const c of a.changes) lines.push(`- \`${c.path}\`: ${cell(fmt(c.from))} → ${cell(fmt(c.to))}`);
    if (a.params.channel === 'owner') for (const step of a.params.instructions) lines.push(`- by hand: ${cell(step)}`);
    if (a.dependsOn.length) lines.push(`- after: ${a.dependsOn.map((d) => `\`${d}\``).join(', ')}`);
    lines.push('');
  }
  if (plan.unknowns.length) {
    lines.push('## Unknown', '');
    for (const u of plan.unknowns) lines.push(`- ${u.what}: ${u.reason}`);
    lines.push('');
  }
  const warnings = plan.warnings.filter((w) => w.code !== 'unknown');
  if (warnings.length) {
    lines.push('## Warnings', '');
    for (const w of warnings) lines.push(`- ${w.message}`);
    lines.push('');
  }
  lines.push(nextCommand(plan), '');
  return lines.join('\n');
}
