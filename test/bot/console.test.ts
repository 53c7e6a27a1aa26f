// The console adapter behind `npm start`: scripted input, `/jarvis approve` as the ✅, waits for work at the end.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runConsole } from '../../bot/console/adapter.ts';
import { FakeServices } from './support/fake-services.ts';

async function session(lines: string[], services = new FakeServices()): Promise<{ out: string; services: FakeServices }> {
  const input = new PassThrough();
  const output = new PassThrough();
  let out = '';
  output.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  input.end(lines.map((l) => `${l}\n`).join(''));
  await runConsole({ input, output, services });
  return { out, services };
}

describe('runConsole', () => {
  it('runs the demo script: help, plan, approve (apply + validation), status, and "no changes" for the second plan', async () => {
    const { out, services } = await session(['/jarvis help', '/jarvis plan phase0', '/jarvis approve', '/jarvis status', '/jarvis plan phase0']);
    const order = ['What you can ask Jarvis', 'Plan phase0 · p1-phase0', 'owner approved plan p1-phase0', 'Applied and validated: plan p1-phase0', 'Lab healthy', 'no changes: the lab matches the spec'];
    const positions = order.map((text) => out.indexOf(text));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(out).toContain('↩ destroy VM 100');
    expect(services.applied).toEqual([{ planId: 'p1-phase0', approvers: ['console:owner'] }]);
  });

  it('a target that could not be read is not a stale plan: nothing changed, the plan stays approved, apply it again', async () => {
    const services = new FakeServices({ unreadableApplies: 1 });
    const { out } = await session(['/jarvis plan phase0', '/jarvis approve', '/jarvis apply p1-phase0'], services);
    const notStarted = out.indexOf('Apply not started: plan p1-phase0');
    expect(notStarted).toBeGreaterThan(0);
    expect(out).toContain('could not read guest/100: QEMU guest agent is not running; nothing was changed, try again');
    expect(out.slice(notStarted)).toContain('/jarvis apply p1-phase0');
    expect(out).not.toMatch(/stale|\/jarvis plan <phase>/);
    // No new approval was needed: the same plan applied on the second try.
    expect(out.indexOf('Applied and validated: plan p1-phase0')).toBeGreaterThan(notStarted);
    expect(services.applied).toEqual([{ planId: 'p1-phase0', approvers: ['console:owner'] }]);
  });

  it('ignores lines not addressed to Jarvis and answers typos with a suggestion', async () => {
    const { out } = await session(['hello', '/jarvis stauts']);
    expect(out).not.toContain('hello');
    expect(out).toContain('did you mean `/jarvis status`?');
  });

  it('needs the typed hash for a critical plan; the wrong hash applies nothing', async () => {
    const services = new FakeServices({ risks: { phase0: ['critical'] } });
    const first = await session(['/jarvis plan phase0', '/jarvis approve', '/jarvis confirm 0000ffff'], services);
    expect(first.out).toContain('Plan p1-phase0 is critical: type /jarvis confirm');
    expect(first.out).toContain('0000ffff is not the hash of plan p1-phase0');
    expect(services.applied).toEqual([]);
  });

  it('rejects: nothing is applied', async () => {
    const { out, services } = await session(['/jarvis plan phase1', '/jarvis reject', '/jarvis approve']);
    expect(out).toContain('owner rejected plan p1-phase1');
    expect(out).toContain('Plan p1-phase1 is already rejected');
    expect(services.applied).toEqual([]);
  });

  it('prints the whole Markdown plan on /jarvis details, which the plan message points to (not a dry-run count)', async () => {
    const { out, services } = await session(['/jarvis plan phase0', '/jarvis details p1-phase0']);
    expect(out).toContain('the whole plan: /jarvis details p1-phase0');
    expect(out).toContain(`--- plan-p1-phase0.md ---\n${services.plans.get('p1-phase0')!.markdown.trimEnd()}\n--- end of plan-p1-phase0.md ---`);
  });

  it('resolves at the end of input only after running work has finished', async () => {
    const { services } = await session(['/jarvis plan phase0', '/jarvis approve']);
    expect(services.applied).toHaveLength(1);
  });
});
