// Fuzzing the `/jarvis` grammar and the dispatcher behind it: arbitrary text, token soup built from the real command
// table, and mutations of valid commands. Every line is either not for Jarvis, a well-formed command, or a usage
// error that says what is wrong and what to run next — never an exception, never a stack trace.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Conversation, MessageRef } from '../../commands/context.ts';
import { COMMANDS, parseCommand, type ParseResult } from '../../commands/grammar.ts';
import type { Reply } from '../../commands/reply.ts';
import { createHarness } from '../bot/support/harness.ts';

const STACK = /\n\s+at |\bat .+\.(ts|js):\d+|TypeError|ReferenceError|undefined is not/;
const typedWords = COMMANDS.map((spec) => spec.usage.split(' ')[0] as string);
const usages = COMMANDS.map((spec) => spec.usage);

const replyText = (reply: Reply): string => [reply.title, ...reply.sections.flatMap((s) => [s.title ?? '', ...s.lines]), reply.next].join('\n');

function expectWellFormed(result: ParseResult, text: string, prefixed: boolean): void {
  if (prefixed && !/^\s*\/jarvis(\s|$)/i.test(text)) expect(result.kind).toBe('ignore');
  if (result.kind === 'reply') {
    const { reply } = result;
    expect(reply.level).toBe('error');
    expect(reply.title).toMatch(/^Cannot run \/jarvis /);
    expect(reply.sections[0]?.lines[0]?.length ?? 0).toBeGreaterThan(0);
    expect(reply.next).toMatch(/^\/jarvis /);
    expect(replyText(reply)).not.toMatch(STACK);
  }
  if (result.kind === 'command') {
    const c = result.command as Record<string, unknown>;
    expect(result.spec.name).toBe(c.name);
    if (typeof c.planId === 'string') expect(c.planId).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
    if ('vmid' in c) expect(Number.isInteger(c.vmid) && (c.vmid as number) >= 100).toBe(true);
    if (typeof c.hash === 'string') expect(c.hash).toMatch(/^[0-9a-f]{4,64}$/i);
  }
}

function check(text: string, prefixed: boolean): void {
  let result: ParseResult;
  try {
    result = parseCommand(text, { prefixed });
  } catch (error) {
    throw new Error(`parseCommand threw on ${JSON.stringify(text)}: ${(error as Error).stack}`);
  }
  expectWellFormed(result, text, prefixed);
}

const ARGS = [
  'phase0', 'phase1', 'phase2', 'firewall', 'phase3', 'plan-20261126-0a1b2c3d', 'plan-x', '../../etc/passwd', 'a'.repeat(70),
  '100', '99', '0', '-1', '1e3', '0x64', '999999999999', '4.5', 'NaN', 'jarvis-pre-1', '1snap', 'deadbeef', 'DEADBEEF', 'xyz',
  'test', '--force', '-y', '"quoted arg"', "'single'", '`tick`', '<@400000000000000400>', '@everyone', '<#300>', '*bold*',
  '\u200b', '\u202e', 'é', '🦊', '\\', '$(reboot)', ';rm -rf /', '%s', '{{x}}', '\u0000',
];
const SPACES = [' ', '  ', '\t', '\u00a0', '\u3000', '\n'];
const soup = fc
  .tuple(
    fc.constantFrom('', '/jarvis ', '/JARVIS ', '/jarvis', '/jarvisx ', ' /jarvis  ', 'jarvis '),
    fc.array(fc.oneof(fc.constantFrom(...typedWords, 'alerts', 'help', 'aprove', 'stauts', 'dryrun', 'ALERTS'), fc.constantFrom(...ARGS)), { maxLength: 6 }),
    fc.constantFrom(...SPACES),
  )
  .map(([prefix, words, space]) => prefix + words.join(space));

const mutatedUsage = fc
  .tuple(fc.constantFrom(...usages), fc.nat(), fc.constantFrom(...ARGS, 'x', ''), fc.nat(3))
  .map(([usage, pos, token, kind]) => {
    const text = usage.replace(/<phase0\|phase1\|phase2\|firewall>/, 'phase1').replace(/[<[]([^\]>]+)[\]>]/g, (_, name: string) => (name === 'vmid' ? '300' : name === 'shortHash' ? 'abcd1234' : 'plan-1'));
    const at = pos % (text.length + 1);
    const mutated = [text.slice(0, at) + token + text.slice(at), text.slice(0, at) + text.slice(at + 1), `${text} ${token}`, text.split(' ').reverse().join(' ')][kind] as string;
    return `/jarvis ${mutated}`;
  });

// Fixed, seeded work that only takes longer on a slower or busier machine: the timeout guards against a hang, nothing more.
const CPU_BOUND = { timeout: 180_000 };

describe('command parser fuzz', CPU_BOUND, () => {
  it('parses arbitrary text without throwing (prefixed chat lines and unprefixed slash text)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.boolean(), (text, prefixed) => check(text, prefixed)),
      { numRuns: 2000, seed: 42 },
    );
  });

  it('answers token soup built from the command table with a command or a usage error', () => {
    fc.assert(fc.property(soup, fc.boolean(), (text, prefixed) => check(text, prefixed)), { numRuns: 2000, seed: 4242 });
  });

  it('answers mutations of every usage line with a command or a usage error', () => {
    fc.assert(fc.property(mutatedUsage, (text) => check(text, true)), { numRuns: 1500, seed: 424242 });
  });

  it('suggests the command meant for a near miss, and names the usage for bad arguments', () => {
    const typo = parseCommand('/jarvis stauts', { prefixed: true });
    expect(typo.kind === 'reply' && replyText(typo.reply)).toContain('did you mean `/jarvis status`?');
    const badArg = parseCommand('/jarvis snapshots abc', { prefixed: true });
    expect(badArg.kind === 'reply' && replyText(badArg.reply)).toContain('usage: `/jarvis snapshots <vmid>`');
  });
});

describe('dispatcher fuzz (fake services)', CPU_BOUND, () => {
  it('answers every line addressed to Jarvis exactly once, with a next step and no stack trace', async () => {
    const harness = createHarness({ JARVIS_APPROVERS: 'console:owner' });
    try {
      const owner = { platform: 'console' as const, id: 'owner', displayName: 'owner' };
      await fc.assert(
        fc.asyncProperty(fc.oneof(soup, mutatedUsage), fc.boolean(), async (text, asOwner) => {
          const answers: Reply[] = [];
          let sequence = 0;
          const conversation: Conversation = {
            channelKey: 'console:fuzz',
            post: async (reply) => {
              answers.push(reply);
              return { platform: 'console', channelId: 'fuzz', messageId: String(++sequence) } satisfies MessageRef;
            },
            edit: async () => undefined,
          };
          const requester = asOwner ? owner : { platform: 'console' as const, id: 'visitor', displayName: 'visitor' };
          await harness.dispatcher.handle({ text, prefixed: true, requester, conversation, respond: (reply) => conversation.post(reply) });
          await harness.dispatcher.idle();
          const addressed = /^\s*\/jarvis(\s|$)/i.test(text);
          if (!addressed) expect(answers).toEqual([]);
          else {
            expect(answers.length).toBeGreaterThanOrEqual(1);
            for (const answer of answers) {
              expect(answer.next.length).toBeGreaterThan(0);
              expect(replyText(answer)).not.toMatch(STACK);
              expect(answer.title).not.toBe('Something went wrong');
            }
          }
        }),
        { numRuns: 400, seed: 7 },
      );
      expect(harness.errors).toEqual([]);
    } finally {
      harness.close();
    }
  });
});
