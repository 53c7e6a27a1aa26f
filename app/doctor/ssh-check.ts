// SSH hosts: every SSH_HOSTS entry needs a pinned host key, and a login with that pin must run `true`.
import type { RemoteShell } from '../../infra/shell.ts';
import type { SshHostConfig } from '../../infra/ssh/client.ts';
import type { JarvisConfig } from '../../lib/config.ts';
import { JarvisError } from '../../lib/errors.ts';
import { fail, pass, warn, type CheckResult } from './result.ts';

export type OpenSsh = (config: SshHostConfig) => RemoteShell;

const SEEN_KEY = /(SHA256:[A-Za-z0-9+/]{43})/;

function keyscanFix(host: string, port: number): string {
  return `on the host itself: \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\`; or from a trusted network: \`ssh-keyscan -p ${port} -t ed25519 ${host} | ssh-keygen -lf -\`; then add it to SSH_HOST_PINS`;
}

async function checkHost(name: string, entry: { host: string; port: number }, ssh: JarvisConfig['ssh'], openSsh: OpenSsh, agentSocket: string | undefined): Promise<CheckResult> {
  const id = `ssh.${name}`;
  const where = `${ssh.user}@${entry.host}:${entry.port}`;
  const pin = ssh.pins[name];
  if (!pin) {
    return fail(id, `SSH ${name} (${where}): no pinned host key in SSH_HOST_PINS; Jarvis refuses unpinned hosts`, `add ${name}=SHA256:… to SSH_HOST_PINS: ${keyscanFix(entry.host, entry.port)}`);
  }
  if (!ssh.keyPath && !agentSocket) {
    return fail(id, `SSH ${name} (${where}): no key to log in with`, 'set SSH_KEY_PATH to the private key whose public half is in the host\'s authorized_keys (or run with an ssh-agent: SSH_AUTH_SOCK)');
  }
  let shell: RemoteShell | undefined;
  try {
    shell = openSsh({
      host: name,
      address: entry.host,
      port: entry.port,
      username: ssh.user,
      fingerprint: pin,
      auth: ssh.keyPath ? { kind: 'key', privateKeyPath: ssh.keyPath, passphrase: ssh.keyPassphrase } : { kind: 'agent', socket: agentSocket ?? '' },
      connectTimeoutMs: 10_000,
    });
    const result = await shell.exec('true', { timeoutSec: 10 });
    if (result.code !== 0) {
      return fail(id, `SSH ${name} (${where}): logged in, but \`true\` exited ${result.code}: ${result.stderr.trim()}`, 'check the login shell of the SSH user on that host');
    }
    return pass(id, `SSH ${name} (${where}): host key matches the pin ${pin}; login works`);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const code = error instanceof JarvisError ? error.code : undefined;
    if (code === 'ssh-hostkey-mismatch') {
      const seen = SEEN_KEY.exec(message)?.[1] ?? '(unknown)';
      return fail(id, `SSH ${name} (${where}): host key ${seen} does not match the pinned ${pin}`, `if the host was reinstalled, verify the new key (${keyscanFix(entry.host, entry.port)}) and replace ${name}=… in SSH_HOST_PINS; otherwise something else answers at that address: do not connect`);
    }
    return fail(id, `SSH ${name}: ${message}`, `check SSH_HOSTS (${name}=HOST[:PORT]), that sshd runs there, and that the public key of SSH_KEY_PATH is in ~${ssh.user}/.ssh/authorized_keys`);
  } finally {
    await shell?.close();
  }
}

export async function checkSshHosts(ssh: JarvisConfig['ssh'], openSsh: OpenSsh, agentSocket?: string): Promise<CheckResult[]> {
  const names = Object.keys(ssh.hosts);
  if (names.length === 0) {
    return [warn('ssh', 'SSH: no hosts in SSH_HOSTS; steps on the Proxmox node (ZFS datasets, snapshot policy, migrations, HAOS import) cannot run', 'add proxmox=NODE_ADDRESS to SSH_HOSTS and its key to SSH_HOST_PINS')];
  }
  const results = await Promise.all(names.map((name) => checkHost(name, ssh.hosts[name]!, ssh, openSsh, agentSocket)));
  const orphans = Object.keys(ssh.pins).filter((name) => !(name in ssh.hosts));
  if (orphans.length > 0) {
    results.push(warn('ssh.pins', `SSH: SSH_HOST_PINS names ${orphans.join(', ')}, which SSH_HOSTS does not list`, 'remove the stale pins or add the hosts'));
  }
  return results;
}
