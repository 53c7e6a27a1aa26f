// Wires the real dispatcher and approval machine to FakeServices for end-to-end chat tests.
import { Approvals, type ApprovalAuditEvent } from '../../../commands/approvals/state-machine.ts';
import { approvalPolicyFromEnv } from '../../../commands/approvals/policy.ts';
import type { AlertSink } from '../../../commands/context.ts';
import { createDispatcher, type Dispatcher } from '../../../commands/dispatcher.ts';
import type { Reply } from '../../../commands/reply.ts';
import { createWorkQueue } from '../../../commands/work-queue.ts';
import { FakeServices, type FakeServicesOptions } from './fake-services.ts';

export interface Harness {
  services: FakeServices;
  approvals: Approvals;
  dispatcher: Dispatcher;
  audit: ApprovalAuditEvent[];
  errors: string[];
  /** Late-bound: the adapter's alert function, set once it has started. */
  alertTo: { sink: AlertSink };
  clock: { now: number };
  close(): void;
}

export function createHarness(env: Record<string, string> = {}, services: FakeServicesOptions = {}): Harness {
  const clock = { now: Date.now() };
  const audit: ApprovalAuditEvent[] = [];
  const errors: string[] = [];
  const approvals = new Approvals({
    dbPath: ':memory:',
    policy: approvalPolicyFromEnv({ JARVIS_APPROVERS: 'discord:400,slack:U0OWNER', ...env }),
    audit: (event) => audit.push(event),
    now: () => clock.now,
  });
  const fake = new FakeServices({ now: () => clock.now, ...services });
  const alertTo: Harness['alertTo'] = { sink: async () => undefined };
  const log = (level: string, message: string, fields?: Record<string, unknown>) => {
    if (level === 'error') errors.push(`${message} ${JSON.stringify(fields ?? {})}`);
  };
  const dispatcher = createDispatcher({
    services: fake,
    approvals,
    alerts: (reply: Reply) => alertTo.sink(reply),
    work: createWorkQueue((label, error) => errors.push(`${label}: ${String(error)}`)),
    log,
  });
  return { services: fake, approvals, dispatcher, audit, errors, alertTo, clock, close: () => approvals.close() };
}

/** Resolves after `ms`, for teardown guards only (never for assertions). */
export const withTimeout = <T>(work: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([work, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms).unref())]);
