// What an executor gets for one action: the context, the action, what the journal already knows about its steps,
// and journaled helpers. Executors throw ActionFailure for an outcome the report must explain.
import type { Plan, PlanAction } from '../../planner/plan.ts';
import type { StepRecord } from '../journal.ts';
import { safeText } from '../redact.ts';
import type { ActionOutcome, ApplyContext, ApplyEvent } from '../types.ts';

/** Longest wait for one Proxmox task (a vzdump of a big VM on a slow disk can take a while). */
export const DEFAULT_TASK_TIMEOUT_MS = 2 * 60 * 60 * 1000;

export class ActionFailure extends Error {
  constructor(
    message: string,
    readonly outcome: Extract<ActionOutcome, 'failed' | 'reverted' | 'refused'>,
    readonly logTail: string[] = [],
    /** The lab stopped answering: the write may or may not have landed; the journal keeps the intent. */
    readonly unreachable = false,
  ) {
    super(message);
    this.name = 'ActionFailure';
  }
}

export interface ExecutorResult {
  detail: string;
  /** The target was already in the wanted state; nothing was sent. */
  alreadyDone?: boolean;
  /** A manual step the owner has not done yet (nothing was sent; the apply goes on without it). */
  waitingForOwner?: string[];
  logTail?: string[];
}

export class ActionRun {
  /** Journal state of this action's steps when the run started (a resume sees the previous attempt's steps). */
  readonly previous: Map<string, StepRecord>;

  constructor(
    readonly ctx: ApplyContext,
    readonly plan: Plan,
    readonly action: PlanAction,
  ) {
    this.previous = ctx.journal.steps(plan.planHash, action.id);
  }

  intent(step: string, detail: unknown): void {
    this.ctx.journal.stepIntent(this.plan.planHash, this.action.id, step, detail);
  }

  upid(step: string, upid: string): void {
    this.ctx.journal.stepUpid(this.plan.planHash, this.action.id, step, upid);
  }

  outcome(step: string, phase: 'done' | 'failed', detail: string): void {
    this.ctx.journal.stepOutcome(this.plan.planHash, this.action.id, step, phase, detail);
  }

  emit(event: ApplyEvent): void {
    this.ctx.onProgress(event);
  }

  /** Task log and step output, one event per non-empty line (steps may hand over several lines at once). */
  log(text: string): void {
    for (const line of text.split(/\r?\n/)) {
      if (line.trim() !== '') this.emit({ type: 'task.log', actionId: this.action.id, line: safeText(line) });
    }
  }

  /** Follows a Proxmox task with the context's time limit; a task past it is left running and reported. */
  waitForTask(upid: string): ReturnType<ActionRun['ctx']['pve']['waitForTask']> {
    return this.ctx.pve.waitForTask(upid, { timeoutMs: this.ctx.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS, onProgress: (line) => this.log(line) });
  }

  sleep(ms: number): Promise<void> {
    return this.ctx.sleep ? this.ctx.sleep(ms) : new Promise((resolve) => setTimeout(resolve, ms));
  }
}
