// The node's package sources: an unsubscribed node whose enterprise repositories are enabled fails every
// `apt-get update` (401), so nothing Jarvis installs on the node (sanoid in phase 1) can be installed.
import { readAptSources } from '../../infra/facts/apt.ts';
import type { RemoteShell } from '../../infra/shell.ts';
import { fail, pass, warn, type CheckResult } from './result.ts';

export async function checkPackageSources(node: string, shell: RemoteShell | undefined): Promise<CheckResult> {
  const id = 'node.apt';
  if (!shell) return warn(id, `node ${node}: apt sources not checked (no SSH to the node in SSH_HOSTS)`, `add ${node}=NODE_ADDRESS to SSH_HOSTS with its pin`);
  let apt;
  try {
    apt = await readAptSources(shell);
  } catch (error) {
    return fail(id, `node ${node}: cannot read its apt sources: ${error instanceof Error ? error.message : String(error)}`, 'check the SSH login to the node (and sudo when the user is not root)');
  }
  if (apt.unauthorizedFiles.length > 0) {
    return warn(
      id,
      `node ${node}: the enterprise repositories are enabled (${apt.unauthorizedFiles.join(', ')}) without subscription credentials: apt-get update fails with 401, so packages on the node (sanoid) cannot be installed`,
      'a phase 1 plan switches the node to pve-no-subscription as its own action (host.apt.sources); or in the Proxmox UI: Node > Updates > Repositories, disable the enterprise ones and add No-Subscription',
    );
  }
  return pass(id, `node ${node}: apt sources usable (${apt.noSubscription ? 'pve-no-subscription' : 'no repository that needs a subscription it lacks'})`);
}
