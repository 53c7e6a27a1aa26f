// `jarvis check [FILES…]`: validates specs (schema, then the guardrails). Exit 0 when clean (warnings are
// printed), 1 when a guardrail refuses a spec, 2 when a file is not a valid spec at all.
import { isAbsolute, join, relative, resolve } from 'node:path';
import { specPlaceFromEnv } from '../../app/planning.ts';
import { EXIT } from '../../lib/errors.ts';
import { formatDiagnostic, type SpecDiagnostic } from '../../planner/spec/diagnostic.ts';
import { checkSpec } from '../../planner/spec/guardrails.ts';
import { readSpecFile, specFilesIn, type LoadedSpec } from '../../planner/spec/load.ts';
import { ownershipConflicts } from '../../planner/spec/ownership.ts';
import { defineCommand } from '../args.ts';

interface FileResult {
  file: string;
  sha256?: string;
  valid: boolean;
  errors: number;
  warnings: number;
}

async function defaultFiles(cwd: string, specsDir: string): Promise<string[] | string> {
  const dir = isAbsolute(specsDir) ? specsDir : join(cwd, specsDir);
  try {
    const specs = await specFilesIn(dir);
    return specs.length > 0 ? specs.map((path) => (isAbsolute(specsDir) ? path : relative(cwd, path))) : `no spec *.yaml files in ${dir}`;
  } catch {
    return `no ${specsDir} directory in ${cwd} (JARVIS_SPECS_DIR); name the spec files to check`;
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
      'With no FILES, checks every spec in JARVIS_SPECS_DIR (default specs/ under the current directory). A spec reads\n' +
      "its site file's values (`site:`, or JARVIS_SITE_FILE); a placeholder left in the site file is an error.",
    exitCodes: [
      [EXIT.ok, 'clean (warnings allowed)'],
      [EXIT.refused, 'guardrail violation'],
      [EXIT.invalidInput, 'invalid input'],
    ],
  },
  async ({ values, positionals }, io) => {
    const json = values.json;
    const place = specPlaceFromEnv(io.env);
    let files = positionals;
    if (files.length === 0) {
      const found = await defaultFiles(io.cwd, place.specsDir);
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
      const loaded = await readSpecFile(isAbsolute(file) ? file : resolve(io.cwd, file), file, place.site ? { site: place.site } : {});
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
