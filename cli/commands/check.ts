// `jarvis check [FILES…]`: validates specs (schema, then the guardrails). Exit 0 when clean (warnings are
// printed), 1 when a guardrail refuses a spec, 2 when a file is not a valid spec at all.
import { readdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { EXIT } from '../../lib/errors.ts';
import { formatDiagnostic, type SpecDiagnostic } from '../../planner/spec/diagnostic.ts';
import { checkSpec } from '../../planner/spec/guardrails.ts';
import { readSpecFile, type LoadedSpec } from '../../planner/spec/load.ts';
import { ownershipConflicts } from '../../planner/spec/ownership.ts';
import { defineCommand } from '../args.ts';

interface FileResult {
  file: string;
  sha256?: string;
  valid: boolean;
  errors: number;
  warnings: number;
}

async function defaultFiles(cwd: string): Promise<string[] | string> {
  try {
    const names = await readdir(join(cwd, 'specs'));
    const specs = names.filter((n) => /\.ya?ml$/.test(n)).sort();
    return specs.length > 0 ? specs.map((n) => join('specs', n)) : `no *.yaml files in ${join(cwd, 'specs')}`;
  } catch {
    return `no specs/ directory in ${cwd}; name the spec files to check`;
  }
}

export const command = defineCommand(
  {
    name: 'check',
    operands: '[FILES…]',
    positionals: { min: 0, max: Infinity },
    options: {
      json: { type: 'boolean', description: 'print one JSON document on stdout (files, findings, exitCode)' },
    },
    description:
      'Validates desired-state specs: schema first, then the hard-constraint guardrails (see docs/spec-reference.md).\n' +
      'With no FILES, checks every specs/*.yaml under the current directory.',
    exitCodes: [
      [EXIT.ok, 'clean (warnings allowed)'],
      [EXIT.refused, 'guardrail violation'],
      [EXIT.invalidInput, 'invalid input'],
    ],
  },
  async ({ values, positionals }, io) => {
    const json = values.json;
    let files = positionals;
    if (files.length === 0) {
      const found = await defaultFiles(io.cwd);
      if (typeof found === 'string') {
        io.stderr(`jarvis check: ${found}\n`);
        return EXIT.invalidInput;
      }
      files = found;
    }

    const findings: SpecDiagnostic[] = [];
    const results: FileResult[] = [];
    const loadedSpecs: LoadedSpec[] = [];
    let invalid = false;
    for (const file of files) {
      const loaded = await readSpecFile(isAbsolute(file) ? file : resolve(io.cwd, file), file);
      const own = loaded.ok ? checkSpec(loaded.loaded) : loaded.errors;
      if (loaded.ok) loadedSpecs.push(loaded.loaded);
      invalid ||= !loaded.ok;
      findings.push(...own);
      results.push({
        file,
        ...(loaded.ok ? { sha256: loaded.loaded.source.sha256 } : {}),
        valid: loaded.ok,
        errors: own.filter((f) => f.severity === 'error').length,
        warnings: own.filter((f) => f.severity === 'warning').length,
      });
    }
    // Specs side by side: none may state a firewall rule, option, IP set or alias another one states differently.
    const together = loadedSpecs.length > 1 ? ownershipConflicts(loadedSpecs) : [];
    findings.push(...together);
    for (const conflict of together) {
      const result = results.find((r) => r.file === conflict.file);
      if (result) result.errors += 1;
    }
    const errors = findings.filter((f) => f.severity === 'error').length;
    const exitCode = invalid ? EXIT.invalidInput : errors > 0 ? EXIT.refused : EXIT.ok;

    if (json) {
      io.stdout(`${JSON.stringify({ ok: exitCode === EXIT.ok, exitCode, files: results, findings }, null, 2)}\n`);
      return exitCode;
    }
    for (const finding of findings) io.stdout(`${formatDiagnostic(finding)}\n`);
    for (const r of results) {
      const verdict = !r.valid ? 'invalid input' : r.errors > 0 ? 'refused' : 'ok';
      io.stdout(`${r.file}: ${verdict} (${r.errors} error${r.errors === 1 ? '' : 's'}, ${r.warnings} warning${r.warnings === 1 ? '' : 's'})\n`);
    }
    return exitCode;
  },
);
