import { describe, expect, it } from 'vitest';
import { COMMANDS, parseCommand } from '../../commands/grammar.ts';
import { didYouMean, editDistance } from '../../commands/suggest.ts';

const parse = (text: string) => parseCommand(text, { prefixed: true });
const command = (text: string) => {
  const result = parse(text);
  if (result.kind !== 'command') throw new Error(`expected a command for "${text}", got ${result.kind}`);
  return result.command;
};
const replyText = (text: string) => {
  const result = parse(text);
  if (result.kind !== 'reply') throw new Error(`expected a reply for "${text}", got ${result.kind}`);
  return [result.reply.title, ...result.reply.sections.flatMap((s) => s.lines), `next: ${result.reply.next}`].join('\n');
};

describe('parseCommand', () => {
  it('parses every subcommand with its arguments', () => {
    expect(command('/jarvis plan phase0')).toEqual({ name: 'plan', phase: 'phase0' });
    expect(command('/jarvis plan FIREWALL')).toEqual({ name: 'plan', phase: 'firewall' });
    expect(command('/jarvis apply p1-phase0')).toEqual({ name: 'apply', planId: 'p1-phase0' });
    expect(command('/jarvis approve')).toEqual({ name: 'approve' });
    expect(command('/jarvis approve p7')).toEqual({ name: 'approve', planId: 'p7' });
    expect(command('/jarvis reject p7')).toEqual({ name: 'reject', planId: 'p7' });
    expect(command('/jarvis confirm A1B2C3D4')).toEqual({ name: 'confirm', hash: 'a1b2c3d4' });
    expect(command('/jarvis dry-run p7')).toEqual({ name: 'dry-run', planId: 'p7' });
    expect(command('/jarvis snapshots 100')).toEqual({ name: 'snapshots', vmid: 100 });
    expect(command('/jarvis rollback 100 jarvis-pre-p7')).toEqual({ name: 'rollback', vmid: 100, snapshot: 'jarvis-pre-p7' });
    expect(command('/jarvis lock moving the NAS')).toEqual({ name: 'lock', reason: 'moving the NAS' });
    expect(command('/jarvis unfreeze')).toEqual({ name: 'unfreeze' });
    expect(command('/jarvis history 5')).toEqual({ name: 'history', limit: 5 });
    expect(command('/jarvis alerts test')).toEqual({ name: 'alerts-test' });
    expect(command('/jarvis help plan')).toEqual({ name: 'help', topic: 'plan' });
    for (const name of ['status', 'backups', 'check', 'drift']) expect(command(`/jarvis ${name}`)).toEqual({ name });
  });

  it('parses the commands alert buttons stand for, and refuses malformed task ids, keys and hours', () => {
    const upid = 'UPID:proxmox:0001A2B3:00C4D5E6:6745A9B0:vzdump:300:root@pam:';
    expect(command(`/jarvis log ${upid}`)).toEqual({ name: 'log', upid });
    expect(command('/jarvis retry 300')).toEqual({ name: 'retry', vmid: 300 });
    expect(command('/jarvis snooze drift')).toEqual({ name: 'snooze', key: 'drift', hours: 24 });
    expect(command(`/jarvis snooze backup-failed:${upid} 6`)).toEqual({ name: 'snooze', key: `backup-failed:${upid}`, hours: 6 });
    expect(replyText('/jarvis log UPID:../../etc/passwd')).toContain('is not a Proxmox task id');
    expect(replyText('/jarvis retry 12')).toContain('"12" is not a VM id');
    expect(replyText('/jarvis snooze drift 0')).toContain('"0" is not a number of hours from 1 to 720');
    expect(replyText('/jarvis snooze <script>')).toContain('is not an alert key');
  });

  it('takes plan ids as ids, never paths: a dot, a slash or .json is refused', () => {
    expect(command('/jarvis apply plan-20261126-1a2b3c4d')).toEqual({ name: 'apply', planId: 'plan-20261126-1a2b3c4d' });
    for (const id of ['plan-1.json', '../plans/plan-1', '/etc/passwd', '.json']) {
      expect(replyText(`/jarvis apply ${id}`), id).toContain('is not a plan id');
      expect(replyText(`/jarvis dry-run ${id}`), id).toContain('is not a plan id');
    }
    expect(command('/jarvis unlock')).toEqual({ name: 'unlock', force: false });
    expect(command('/jarvis unlock force')).toEqual({ name: 'unlock', force: true });
    expect(replyText('/jarvis unlock now')).toContain('did you mean `/jarvis unlock force`?');
  });

  it('ignores lines not addressed to Jarvis, and reads unprefixed slash-command text', () => {
    expect(parse('hello there')).toEqual({ kind: 'ignore' });
    expect(parse('/jarvisx status')).toEqual({ kind: 'ignore' });
    expect(parse('')).toEqual({ kind: 'ignore' });
    expect(parseCommand('status', { prefixed: false })).toMatchObject({ kind: 'command', command: { name: 'status' } });
  });

  it('answers a bare /jarvis with help', () => {
    expect(command('/jarvis')).toEqual({ name: 'help' });
  });

  it('suggests the nearest command for a typo and ends with it as the next command', () => {
    const text = replyText('/jarvis stauts');
    expect(text).toContain('unknown command "stauts"');
    expect(text).toContain('did you mean `/jarvis status`?');
    expect(text).toMatch(/next: \/jarvis status$/);
    expect(replyText('/jarvis aprove p1')).toContain('did you mean `/jarvis approve [planId]`?');
    expect(replyText('/jarvis rollbak 100 x')).toContain('rollback');
  });

  it('suggests the nearest phase and shows usage for a bad argument', () => {
    const text = replyText('/jarvis plan phase3');
    expect(text).toContain('unknown phase "phase3"');
    expect(text).toContain('did you mean `/jarvis plan phase0`?');
    expect(replyText('/jarvis plan firewal')).toContain('`/jarvis plan firewall`');
  });

  it('names what is wrong with each bad argument', () => {
    expect(replyText('/jarvis plan')).toContain('needs a phase');
    expect(replyText('/jarvis snapshots 12')).toContain('"12" is not a VM id');
    expect(replyText('/jarvis snapshots abc')).toContain('"abc" is not a VM id');
    expect(replyText('/jarvis rollback 100')).toContain('needs a snapshot name (see /jarvis snapshots 100)');
    expect(replyText('/jarvis rollback 100 9bad')).toContain('"9bad" is not a snapshot name');
    expect(replyText('/jarvis status now')).toContain('unexpected argument "now"');
    expect(replyText('/jarvis apply')).toContain('needs a plan id');
    expect(replyText('/jarvis apply ../../etc')).toContain('is not a plan id');
    expect(replyText('/jarvis confirm xyz')).toContain('"xyz" is not a plan hash');
    expect(replyText('/jarvis history 500')).toContain('not a count');
    expect(replyText('/jarvis alerts')).toContain('needs a subcommand');
    expect(replyText('/jarvis alerts tset')).toContain('unknown alerts command "tset"');
  });

  it('gives a usage error that ends with the next command to run', () => {
    for (const bad of ['/jarvis nope', '/jarvis plan', '/jarvis snapshots x', '/jarvis help nothing']) {
      const result = parse(bad);
      expect(result.kind).toBe('reply');
      if (result.kind === 'reply') expect(result.reply.next).toMatch(/^\/jarvis /);
    }
  });

  it('has a usage and summary for every command', () => {
    for (const spec of COMMANDS) {
      expect(spec.usage.length).toBeGreaterThan(0);
      expect(spec.summary.length).toBeGreaterThan(0);
    }
  });
});

describe('didYouMean', () => {
  it('measures edit distance', () => {
    expect(editDistance('status', 'stauts')).toBe(2);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('plan', 'plan')).toBe(0);
  });

  it('suggests only close candidates', () => {
    expect(didYouMean('stat', ['status', 'plan'])).toBe('status');
    expect(didYouMean('xyzzy', ['status', 'plan'])).toBeUndefined();
    expect(didYouMean('pln', ['status', 'plan'])).toBe('plan');
  });
});
