// One command-line parser for every `jarvis` subcommand, on node:util's parseArgs: the same `--help`, the same error
// for an unknown option, a missing value or a stray argument (naming it, exit 2), and "did you mean" for typos
// (commands/suggest.ts, as in chat). Each command declares its options once; its help text is made from them.
import { parseArgs } from 'node:util';
import { didYouMean } from '../commands/suggest.ts';
import { InputError } from '../lib/errors.ts';
import type { CliIo } from './io.ts';

export interface CliOption {
  type: 'boolean' | 'string';
  short?: string;
  /** A string option that may be given more than once (its value is an array). */
  multiple?: boolean;
  /** The value's name in the synopsis and help, e.g. FILE. */
  value?: string;
  /** The only values a string option takes (checked, with "did you mean"). */
  choices?: readonly string[];
  description: string;
}

export type CliOptions = Record<string, CliOption>;

export interface CliSpec<O extends CliOptions = CliOptions> {
  name: string;
  /** The operands in the synopsis, e.g. `<PLAN_ID|FILE>` or `[FILES…]`. */
  operands?: string;
  /** How many operands the command takes. */
  positionals: { min: number; max: number };
  options: O;
  /** What the command does, after the synopsis. */
  description: string;
  /** The environment variables it reads, when there are some worth naming. */
  environment?: string;
  /** Exit code → meaning, as `jarvis <name> --help` and the README's CLI table list them. */
  exitCodes: ReadonlyArray<readonly [code: number, meaning: string]>;
}

type ValueOf<T extends CliOption> = T['type'] extends 'boolean' ? boolean : T['multiple'] extends true ? string[] : string | undefined;

export interface ParsedArgs<O extends CliOptions> {
  values: { [K in keyof O]: ValueOf<O[K]> };
  positionals: string[];
}

export interface CliCommand<O extends CliOptions = CliOptions> {
  spec: CliSpec<O>;
  run(args: ParsedArgs<O>, io: CliIo): Promise<number>;
}

/** Ties a command's options to the types its `run` sees. */
export function defineCommand<const O extends CliOptions>(spec: CliSpec<O>, run: (args: ParsedArgs<O>, io: CliIo) => Promise<number>): CliCommand<O> {
  return { spec, run };
}

const HELP: CliOption = { type: 'boolean', short: 'h', description: 'show this help' };

const flag = (name: string, option: CliOption): string => `--${name}${option.type === 'string' ? ` ${option.value ?? 'VALUE'}` : ''}`;

/** `usage: jarvis plan <phase…> [--spec FILE] [--json]` */
export function synopsis(spec: CliSpec): string {
  const options = Object.entries(spec.options).map(([name, option]) => `[${flag(name, option)}]${option.multiple ? '…' : ''}`);
  return ['jarvis', spec.name, ...(spec.operands ? [spec.operands] : []), ...options].join(' ');
}

/** Help lines stay this narrow; longer text wraps under its own column. */
const HELP_WIDTH = 116;

function wrap(text: string, indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent + line.length + 1 + word.length > HELP_WIDTH) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

export function helpText(spec: CliSpec): string {
  const rows = [...Object.entries(spec.options), ['help', HELP] as const].map(([name, option]) => {
    const names = `${option.short ? `-${option.short}, ` : ''}${flag(name, option)}`;
    const choices = option.choices ? `; one of ${option.choices.join(', ')}` : '';
    const repeat = option.multiple ? '; repeatable' : '';
    return [names, `${option.description}${choices}${repeat}`] as const;
  });
  const width = Math.max(...rows.map(([names]) => names.length));
  const exitWidth = Math.max(...spec.exitCodes.map(([code]) => String(code).length));
  return [
    `usage: ${wrap(synopsis(spec), 'usage: jarvis '.length + spec.name.length + 1)}`,
    '',
    spec.description,
    '',
    'options:',
    ...rows.map(([names, text]) => `  ${names.padEnd(width)}  ${wrap(text, width + 4)}`),
    ...(spec.environment ? ['', `environment: ${wrap(spec.environment.replace(/\n/g, ' '), 'environment: '.length)}`] : []),
    '',
    'exit codes:',
    ...spec.exitCodes.map(([code, meaning]) => `  ${String(code).padStart(exitWidth)}  ${meaning}`),
    '',
  ].join('\n');
}

function usageError(spec: CliSpec, problem: string): InputError {
  return new InputError(`${problem}\nusage: ${synopsis(spec)}\n(jarvis ${spec.name} --help lists the options)`);
}

/**
 * Parses a subcommand's arguments: 'help' for -h/--help, otherwise the option values (booleans default to false,
 * repeatable options to []) and the operands. Every mistake throws an InputError naming the argument.
 */
export function parseCommandLine<O extends CliOptions>(spec: CliSpec<O>, args: readonly string[]): ParsedArgs<O> | 'help' {
  const options = { ...spec.options, help: HELP } as CliOptions;
  const config = Object.fromEntries(
    Object.entries(options).map(([name, o]) => [name, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }]),
  );
  // Non-strict, with tokens: unknown options and missing values come back as tokens, so the errors are ours.
  const { tokens } = parseArgs({ args: [...args], options: config, strict: false, allowPositionals: true, tokens: true });
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return 'help';

  const values: Record<string, boolean | string | string[] | undefined> = {};
  for (const [name, option] of Object.entries(spec.options)) values[name] = option.type === 'boolean' ? false : option.multiple ? [] : undefined;
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    const option = spec.options[token.name];
    if (!option) {
      const guess = token.rawName.startsWith('--') ? didYouMean(token.name, Object.keys(options)) : undefined;
      throw usageError(spec, `unknown option "${token.rawName}"${guess ? `; did you mean "--${guess}"?` : ''}`);
    }
    if (option.type === 'boolean') {
      if (token.value !== undefined) throw usageError(spec, `option --${token.name} takes no value (got "${token.value}")`);
      values[token.name] = true;
      continue;
    }
    // A value taken from the next argument that is itself an option means the value was left out.
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('--'))) {
      throw usageError(spec, `option --${token.name} needs a value: ${flag(token.name, option)}`);
    }
    if (option.choices && !option.choices.includes(token.value)) {
      const guess = didYouMean(token.value, option.choices);
      throw usageError(spec, `option --${token.name}: unknown value "${token.value}" (one of ${option.choices.join(', ')})${guess ? `; did you mean "${guess}"?` : ''}`);
    }
    if (option.multiple) (values[token.name] as string[]).push(token.value);
    else values[token.name] = token.value;
  }
  if (positionals.length < spec.positionals.min) throw usageError(spec, `missing ${spec.operands ?? 'an argument'}`);
  if (positionals.length > spec.positionals.max) {
    const extra = positionals.slice(spec.positionals.max).map((p) => `"${p}"`).join(' ');
    throw usageError(spec, `unexpected argument${positionals.length - spec.positionals.max === 1 ? '' : 's'} ${extra}`);
  }
  return { values: values as ParsedArgs<O>['values'], positionals };
}
