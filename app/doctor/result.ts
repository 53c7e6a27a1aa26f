// What every doctor check returns: one line each, pass / fail / warn, and for anything not passing the fix.
import { scrubSecrets } from '../../lib/secret.ts';

export type CheckStatus = 'pass' | 'fail' | 'warn';

export interface CheckResult {
  /** Stable id for --json consumers: `config`, `proxmox.tls`, `ssh.proxmox`… */
  id: string;
  status: CheckStatus;
  /** One line: what was checked and what was found. */
  summary: string;
  /** What to do about it (may span lines, e.g. a `pveum` recipe). */
  fix?: string;
}

export const pass = (id: string, summary: string): CheckResult => ({ id, status: 'pass', summary });
export const fail = (id: string, summary: string, fix: string): CheckResult => ({ id, status: 'fail', summary, fix });
export const warn = (id: string, summary: string, fix?: string): CheckResult => ({ id, status: 'warn', summary, ...(fix ? { fix } : {}) });

const MARK: Record<CheckStatus, string> = { pass: '✓', fail: '✗', warn: '!' };

export function doctorExitCode(results: CheckResult[]): 0 | 1 {
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

/** The text report; secrets that reached a message through an error are scrubbed on the way out. */
export function renderDoctorText(results: CheckResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${MARK[r.status]} ${r.summary}`);
    if (r.fix) {
      const [first, ...rest] = r.fix.split('\n');
      lines.push(`    fix: ${first}`, ...rest.map((line) => `         ${line}`));
    }
  }
  const failed = results.filter((r) => r.status === 'fail').length;
  const warned = results.filter((r) => r.status === 'warn').length;
  lines.push(
    '',
    failed === 0
      ? `all ${results.length - warned} checks passed${warned ? `, ${warned} warning${warned === 1 ? '' : 's'}` : ''}`
      : `${failed} of ${results.length} checks failed${warned ? `, ${warned} warning${warned === 1 ? '' : 's'}` : ''}`,
  );
  return scrubSecrets(`${lines.join('\n')}\n`);
}

export function renderDoctorJson(results: CheckResult[]): string {
  return scrubSecrets(`${JSON.stringify({ ok: doctorExitCode(results) === 0, checks: results }, null, 2)}\n`);
}
