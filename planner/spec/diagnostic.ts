// One finding about a spec file, located to file:line:col, and its one-line rendering shared by `jarvis check`,
// `jarvis plan` and the chat commands: `file:line:col: error [rule-id] field.path: message — fix: …`.

export type Severity = 'error' | 'warning';

export interface SpecDiagnostic {
  severity: Severity;
  /** Guardrail id (`firewall.lockout`) or input rule id (`input.unknown-key`). */
  ruleId: string;
  file: string;
  line: number;
  col: number;
  /** Field path, rendered as `vms[2].tags[1]`; empty for the whole file. */
  path: string;
  message: string;
  fix: string;
  /** A finding that refuses only plans of this phase and later (a site placeholder a later phase needs). */
  fromPhase?: number;
}

export type SpecPath = ReadonlyArray<string | number>;

export function formatPath(path: SpecPath): string {
  let text = '';
  for (const segment of path) {
    text += typeof segment === 'number' ? `[${segment}]` : text === '' ? segment : `.${segment}`;
  }
  return text;
}

export function formatDiagnostic(d: SpecDiagnostic): string {
  const where = d.path === '' ? '' : `${d.path}: `;
  return `${d.file}:${d.line}:${d.col}: ${d.severity} [${d.ruleId}] ${where}${d.message} — fix: ${d.fix}`;
}
