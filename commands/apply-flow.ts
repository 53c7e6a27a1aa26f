// From a decision to an answer, and from an approved plan to a running apply with progress edited in place.
// Shared by the typed commands (approve/confirm/apply) and by reactions and button clicks on every platform.
import type { Decision } from './approvals/state-machine.ts';
import type { CommandContext, CommandDeps, MessageRef } from './context.ts';
import { criticalWarnings } from './plan-details.ts';
import { errorReply, reply, type Reply } from './reply.ts';
import type { ApplyProgress, ApplyReport, Requester } from './services.ts';

/**
 * The answer to a decision, or undefined when nothing should be said (ignored events; a double click or a replayed
 * reaction). A typed command always gets an answer, a duplicate too: where the plan is and what to run next.
 */
export function decisionReply(decision: Decision, typed = false): Reply | undefined {
  switch (decision.outcome) {
    case 'ignored':
      return undefined;
    case 'duplicate':
      return typed ? reply('info', `Plan ${decision.planId}`, [{ lines: [decision.message] }], decision.next) : undefined;
    case 'refused':
      return errorReply('Not applied', [decision.message], nextAfterRefusal(decision));
    case 'recorded':
      return reply('info', 'Approval recorded', [{ lines: [decision.message] }], `another approver: ✅ or /jarvis approve ${decision.planId}`);
    case 'needs-confirmation':
      return reply('critical', 'Critical plan: confirm', [{ lines: [decision.message] }], `/jarvis confirm ${decision.shortHash} ${decision.planId}`);
    case 'approved':
      return reply('ok', 'Approved', [{ lines: [decision.message, 'Applying now; progress follows.'] }], '/jarvis status');
    case 'rejected':
      return reply('info', 'Rejected', [{ lines: [decision.message] }], '/jarvis plan <phase>');
  }
}

function nextAfterRefusal(decision: Extract<Decision, { outcome: 'refused' }>): string {
  switch (decision.reason) {
    case 'expired':
    case 'superseded':
    case 'no-plan':
      return '/jarvis plan <phase>';
    case 'closed':
      return '/jarvis history';
    case 'ambiguous':
      return '/jarvis history';
    case 'wrong-hash':
    case 'not-awaiting-confirmation':
      return '/jarvis confirm <shortHash>';
    case 'confirmation-expired':
      return `/jarvis approve ${decision.planId ?? ''}`.trim();
    case 'not-approver':
    case 'self-approval':
      return '/jarvis help';
  }
}

/**
 * Answers a decision and, when it approved a plan, queues the apply. `typed`: a command, not a reaction or click. The
 * prompt for a critical plan's typed confirmation restates what cannot be undone (the disks a pool erases), so nobody
 * confirms a hash blind.
 */
export async function answerDecision(decision: Decision, ctx: CommandContext, typed = false): Promise<Reply | undefined> {
  const answer = decisionReply(decision, typed);
  if (decision.outcome === 'approved') queueApply(decision.planId, ctx);
  if (decision.outcome === 'needs-confirmation' && answer) {
    const saved = await ctx.deps.services.getPlan(decision.planId);
    const warnings = saved ? criticalWarnings(saved.plan) : [`the plan file of ${decision.planId} could not be read: read it with /jarvis details ${decision.planId} before you confirm`];
    return { ...answer, sections: [...answer.sections, { title: 'You confirm that this plan', lines: warnings.map((w) => `⚠️ ${w}`) }] };
  }
  return answer;
}

/** Queues the apply of an approved plan; it re-checks approvals and freshness when it actually starts. */
export function queueApply(planId: string, ctx: CommandContext): void {
  const { deps, conversation } = ctx;
  ctx.afterReply(() => deps.work.enqueue(`applying plan ${planId}`, async () => {
    const start = deps.approvals.beginApply(planId);
    if (!start.ok) {
      await conversation.post(errorReply(`Plan ${planId} not applied`, [start.reason], '/jarvis plan <phase>'));
      return;
    }
    const progress = new ProgressMessage(planId, ctx);
    await progress.open();
    let report: ApplyReport;
    try {
      report = await deps.services.apply(planId, { approvals: start.approvals, approvedPlan: start.plan, requester: ctx.requester, onProgress: (event) => progress.update(event) });
    } catch (error) {
      deps.log('error', 'apply threw', { planId, requestId: ctx.requestId, error: error instanceof Error ? error.message : String(error) });
      report = { outcome: 'failed', planId, message: `apply stopped unexpectedly (request ${ctx.requestId})`, completed: [], validated: false };
    }
    deps.approvals.finishApply(planId, report.outcome === 'applied' || report.outcome === 'not-started' ? report.outcome : 'failed');
    await progress.close(report);
  }));
}

/**
 * At start-up: the applies a previous run of Jarvis left half-done (Jarvis's own VM rebooted under it, as the plan
 * said it would) go on from their journal, with the approvals they started with. What happens is said in the alert
 * channels, since the message the apply was reporting in belongs to the process that stopped.
 */
export function resumeInterruptedApplies(deps: CommandDeps): string[] {
  const interrupted = deps.approvals.interruptedApplies();
  for (const apply of interrupted) {
    deps.work.enqueue(`resuming plan ${apply.planId}`, async () => {
      const [platform, ...rest] = apply.requestedBy.split(':');
      const requester: Requester = { platform: (platform as Requester['platform']) ?? 'console', id: rest.join(':'), displayName: apply.requestedBy };
      await deps.alerts(reply('info', `Resuming plan ${apply.planId}`, [{ lines: ['Jarvis restarted while applying it; the apply goes on from its journal (finished actions are skipped).'] }], '/jarvis status'));
      let report: ApplyReport;
      try {
        report = await deps.services.apply(apply.planId, { approvals: apply.approvals, approvedPlan: apply.plan, requester, onProgress: () => undefined });
      } catch (error) {
        deps.log('error', 'resumed apply threw', { planId: apply.planId, error: error instanceof Error ? error.message : String(error) });
        report = { outcome: 'failed', planId: apply.planId, message: 'the resumed apply stopped unexpectedly', completed: [], validated: false };
      }
      deps.approvals.finishApply(apply.planId, report.outcome === 'applied' || report.outcome === 'not-started' ? report.outcome : 'failed');
      const ok = report.outcome === 'applied' && report.validated;
      const lines = [report.message, ...(report.failed ? [`Failed at ${report.failed.actionId}: ${report.failed.error}`] : [])];
      await deps.alerts(ok ? reply('ok', `Resumed plan ${apply.planId}: applied and validated`, [{ lines }], '/jarvis status') : errorReply(`Resumed plan ${apply.planId}: ${report.outcome}`, lines, '/jarvis history'));
    });
  }
  return interrupted.map((apply) => apply.planId);
}

/** One message per apply, edited as actions start and end; edits are coalesced and kept in order. */
class ProgressMessage {
  readonly #lines = new Map<string, string>();
  #ref: MessageRef | undefined;
  #total = 0;
  #chain: Promise<void> = Promise.resolve();
  #dirty = false;

  constructor(
    readonly planId: string,
    readonly ctx: CommandContext,
  ) {}

  async open(): Promise<void> {
    this.#ref = await this.ctx.conversation.post(this.#render('Applying', 'info'));
  }

  update(event: ApplyProgress): void {
    const icon = { started: '⏳', done: '✅', failed: '❌', skipped: '⏭️', waiting: '⏸️' }[event.state];
    this.#total = event.total;
    this.#lines.set(event.actionId, `${icon} ${event.index}/${event.total} ${event.target}${event.detail ? ` — ${event.detail}` : ''}`);
    if (this.#dirty) return;
    this.#dirty = true;
    this.#chain = this.#chain.then(async () => {
      this.#dirty = false;
      if (this.#ref) await this.ctx.conversation.edit(this.#ref, this.#render('Applying', 'info')).catch(() => undefined);
    });
  }

  async close(report: ApplyReport): Promise<void> {
    await this.#chain;
    const ok = report.outcome === 'applied';
    const owner = report.waitingForOwner ?? [];
    const lines = [report.message];
    if (report.outcome === 'applied') lines.push(validationLine(report));
    for (const step of owner) lines.push(`⏸️ waiting for the owner — ${step.step}:`, ...step.instructions.map((i) => `  • ${i}`));
    if (report.failed) lines.push(`Failed at ${report.failed.actionId}: ${report.failed.error}`);
    for (const hint of report.rollbackHints ?? []) lines.push(`↩ ${hint}`);
    const titles: Record<ApplyReport['outcome'], string> = {
      applied: !report.validated ? 'Applied, not validated' : owner.length > 0 ? 'Applied and validated — waiting for the owner' : 'Applied and validated',
      refused: 'Apply refused',
      'not-started': 'Apply not started',
      failed: 'Apply failed',
    };
    const nextCommands: Record<ApplyReport['outcome'], string> = {
      applied: '/jarvis status',
      refused: '/jarvis plan <phase>',
      // Nothing was written and the plan is approved again: the same apply is the retry.
      'not-started': `/jarvis apply ${this.planId}`,
      failed: '/jarvis history',
    };
    const title = titles[report.outcome];
    const next = nextCommands[report.outcome];
    // Jarvis's part is done either way when applied; the manual steps are listed in the reply.
    const final: Reply = { ...this.#render(title, ok && report.validated ? 'ok' : 'error'), next };
    final.sections.push({ lines });
    if (this.#ref) await this.ctx.conversation.edit(this.#ref, final);
    else await this.ctx.conversation.post(final);
  }

  #render(state: string, level: Reply['level']): Reply {
    const lines = [...this.#lines.values()];
    return reply(level, `${state}: plan ${this.planId}`, [{ lines: lines.length ? lines : [`starting${this.#total ? ` ${this.#total} actions` : ''}…`] }], '/jarvis status');
  }
}

function validationLine(report: ApplyReport): string {
  if (report.validatedBy === 'vm-checks') return report.validated ? 'Validated: the VM checks pass.' : 'Not validated: a VM check fails.';
  return report.validated ? 'Validated: a new scan finds nothing left to do.' : 'Not validated: a new scan still finds changes.';
}
