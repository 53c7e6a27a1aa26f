// The data directory (approvals, journal, plans): it must exist or be creatable, take a write, and stay private.
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fail, pass, type CheckResult } from './result.ts';

export function checkDataDir(dataDir: string, cwd: string): CheckResult {
  const id = 'data-dir';
  const dir = resolve(cwd, dataDir);
  const probe = join(dir, `.doctor-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(probe, 'jarvis doctor write test\n', { flag: 'wx' });
    rmSync(probe);
  } catch (error) {
    return fail(id, `data directory ${dir}: not writable (${error instanceof Error ? error.message : String(error)})`, `create it for the user Jarvis runs as (install.sh: install -d -m 0700 -o jarvis ${dir}); under systemd it must be in ReadWritePaths=`);
  }
  const mode = statSync(dir).mode & 0o777;
  if ((mode & 0o002) !== 0) {
    return fail(id, `data directory ${dir}: any user may write to it (mode ${mode.toString(8)}), so anyone on this machine could forge approvals`, `chmod 700 ${dir}`);
  }
  return pass(id, `data directory ${dir}: writable (mode ${mode.toString(8)})`);
}
