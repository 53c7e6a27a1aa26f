// Type-level contracts of the chat edge: handlers return platform-neutral replies; results are plain data.
import { describe, expectTypeOf, it } from 'vitest';
import type { CommandContext } from '../../commands/context.ts';
import type { runCommand } from '../../commands/handlers/index.ts';
import type { ParsedCommand } from '../../commands/grammar.ts';
import type { Reply } from '../../commands/reply.ts';
import type { JarvisServices, PlanResult, ServiceRefusal } from '../../commands/services.ts';
import type { Plan } from '../../planner/plan.ts';

describe('chat edge types', () => {
  it('a handler takes a parsed command and one context and returns a Reply (or nothing)', () => {
    expectTypeOf<typeof runCommand>().parameters.toEqualTypeOf<[ParsedCommand, CommandContext]>();
    expectTypeOf<typeof runCommand>().returns.resolves.toEqualTypeOf<Reply | undefined>();
  });

  it('a Reply carries no platform types, only data', () => {
    expectTypeOf<Reply['next']>().toEqualTypeOf<string>();
    expectTypeOf<NonNullable<Reply['approvalRequest']>['plan']>().toEqualTypeOf<Plan>();
  });

  it('a plan result is a plan or a refusal, never an exception', () => {
    expectTypeOf<Awaited<ReturnType<JarvisServices['plan']>>>().toEqualTypeOf<PlanResult>();
    expectTypeOf<Extract<PlanResult, { ok: false }>>().toEqualTypeOf<ServiceRefusal>();
  });
});
