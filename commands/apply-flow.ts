// From a decision to an answer, and from an approved plan to a running apply with progress edited in place.
// Shared by the typed commands (approve/confirm/apply) and by reactions and button clicks on every platform.
import type { Decision } from './approvals/state-machine.ts';
import type { CommandContext, MessageRef } from './context.ts';
import { criticalWarnings } from './plan-details.ts';
import { errorReply, reply, type Reply } from './reply.ts';
import type { ApplyProgress, ApplyReport } from './services.ts';

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
    deps.approvals.finishApply(planId, report.outcome === 'applied' ? 'applied' : 'failed');
    await progress.close(report);
  }));
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
    const final: Reply = {
      ...this.#render(
        ok ? (!report.validated ? 'Applied, not validated' : owner.length > 0 ? 'Applied and validated — waiting for the owner' : 'Applied and validated') : report.outcome === 'refused' ? 'Apply refused' : 'Apply failed',
        // Jarvis's part is done either way; the manual steps are listed in the reply.
        ok && report.validated ? 'ok' : 'error',
      ),
      next: ok ? '/jarvis status' : report.outcome === 'refused' ? '/jarvis plan <phase>' : '/jarvis history',
    };
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
