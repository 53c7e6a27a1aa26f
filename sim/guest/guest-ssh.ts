// A guest's sshd. Debian's cloud images run OpenSSH (debian-cloud-images package_config/CLOUD: openssh-server), with
// the host keys cloud-init makes at the first boot (canonical/cloud-init cloudinit/config/cc_ssh.py) and the keys of
// the cloud-init user in its ~/.ssh/authorized_keys (cc_ssh, from the seed's ssh_authorized_keys). It answers while
// the guest runs, has booted and its `ssh` unit is active; otherwise the connection drops. The guest's LAN is not
// routable from the machine the simulator runs on: the simulator forwards a loopback port to the guest's port 22, as
// the LAN would carry a connection to its address.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SimLab } from '../lab.ts';
import { authorizedKeysIn, serveSsh, type SshListener } from './host-ssh.ts';
import type { SimShellRunner } from './runner.ts';
import { sandboxOs } from './system.ts';

/** The home directory of `user` in the guest's etc/passwd. */
function homeOf(root: string, user: string): string | undefined {
  const passwd = join(root, 'etc/passwd');
  if (!existsSync(passwd)) return undefined;
  const line = readFileSync(passwd, 'utf8').split('\n').find((l) => l.split(':')[0] === user);
  return line?.split(':')[5];
}

export function startGuestSsh(opts: { lab: SimLab; runner: SimShellRunner; vmid: number; host?: string; port?: number }): Promise<SshListener> {
  const { lab, runner, vmid } = opts;
  const root = (): string => runner.guestRoot(vmid);
  return serveSsh(
    {
      hostKey() {
        const vm = lab.vms.get(vmid);
        if (!vm || vm.status !== 'running' || !vm.boot?.ready || sandboxOs(root()) !== 'debian-13') return undefined;
        if (!existsSync(join(root(), '.shim/state/systemd/ssh.active'))) return undefined;
        const key = join(root(), 'etc/ssh/ssh_host_ed25519_key');
        return existsSync(key) ? readFileSync(key, 'utf8') : undefined;
      },
      keysFor(user) {
        const home = homeOf(root(), user);
        return home ? authorizedKeysIn(join(root(), home, '.ssh/authorized_keys')) : [];
      },
      exec: (command, io) => runner.guestShell(vmid, command, io),
    },
    { ...(opts.host ? { host: opts.host } : {}), ...(opts.port !== undefined ? { port: opts.port } : {}) },
  );
}
