// `pve-firewall status` on the node, as pve-firewall's src/PVE/Service/pve_firewall.pm prints it:
// `Status: <enabled|disabled>/<running|stopped>`, with ` (pending changes)` while the daemon's loaded ruleset differs
// from the configuration (it compiles the configuration and compares; only for a running daemon). The daemon loads a
// changed configuration on its next update cycle ($updatetime = 10 s), so commit-confirm waits for that line to go.
import { JarvisError } from '../../lib/errors.ts';
import type { RemoteShell } from '../shell.ts';

export interface FirewallDaemonStatus {
  enabled: boolean;
  running: boolean;
  /** The configuration written is not what the daemon has loaded yet. */
  pending: boolean;
  line: string;
}

export function parseFirewallStatus(stdout: string): FirewallDaemonStatus | undefined {
  const line = stdout.split('\n').map((l) => l.trim()).find((l) => l.startsWith('Status:'));
  const m = line ? /^Status: (enabled|disabled)\/(running|stopped)( \(pending changes\))?$/.exec(line) : null;
  if (!line || !m) return undefined;
  return { enabled: m[1] === 'enabled', running: m[2] === 'running', pending: m[3] !== undefined, line };
}

export async function readFirewallStatus(shell: RemoteShell): Promise<FirewallDaemonStatus> {
  const result = await shell.exec('pve-firewall status', { sudo: true, timeoutSec: 30 });
  const status = result.code === 0 ? parseFirewallStatus(result.stdout) : undefined;
  if (!status) {
    const said = (result.stderr.trim() || result.stdout.trim()).split('\n').at(-1) ?? '';
    throw new JarvisError('facts-unreadable', `${shell.host}: pve-firewall status exited ${result.code}${said ? `: ${said}` : ''}`);
  }
  return status;
}
