// The data directory (approvals, journal, plans): it must exist, be writable by this user, and stay private. The
// doctor only looks: it never creates the directory nor writes into it (install.sh makes it for the service).
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fail, pass, warn, type CheckResult } from './result.ts';

export function checkDataDir(dataDir: string, cwd: string): CheckResult {
  const id = 'data-dir';
  const dir = resolve(cwd, dataDir);
  let stats;
  try {
    stats = statSync(dir);
  } catch {
    return fail(id, `data directory ${dir}: does not exist`, `install.sh makes it for the service (install -d -m 0700 -o jarvis ${dir}); or set JARVIS_DATA_DIR to the directory you mean`);
  }
  if (!stats.isDirectory()) return fail(id, `data directory ${dir}: not a directory`, 'set JARVIS_DATA_DIR to a directory');
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    return fail(id, `data directory ${dir}: not writable by this user`, `run as the service's user (sudo jarvis doctor on edge-gateway), or chown it to that user; under systemd it must be in ReadWritePaths=`);
  }
  const mode = stats.mode & 0o777;
  if ((mode & 0o002) !== 0) {
    return fail(id, `data directory ${dir}: any user may write to it (mode ${mode.toString(8)}), so anyone on this machine could forge approvals`, `chmod 700 ${dir}`);
  }
  if (!isAbsolute(dataDir)) {
    return warn(id, `data directory ${dir}: writable (mode ${mode.toString(8)}), but JARVIS_DATA_DIR=${dataDir} is relative: another working directory means another journal`, 'set JARVIS_DATA_DIR to an absolute path (/var/lib/jarvis on edge-gateway)');
  }
  return pass(id, `data directory ${dir}: writable (mode ${mode.toString(8)})`);
}
