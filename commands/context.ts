// What a handler gets: who asks, where, and the injected services. Kept small on purpose (style anchor 8).
import type { Approvals } from './approvals/state-machine.ts';
import type { Reply } from './reply.ts';
import type { JarvisServices, Platform, Requester } from './services.ts';

/** A message Jarvis posted, addressable for edits and for binding approvals to it. */
export interface MessageRef {
  platform: Platform;
  channelId: string;
  messageId: string;
}

export const messageKey = (ref: MessageRef): string => `${ref.platform}:${ref.channelId}:${ref.messageId}`;

/** A channel Jarvis can write to; implemented by each adapter. */
export interface Conversation {
  /** `platform:channelId`: approvals use it to find "the latest plan here". */
  channelKey: string;
  post(reply: Reply): Promise<MessageRef | undefined>;
  edit(ref: MessageRef, reply: Reply): Promise<void>;
}

/** Where alerts go (the configured alert channel of each adapter). */
export type AlertSink = (reply: Reply) => Promise<void>;

/** Background work (applies) that the console waits for at the end of its input. */
export interface WorkQueue {
  /** Runs `job` after every job queued before it; applies never overlap. */
  enqueue(label: string, job: () => Promise<void>): void;
  /** What runs now, for busy replies. */
  current(): string | undefined;
  idle(): Promise<void>;
}

export interface CommandDeps {
  services: JarvisServices;
  approvals: Approvals;
  alerts: AlertSink;
  work: WorkQueue;
  log: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

export interface CommandContext {
  requester: Requester;
  conversation: Conversation;
  deps: CommandDeps;
  requestId: string;
  /** Runs `effect` once this command's reply has been delivered (e.g. start an apply after "Approved"). */
  afterReply: (effect: () => void) => void;
}
