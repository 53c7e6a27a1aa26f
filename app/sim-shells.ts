// The simulated node's host shell: a real SSH connection (pinned host key, key auth) to the simulator's SSH server,
// exactly as Jarvis reaches a real node. Guests need nothing here: the simulator answers guest-agent exec itself.
import { createSshShell } from '../infra/ssh/client.ts';
import type { RemoteShell } from '../infra/shell.ts';
import type { RunningSim } from '../sim/server.ts';

export function simHostShell(sim: RunningSim): RemoteShell {
  return createSshShell({
    host: sim.node,
    address: new URL(sim.url).hostname,
    port: sim.mgmtSshPort,
    username: 'root',
    fingerprint: sim.mgmtSshFingerprint,
    auth: { kind: 'key', privateKeyPath: sim.mgmtSshKeyPath },
  });
}
