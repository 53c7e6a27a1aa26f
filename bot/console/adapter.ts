// The terminal adapter behind `npm start`: one `/jarvis …` command per input line, answers on the output. The
// console user is the owner, so `/jarvis approve` stands for the ✅ reaction. Each line's work (an apply included)
// finishes before the next line runs, which keeps scripted sessions deterministic.
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { scrubSecrets } from '../../lib/secret.ts';
import { createDispatcher } from '../../commands/dispatcher.ts';
import type { AlertSink, CommandDeps, Conversation, MessageRef } from '../../commands/context.ts';
import { scrubReply, type Reply } from '../../commands/reply.ts';
import type { JarvisServices, Requester } from '../../commands/services.ts';
import { createWorkQueue } from '../../commands/work-queue.ts';
import { Approvals, type ApprovalAuditEvent } from '../../commands/approvals/state-machine.ts';
import { DEFAULT_CONFIRM_WINDOW_MS, DEFAULT_TTL_MS, type ApprovalPolicy } from '../../commands/approvals/policy.ts';
import { renderText } from './render.ts';

export const CONSOLE_OWNER: Requester = { platform: 'console', id: 'owner', displayName: 'owner' };

export interface ConsoleOptions {
  input: Readable;
  output: Writable;
  services: JarvisServices;
  /** Defaults to an in-memory store whose only approver is the console owner. */
  approvals?: Approvals;
  audit?: (event: ApprovalAuditEvent) => void;
  log?: CommandDeps['log'];
}

/** The default policy of the console demo: the owner approves alone; critical plans need the typed hash. */
export function consolePolicy(): ApprovalPolicy {
  return {
    approvers: new Set(['console:owner']),
    approverGroups: new Set(),
    ttlMs: DEFAULT_TTL_MS,
    required: { none: 1, low: 1, medium: 1, high: 1, critical: 1 },
    criticalTypedConfirmation: true,
    confirmWindowMs: DEFAULT_CONFIRM_WINDOW_MS,
    requesterMayApprove: true,
  };
}

export async function runConsole(options: ConsoleOptions): Promise<void> {
  const write = (reply: Reply): void => {
    options.output.write(renderText(scrubReply(reply, scrubSecrets)));
  };
  const ownsApprovals = !options.approvals;
  const approvals = options.approvals ?? new Approvals({ dbPath: ':memory:', policy: consolePolicy(), audit: options.audit ?? (() => undefined) });
  const log: CommandDeps['log'] = options.log ?? ((level, message, fields) => {
    if (level === 'error') options.output.write(`[${level}] ${message} ${fields ? JSON.stringify(fields) : ''}\n`);
  });
  const alerts: AlertSink = async (reply) => write({ ...reply, title: `ALERT: ${reply.title}` });
  const work = createWorkQueue((label, error) => log('error', `${label} failed`, { error: String(error) }));
  const dispatcher = createDispatcher({ services: options.services, approvals, alerts, work, log });

  let sequence = 0;
  const printed = new Map<string, Set<string>>();
  const conversation: Conversation = {
    channelKey: 'console:terminal',
    async post(reply) {
      write(reply);
      const ref: MessageRef = { platform: 'console', channelId: 'terminal', messageId: String(++sequence) };
      printed.set(ref.messageId, new Set(reply.sections.flatMap((s) => s.lines)));
      return ref;
    },
    async edit(ref, reply) {
      // A terminal cannot edit: print the lines not shown yet, and the whole reply once it is final.
      const seen = printed.get(ref.messageId) ?? new Set<string>();
      const fresh = reply.sections.flatMap((s) => s.lines).filter((line) => !seen.has(line));
      fresh.forEach((line) => seen.add(line));
      printed.set(ref.messageId, seen);
      if (reply.level !== 'info') write(reply);
      else if (fresh.length) options.output.write(fresh.map((line) => `  ${line}\n`).join(''));
    },
  };

  const lines = createInterface({ input: options.input, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      await dispatcher.handle({ text: line, prefixed: true, requester: CONSOLE_OWNER, conversation, respond: (reply) => conversation.post(reply) });
      await dispatcher.idle();
    }
    await dispatcher.idle();
  } finally {
    if (ownsApprovals) approvals.close();
  }
}
