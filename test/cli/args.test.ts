// One parser for every `jarvis` subcommand (cli/args.ts): the same --help, the same errors (naming the argument,
// exit 2), "did you mean" for commands, options and values, and a README CLI table that matches each command.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { defineCommand, helpText, parseCommandLine, synopsis, type CliCommand } from '../../cli/args.ts';
import { COMMAND_NAMES, loadCommand, main } from '../../cli/main.ts';
import type { CliIo } from '../../cli/io.ts';
import type { Plan } from '../../planner/plan.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'jarvis-cli-args-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function jarvis(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env: { JARVIS_DATA_DIR: join(scratch, 'data'), ...env }, cwd: ROOT };
  const code = await main(args, io);
  return { code, out, err };
}

async function commands(): Promise<Array<[string, CliCommand]>> {
  return Promise.all(COMMAND_NAMES.map(async (name) => [name, (await loadCommand(name))!] as [string, CliCommand]));
}

describe('every jarvis subcommand', () => {
  it('answers --help, -h and `jarvis help <name>` with its options and exit codes, exit 0', async () => {
    expect(COMMAND_NAMES).toEqual(['bootstrap', 'check', 'plan', 'apply', 'rollback', 'status', 'watch', 'bot', 'demo', 'sim', 'doctor', 'register-discord']);
    for (const [name, command] of await commands()) {
      const long = await jarvis([name, '--help']);
      expect(long, name).toMatchObject({ code: 0, err: '' });
      expect(long.out.startsWith(`usage: jarvis ${name}`), name).toBe(true);
      for (const option of [...Object.keys(command.spec.options), 'help']) expect(long.out, `${name} --${option}`).toContain(`--${option}`);
      expect(long.out).toContain('\nexit codes:\n');
      for (const [code, meaning] of command.spec.exitCodes) expect(long.out, `${name} exit ${code}`).toContain(`  ${code}  ${meaning}`);
      expect(await jarvis([name, '-h'])).toEqual(long);
      expect(await jarvis(['help', name])).toEqual(long);
    }
  });

  it('refuses an unknown option naming it, with exit 2 and nothing on stdout', async () => {
    for (const name of COMMAND_NAMES) {
      const run = await jarvis([name, '--bogus-option']);
      expect(run, name).toMatchObject({ code: 2, out: '' });
      expect(run.err, name).toContain(`jarvis ${name}: unknown option "--bogus-option"\nusage: jarvis ${name}`);
    }
  });

  it('refuses a value option given without its value, naming it, with exit 2', async () => {
    for (const [name, command] of await commands()) {
      for (const [option, spec] of Object.entries(command.spec.options)) {
        if (spec.type !== 'string') continue;
        const run = await jarvis([name, `--${option}`]);
        expect(run.code, `${name} --${option}`).toBe(2);
        expect(run.err, `${name} --${option}`).toContain(`jarvis ${name}: option --${option} needs a value: --${option} ${spec.value}`);
      }
    }
  });

  it('matches its row in the README CLI table (synopsis and exit codes)', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
    for (const [name, command] of await commands()) {
      const cell = `\`${synopsis(command.spec).replace(/\|/g, '\\|')}\``;
      const row = readme.find((line) => line.startsWith(`| ${cell}`));
      expect(row, `README row for jarvis ${name}: | ${cell} …`).toBeDefined();
      const exits = command.spec.exitCodes.map(([code, meaning]) => `${code} ${meaning}`).join(' · ');
      expect(row!.endsWith(`| ${exits} |`), `${name}: ${row} should end with | ${exits} |`).toBe(true);
    }
  });
});

describe('did you mean', () => {
  it('suggests the subcommand, the option, the value and the phase closest to a typo', async () => {
    const command = await jarvis(['stauts']);
    expect(command.code).toBe(2);
    expect(command.err).toContain('jarvis: unknown command "stauts"; did you mean "status"?');
    expect((await jarvis(['help', 'pln'])).err).toContain('did you mean "plan"?');
    const option = await jarvis(['plan', 'phase0', '--jsn']);
    expect(option.code).toBe(2);
    expect(option.err).toContain('jarvis plan: unknown option "--jsn"; did you mean "--json"?');
    expect((await jarvis(['apply', 'p1', '--dryrun'])).err).toContain('did you mean "--dry-run"?');
    const value = await jarvis(['status', '--sim', 'phase9']);
    expect(value.code).toBe(2);
    expect(value.err).toContain('option --sim: unknown value "phase9" (one of fresh, phase0, phase1, phase2-router-pending, phase2, drifted, backup-failures, lived-in, large); did you mean "phase0"?');
    const phase = await jarvis(['plan', 'phas1', '--sim', 'fresh']);
    expect(phase.code).toBe(2);
    expect(phase.err).toContain('unknown phase "phas1" (one of phase0, phase1, phase2, firewall); did you mean "phase1"?');
  });

  it('stays quiet when nothing is close', async () => {
    expect((await jarvis(['xyzzy'])).err).toMatch(/^jarvis: unknown command "xyzzy"\n/);
    expect((await jarvis(['status', '--qqqqqq'])).err).toMatch(/^jarvis status: unknown option "--qqqqqq"\n/);
  });
});

describe('jarvis apply without a lab', () => {
  it('points at `jarvis sim`, an option it has, not at --sim, which it does not take', async () => {
    const out = join(scratch, 'plans');
    const planned = await jarvis(['plan', 'phase0', '--sim', 'fresh', '--out', out, '--json']);
    expect(planned.code).toBe(0);
    const plan = JSON.parse(planned.out) as Plan;
    const apply = await jarvis(['apply', join(out, `${plan.id}.json`), '--yes']);
    expect(apply.code).toBe(2);
    expect(apply.err).toContain('no lab configured');
    expect(apply.err).toContain('start a simulated lab with `jarvis sim`');
    expect(apply.err).not.toContain('--sim');
    const status = await jarvis(['status']);
    expect(status.code).toBe(2);
    expect(status.err).toContain('or use --sim SCENARIO');
  });
});

describe('parseCommandLine', () => {
  const spec = defineCommand(
    {
      name: 'demo-spec',
      operands: '<A> [B]',
      positionals: { min: 1, max: 2 },
      options: {
        json: { type: 'boolean', description: 'json' },
        spec: { type: 'string', value: 'FILE', description: 'a file' },
        fault: { type: 'string', value: 'SPEC', multiple: true, description: 'faults' },
        mode: { type: 'string', value: 'MODE', choices: ['fast', 'slow'], description: 'how' },
      },
      description: 'a test command',
      exitCodes: [[0, 'ok']],
    },
    async () => 0,
  ).spec;

  it('gives booleans false, repeatable options [], and takes inline values and operands after --', () => {
    expect(parseCommandLine(spec, ['a'])).toEqual({ values: { json: false, spec: undefined, fault: [], mode: undefined }, positionals: ['a'] });
    expect(parseCommandLine(spec, ['--spec=x.yaml', 'a', '--fault', 'f1', '--json', '--fault=f2', '--mode', 'slow', '--', '--b'])).toEqual({
      values: { json: true, spec: 'x.yaml', fault: ['f1', 'f2'], mode: 'slow' },
      positionals: ['a', '--b'],
    });
    expect(parseCommandLine(spec, ['a', '-h', '--nonsense'])).toBe('help');
  });

  it('names what is wrong: a value swallowed from the next option, a value on a flag, a count of operands', () => {
    expect(() => parseCommandLine(spec, ['a', '--spec', '--json'])).toThrow(/^option --spec needs a value: --spec FILE\n/);
    expect(() => parseCommandLine(spec, ['a', '--json=yes'])).toThrow(/^option --json takes no value \(got "yes"\)/);
    expect(() => parseCommandLine(spec, [])).toThrow(/^missing <A> \[B\]\nusage: jarvis demo-spec <A> \[B\] \[--json\] \[--spec FILE\] \[--fault SPEC\]… \[--mode MODE\]\n/);
    expect(() => parseCommandLine(spec, ['a', 'b', 'c', 'd'])).toThrow(/^unexpected arguments "c" "d"\n/);
    expect(() => parseCommandLine(spec, ['a', '-x'])).toThrow(/^unknown option "-x"\n/);
    expect(() => parseCommandLine(spec, ['a', '--mode', 'fsat'])).toThrow(/^option --mode: unknown value "fsat" \(one of fast, slow\); did you mean "fast"\?/);
  });

  it('writes help from the same declaration: synopsis, options with their values, exit codes', () => {
    expect(helpText(spec)).toBe(
      [
        'usage: jarvis demo-spec <A> [B] [--json] [--spec FILE] [--fault SPEC]… [--mode MODE]',
        '',
        'a test command',
        '',
        'options:',
        '  --json        json',
        '  --spec FILE   a file',
        '  --fault SPEC  faults; repeatable',
        '  --mode MODE   how; one of fast, slow',
        '  -h, --help    show this help',
        '',
        'exit codes:',
        '  0  ok',
        '',
      ].join('\n'),
    );
  });
});
