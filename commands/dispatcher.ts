// One dispatcher for every adapter, in a fixed order: parse → authorize → lock → execute → render.
// Authorization always comes before any lock or service call; every reply ends with the next command.
import { randomBytes } from 'node:crypto';
import { isApprover } from './approvals/policy.ts';
import { answerDecision, decisionReply } from './apply-flow.ts';
import { APPROVER_ONLY, BUTTON_REPORTS, buttonCommand } from './buttons.ts';
import { messageKey, type CommandContext, type CommandDeps, type Conversation, type MessageRef } from './context.ts';
import { parseCommand, type ParsedCommand } from './grammar.ts';
import { runCommand } from './handlers/index.ts';
import { errorReply, type ButtonAction, type Reply } from './reply.ts';
import type { Requester } from './services.ts';

/** A command as an adapter received it. */
export interface CommandInput {
  text: string;
  /** Console lines and chat messages carry `/jarvis`; slash-command payloads do not. */
  prefixed: boolean;
  requester: Requester;
  conversation: Conversation;
  /** Sends the command's answer (Discord editReply, Slack chat.postMessage, console print). */
  respond: (reply: Reply) => Promise<MessageRef | undefined>;
}

/** A reaction or button on a message of Jarvis's. */
export interface DecisionInput {
  kind: 'approve' | 'reject';
  via: 'reaction' | 'button';
  requester: Requester;
  conversation: Conversation;
  /** The message reacted to or clicked: only Jarvis's plan messages count. */
  message: MessageRef;
  /** The platform's id of the event; a replay of the same id does nothing. */
  eventKey: string;
  /** Answers only the person who reacted or clicked (refusals), where the platform can; otherwise the channel is told. */
  respondPrivately?: (reply: Reply) => Promise<void>;
}

/** A click on any button but Approve/Reject (those are decisions): the button's action and argument. */
export interface ClickInput extends Omit<CommandInput, 'text' | 'prefixed'> {
  action: Exclude<ButtonAction, 'approve' | 'reject'>;
  /** As the platform carried it: the argument itself, or `~token` (see buttonArgs) when it was too long. */
  arg: string;
}

/** Long button arguments stored under short tokens (Discord's custom id holds 100 characters). */
export interface ButtonArgs {
  shorten(value: string): string;
  expand(token: string): string | undefined;
}

export interface Dispatcher {
  handle(input: CommandInput): Promise<void>;
  decide(input: DecisionInput): Promise<void>;
  /** A ✅/❌ was taken back: adding it again is a new event (a vote still counts once per person). */
  reactionRemoved(eventKey: string): void;
  /** Dry-run, Details and the alert and report buttons: each runs the command it stands for (commands/buttons.ts). */
  click(input: ClickInput): Promise<void>;
  buttonArgs: ButtonArgs;
  /** Resolves when no apply is queued or running. */
  idle(): Promise<void>;
}

const MUTATING = new Set<ParsedCommand['name']>(['apply', 'approve', 'reject', 'confirm', 'rollback', 'retry', 'snooze', 'lock', 'unlock', 'freeze', 'unfreeze']);

export function createDispatcher(deps: CommandDeps): Dispatcher {
  let holder: { who: string; what: string; since: string } | undefined;

  const pendingEffects = new WeakMap<CommandContext, Array<() => void>>();
  // Plan messages being posted, per channel: until one is linked to its plan, a ✅ on it would find no plan, so a
  // decision on an unknown message waits for these posts to finish (Discord rate-limits the bot's own reaction PUTs:
  // the window is hundreds of milliseconds) and is then decided again, instead of being lost.
  const posting = new Map<string, Set<Promise<void>>>();
  const startPosting = (channelKey: string): (() => void) => {
    let done!: () => void;
    const post = new Promise<void>((resolve) => (done = resolve));
    const set = posting.get(channelKey) ?? new Set();
    posting.set(channelKey, set.add(post));
    return () => {
      set.delete(post);
      if (set.size === 0) posting.delete(channelKey);
      done();
    };
  };
  const context = (requester: Requester, conversation: Conversation): CommandContext => {
    const effects: Array<() => void> = [];
    const ctx: CommandContext = {
      requester,
      conversation,
      deps,
      requestId: randomBytes(4).toString('hex'),
      afterReply: (effect) => effects.push(effect),
    };
    pendingEffects.set(ctx, effects);
    return ctx;
  };

  async function deliver(ctx: CommandContext, answer: Reply | undefined, respond: CommandInput['respond']): Promise<void> {
    const posted = answer?.approvalRequest ? startPosting(ctx.conversation.channelKey) : undefined;
    try {
      const ref = answer && (await respond(answer));
      if (answer?.approvalRequest && ref) deps.approvals.attachMessage(answer.approvalRequest.plan.id, messageKey(ref));
    } finally {
      posted?.();
      for (const effect of pendingEffects.get(ctx)?.splice(0) ?? []) effect();
    }
  }

  async function guarded(ctx: CommandContext, respond: CommandInput['respond'], work: () => Promise<Reply | undefined>): Promise<void> {
    let answer: Reply | undefined;
    try {
      answer = await work();
    } catch (error) {
      deps.log('error', 'command failed', { requestId: ctx.requestId, error: error instanceof Error ? error.stack ?? error.message : String(error) });
      answer = errorReply('Something went wrong', [`Request ${ctx.requestId} failed; the log has the details. Nothing more was changed.`], '/jarvis status');
    }
    await deliver(ctx, answer, respond);
  }

  const dispatcher: Dispatcher = {
    async handle(input) {
      const parsed = parseCommand(input.text, { prefixed: input.prefixed });
      if (parsed.kind === 'ignore') return;
      const ctx = context(input.requester, input.conversation);
      if (parsed.kind === 'reply') return deliver(ctx, parsed.reply, input.respond);

      if (parsed.spec.role === 'approver' && !isApprover(deps.approvals.policy, input.requester)) {
        deps.log('info', 'refused: not an approver', { requestId: ctx.requestId, command: parsed.command.name, requester: `${input.requester.platform}:${input.requester.id}` });
        return deliver(ctx, errorReply(`${input.requester.displayName} is not an approver`, [`Only approvers may run /jarvis ${parsed.spec.usage}.`], '/jarvis help'), input.respond);
      }

      const mutating = MUTATING.has(parsed.command.name);
      if (mutating && holder) {
        const busy = holder;
        return deliver(ctx, errorReply('Busy', [`${busy.who} is running ${busy.what} since ${busy.since}; try again in a moment.`], `/jarvis ${parsed.spec.usage}`), input.respond);
      }
      if (mutating) holder = { who: input.requester.displayName, what: `/jarvis ${parsed.command.name}`, since: new Date().toISOString() };
      try {
        await guarded(ctx, input.respond, () => runCommand(parsed.command, ctx));
      } finally {
        if (mutating) holder = undefined;
      }
    },

    async decide(input) {
      const ctx = context(input.requester, input.conversation);
      const target = { messageKey: messageKey(input.message) };
      const approvalInput = { actor: input.requester, via: input.via, target, eventKey: input.eventKey };
      const respond = async (answer: Reply): Promise<MessageRef | undefined> => {
        if (!answer.private || !input.respondPrivately) return input.conversation.post(answer);
        await input.respondPrivately(answer);
        return undefined;
      };
      await guarded(ctx, respond, async () => {
        const decide = () => (input.kind === 'approve' ? deps.approvals.approve(approvalInput) : deps.approvals.reject(approvalInput));
        let decision = decide();
        const beingPosted = posting.get(input.conversation.channelKey);
        if (decision.outcome === 'ignored' && decision.unlinked && beingPosted) {
          await Promise.all([...beingPosted]);
          decision = decide();
        }
        return input.kind === 'approve' ? answerDecision(decision, ctx) : decisionReply(decision);
      });
    },

    reactionRemoved(eventKey) {
      deps.approvals.forgetEvent(eventKey);
    },

    async click(input) {
      const { action, requester } = input;
      const arg = input.arg.startsWith('~') ? deps.approvals.expandButtonArg(input.arg.slice(1)) : input.arg;
      const ctx = context(requester, input.conversation);
      if (arg === undefined) {
        return deliver(ctx, errorReply('This button no longer works', ['Jarvis does not know what it stood for; use the command instead.'], '/jarvis help'), input.respond);
      }
      // A button carries one argument of its own kind; a forged payload must not smuggle in another command.
      if (/\s/.test(arg) || (action === 'report' && !(BUTTON_REPORTS as readonly string[]).includes(arg))) {
        return deliver(ctx, errorReply('Not a button of Jarvis', [`"${arg.slice(0, 60)}" is not a ${action} argument.`], '/jarvis help'), input.respond);
      }
      // Planning from an alert or silencing one is for approvers, even where the typed command is open to everyone.
      if (APPROVER_ONLY.has(action) && !isApprover(deps.approvals.policy, requester)) {
        deps.log('info', 'refused: not an approver', { requestId: ctx.requestId, button: action, requester: `${requester.platform}:${requester.id}` });
        return deliver(ctx, errorReply(`${requester.displayName} is not an approver`, ['Only approvers may plan or snooze from an alert; anyone may read a log.'], '/jarvis help'), input.respond);
      }
      await dispatcher.handle({ text: buttonCommand({ action, arg }), prefixed: false, requester, conversation: input.conversation, respond: input.respond });
    },

    buttonArgs: {
      shorten: (value) => deps.approvals.shortenButtonArg(value),
      expand: (token) => deps.approvals.expandButtonArg(token),
    },

    idle: () => deps.work.idle(),
  };
  return dispatcher;
}
