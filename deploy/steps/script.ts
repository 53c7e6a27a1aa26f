// Running provisioning scripts: every script is bash text with its inputs bound as quoted variables at the top, every
// path under $R (= JARVIS_ROOT, empty on real hosts, a sandbox in the simulator and the tests). Checks print
// `ok <what>` / `todo <what>` lines; a step is done when no `todo` line is printed.
import { z } from 'zod';
import { InputError, JarvisError } from '../../lib/errors.ts';
import type { Secret } from '../../lib/secret.ts';
import { shellQuote, viaBash } from '../../infra/ssh/command.ts';
import type { RemoteShell } from '../../infra/shell.ts';
import type { StepCheck } from './types.ts';

const PREAMBLE = 'set -euo pipefail\nR="${JARVIS_ROOT:-}"\nexport LC_ALL=C\n';

export type ScriptVars = Record<string, string | number | boolean | readonly string[]>;

/** Binds values as bash variables; arrays become bash arrays. Everything is single-quoted, so no value is code. */
export function bindVars(vars: ScriptVars): string {
  return Object.entries(vars)
    .map(([name, value]) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) throw new Error(`bad script variable name ${name}`);
      if (Array.isArray(value)) return `${name}=(${value.map((v) => shellQuote(String(v))).join(' ')})`;
      return `${name}=${shellQuote(String(value))}`;
    })
    .join('\n');
}

export function buildScript(vars: ScriptVars, body: string): string {
  return `${PREAMBLE}${bindVars(vars)}\n${body}`;
}

export interface RunOptions {
  /** What the script does, for error messages (`zfs.dataset tank/media`). */
  what: string;
  timeoutSec?: number;
  stdin?: Secret;
  onOutput?: (line: string) => void;
}

/** Runs a script as root; a non-zero exit becomes an error naming the host, the step and the script's last words. */
export async function runScript(shell: RemoteShell, script: string, opts: RunOptions): Promise<string> {
  const result = await shell.exec(viaBash(script), {
    sudo: true,
    timeoutSec: opts.timeoutSec ?? 600,
    ...(opts.stdin ? { stdin: opts.stdin } : {}),
    ...(opts.onOutput ? { onOutput: opts.onOutput } : {}),
  });
  if (result.code !== 0) {
    const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-5).join(' | ');
    throw new JarvisError('step-failed', `${opts.what} on ${shell.host}: exit ${result.code}${tail ? `: ${tail}` : ''}`);
  }
  return result.stdout;
}

/** Interprets `ok …` / `todo …` lines of a check script. */
export function checkResult(stdout: string): StepCheck {
  const lines = stdout.split('\n').filter((l) => l.startsWith('ok ') || l.startsWith('todo '));
  const todo = lines.filter((l) => l.startsWith('todo ')).map((l) => l.slice(5));
  if (todo.length > 0) return { done: false, detail: todo.join('; ') };
  return { done: true, detail: lines.map((l) => l.slice(3)).join('; ') || 'already so' };
}

export async function runCheck(shell: RemoteShell, script: string, what: string): Promise<StepCheck> {
  return checkResult(await runScript(shell, script, { what: `${what} (check)`, timeoutSec: 120 }));
}

/** Validates step arguments with zod, naming the step and the field. */
export function parseArgs<T>(stepId: string, schema: z.ZodType<T>, args: unknown): T {
  const parsed = schema.safeParse(args);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new InputError(`step ${stepId}: argument ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
}

// Argument shapes shared by several steps.
export const absolutePath = z
  .string()
  .regex(/^\/[A-Za-z0-9._\/+@-]*$/, 'must be an absolute path of letters, digits and ._/+@-')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ..');
export const datasetName = z.string().regex(/^[A-Za-z0-9_.:-]+(\/[A-Za-z0-9_.:-]+)*$/, 'must be a ZFS dataset name like tank/media');
export const plainName = z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'must be lower-case letters, digits and ._-');
export const cidr = z.string().regex(/^[0-9a-fA-F.:]+\/\d{1,3}$/, 'must be a CIDR like 10.10.20.0/24');
