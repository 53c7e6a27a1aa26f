// The dispatcher's fixed order: parse → authorize → lock → execute → render, with a fake conversation.
import { afterEach, describe, expect, it } from 'vitest';
import type { Conversation, MessageRef } from '../../commands/context.ts';
import type { Reply } from '../../commands/reply.ts';
import type { Requester } from '../../commands/services.ts';
import { createHarness, type Harness } from '../bot/support/harness.ts';

const owner: Requester = { platform: 'discord', id: '400', displayName: 'alice' };
const stranger: Requester = { platform: 'discord', id: '666', displayName: 'mallory' };

let harness: Harness;
afterEach(() => harness.close());

function channel() {
  const posted: Reply[] = [];
  const edits: Reply[] = [];
  let id = 0;
  const conversation: Conversation = {
    channelKey: 'discord:300',
    post: async (reply) => {
      posted.push(reply);
      return { platform: 'discord', channelId: '300', messageId: String(++id) };
    },
    edit: async (_ref: MessageRef, reply) => {
      edits.push(reply);
    },
  };
  const answers: Reply[] = [];
  const run = (text: string, requester: Requester = owner) =>
    harness.dispatcher.handle({
      text,
      prefixed: true,
      requester,
      conversation,
      respond: async (reply) => {
        answers.push(reply);
        return { platform: 'discord', channelId: '300', messageId: `a${answers.length}` };
      },
    });
  return { posted, edits, answers, run, conversation };
}

const all = (reply: Reply | undefined): string => (reply ? [reply.title, ...reply.sections.flatMap((s) => s.lines), reply.next].join('\n') : '');

describe('dispatcher', () => {
  it('authorizes before any service call: a stranger cannot apply, lock or roll back', async () => {
    harness = createHarness();
    const called: string[] = [];
    for (const method of ['getPlan', 'lock', 'planRollback', 'freeze'] as const) {
      const original = harness.services[method].bind(harness.services);
      (harness.services as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        called.push(method);
        return (original as (...a: unknown[]) => unknown)(...args);
      };
    }
    const { answers, run } = channel();
    for (const text of ['/jarvis apply p1', '/jarvis lock', '/jarvis rollback 100 snap', '/jarvis freeze now']) await run(text, stranger);
    expect(called).toEqual([]);
    expect(answers.map((a) => a.title)).toEqual(Array(4).fill('mallory is not an approver'));
    expect(answers.every((a) => a.next === '/jarvis help')).toBe(true);
  });

  it('lets anyone plan and read, and ends every reply with the next command', async () => {
    harness = createHarness();
    const { answers, run } = channel();
    for (const text of ['/jarvis plan phase0', '/jarvis status', '/jarvis backups', '/jarvis check', '/jarvis drift', '/jarvis snapshots 100', '/jarvis history', '/jarvis help', '/jarvis dry-run p1-phase0']) {
      await run(text, stranger);
    }
    expect(answers).toHaveLength(9);
    for (const answer of answers) expect(answer.next).toMatch(/^(\/jarvis |react ✅)/);
    expect(all(answers[7])).not.toContain('/jarvis apply');
    expect(all(answers[8])).toContain('✓ vm.create:100');
  });

  it('answers an unexpected failure generically with a request id and logs the cause', async () => {
    harness = createHarness();
    harness.services.status = async () => {
      throw new Error('socket hang up at 192.0.2.1');
    };
    const { answers, run } = channel();
    await run('/jarvis status');
    expect(answers[0]?.title).toBe('Something went wrong');
    expect(all(answers[0])).toMatch(/Request [0-9a-f]{8} failed/);
    expect(all(answers[0])).not.toContain('socket hang up');
    expect(harness.errors[0]).toContain('socket hang up');
    harness.errors.length = 0;
  });

  it('says who is busy when a mutating command is already running', async () => {
    harness = createHarness();
    let release: () => void = () => undefined;
    harness.services.lock = async (requester) => {
      await new Promise<void>((resolve) => (release = resolve));
      return { ok: true, state: { lock: { holder: `${requester.platform}:${requester.id}`, since: 'now' } } };
    };
    const { answers, run } = channel();
    const first = run('/jarvis lock maintenance');
    await new Promise((resolve) => setImmediate(resolve));
    await run('/jarvis freeze');
    release();
    await first;
    expect(answers[0]?.title).toBe('Busy');
    expect(all(answers[0])).toContain('alice is running /jarvis lock');
    expect(answers[1]?.title).toBe('Done: lock');
  });

  it('binds the plan message to the plan, so a reaction on it is a decision', async () => {
    harness = createHarness();
    const { run, conversation, posted } = channel();
    await run('/jarvis plan phase0');
    await harness.dispatcher.decide({ kind: 'approve', via: 'reaction', requester: owner, conversation, message: { platform: 'discord', channelId: '300', messageId: 'a1' }, eventKey: 'e1' });
    await harness.dispatcher.idle();
    expect(harness.services.applied).toHaveLength(1);
    expect(posted[0]?.title).toBe('Approved');
  });

  it('apply <planId> shows a pending plan for approval again, and applies an approved one', async () => {
    harness = createHarness();
    const { run, answers } = channel();
    await run('/jarvis plan phase0');
    await run('/jarvis apply p1-phase0');
    expect(answers[1]?.approvalRequest?.plan.id).toBe('p1-phase0');
    expect(harness.services.applied).toEqual([]);
    harness.approvals.approve({ actor: owner, via: 'text', target: { planId: 'p1-phase0' } });
    await run('/jarvis apply p1-phase0');
    await harness.dispatcher.idle();
    expect(harness.services.applied).toHaveLength(1);
    await run('/jarvis apply nope');
    expect(all(answers.at(-1))).toContain('No plan nope');
  });

  it('answers a second approve while a critical plan waits for its typed hash, and an approve of an applied plan', async () => {
    harness = createHarness({}, { risks: { phase0: ['critical'] } });
    const { run, answers } = channel();
    await run('/jarvis plan phase0');
    const hash = answers[0]?.approvalRequest?.plan.planHash.slice('sha256:'.length, 'sha256:'.length + 8);
    await run('/jarvis approve');
    expect(answers[1]?.title).toBe('Critical plan: confirm');
    await run('/jarvis approve');
    expect(all(answers[2])).toContain(`Plan p1-phase0 has your approval and waits for its typed confirmation: /jarvis confirm ${hash} p1-phase0`);
    expect(answers[2]?.next).toBe(`/jarvis confirm ${hash} p1-phase0`);
    await run(`/jarvis confirm ${hash}`);
    await harness.dispatcher.idle();
    expect(harness.services.applied).toHaveLength(1);
    await run('/jarvis approve p1-phase0');
    expect(all(answers.at(-1))).toContain('Plan p1-phase0 is already applied; there is nothing left to approve');
    expect(answers.at(-1)?.next).toBe('/jarvis history');
  });
});
