// Writes the state the recording stand-ins (sim/guest/shims) read, so a sandbox can start as a scenario describes it
// (a pool that exists, Docker already installed, a joined tailnet node) and a test can read back what was done.
// The layout mirrors the shims: $root/.shim/state/<tool>/…, calls in $root/.shim/calls.log.
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const stateDir = (root: string, ...parts: string[]): string => join(root, '.shim', 'state', ...parts);

function write(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

/** os-release as each system ships it (Debian base-files; HAOS buildroot-external/scripts/post-build.sh). */
const OS_RELEASE = {
  debian: (codename: string) =>
    `PRETTY_NAME="Debian GNU/Linux 13 (${codename})"\nNAME="Debian GNU/Linux"\nVERSION_ID="13"\nVERSION="13 (${codename})"\nVERSION_CODENAME=${codename}\nID=debian\nHOME_URL="https://www.debian.org/"\nSUPPORT_URL="https://www.debian.org/support"\nBUG_REPORT_URL="https://bugs.debian.org/"\n`,
  haos: () =>
    'NAME="Home Assistant OS"\nVERSION="16.3 (Open Virtual Appliance)"\nID=haos\nVERSION_ID=16.3\nPRETTY_NAME="Home Assistant OS 16.3"\nCPE_NAME=cpe:2.3:o:home-assistant:haos:16.3:*:production:*:*:*:ova:*\nHOME_URL=https://www.home-assistant.io/\nVARIANT="Home Assistant OS Open Virtual Appliance"\nVARIANT_ID=ova\nSUPERVISOR_MACHINE=qemux86-64\nSUPERVISOR_ARCH=amd64\n',
};

/** The files a sandboxed system needs before any step runs: os-release, fstab, and the root account and group. */
export function seedBaseSystem(root: string, id: 'debian' | 'haos' = 'debian', codename = 'trixie'): void {
  const files: Record<string, string> = {
    'etc/os-release': id === 'haos' ? OS_RELEASE.haos() : OS_RELEASE.debian(codename),
    'etc/fstab': '# <file system> <mount point> <type> <options> <dump> <pass>\n',
    'etc/passwd': 'root:x:0:0:root:/root:/bin/bash\n',
    'etc/group': 'root:x:0:\n',
  };
  for (const [path, content] of Object.entries(files)) if (!existsSync(join(root, path))) write(join(root, path), content);
}

/** Debian's apt sources in deb822 form (debian.sources of a trixie install). */
const DEBIAN_SOURCES =
  'Types: deb\nURIs: http://deb.debian.org/debian/\nSuites: trixie trixie-updates\nComponents: main contrib non-free-firmware\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n' +
  'Types: deb\nURIs: http://security.debian.org/debian-security/\nSuites: trixie-security\nComponents: main contrib non-free-firmware\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n';

/**
 * Debian 13 genericcloud as its image ships (debian-cloud-images package_config/CLOUD and GENERIC): cloud-init,
 * openssh-server, sudo, iproute2 and iputils-ping, netplan.io with systemd-networkd (wiki.debian.org/Netplan), and
 * no qemu-guest-agent and no netcat.
 */
export function seedDebianCloudImage(root: string): void {
  seedBaseSystem(root, 'debian');
  write(join(root, 'etc/apt/sources.list.d/debian.sources'), DEBIAN_SOURCES);
  seedPackages(root, ['cloud-init', 'cloud-guest-utils', 'openssh-server', 'sudo', 'chrony', 'dbus', 'unattended-upgrades', 'iproute2', 'iputils-ping', 'netplan.io', 'systemd-resolved']);
  for (const unit of ['ssh', 'chrony', 'cloud-init']) seedUnit(root, unit, { enabled: true, active: false });
}

/**
 * Home Assistant OS (operating-system ova_defconfig): no apt or dpkg; its own qemu-ga as the enabled unit qemu-guest
 * bound to the agent's virtio port (package/qemu-guest-agent/qemu-guest.service), Docker and the Supervisor.
 */
export function seedHaos(root: string): void {
  seedBaseSystem(root, 'haos');
  write(join(root, 'usr/lib/os-release'), OS_RELEASE.haos());
  for (const unit of ['qemu-guest', 'docker', 'hassos-supervisor']) seedUnit(root, unit, { enabled: true, active: false });
  write(stateDir(root, 'systemd', 'qemu-guest.bindsto'), `${AGENT_PORT}\n`);
}

/** OPNsense (FreeBSD): its os-release-like identification only; the simulator runs nothing inside it. */
export function seedOpnsense(root: string): void {
  write(join(root, 'usr/local/opnsense/version/core'), '{"product_name":"OPNsense","product_version":"25.7"}\n');
}

/** The virtio-serial port QEMU gives a VM with `agent` enabled, as the guest sees it under /dev/virtio-ports. */
export const AGENT_PORT = 'virtio-ports/org.qemu.guest_agent.0';

/**
 * A fresh PVE 9 node's apt sources: pve-manager installs pve-enterprise.sources (configs/pve-sources.sources) and a
 * fresh install also lists the Ceph enterprise repository; both need a subscription (/etc/apt/auth.conf.d/pve.conf,
 * written by pve-manager PVE/API2/Subscription.pm when a key is set). 'no-subscription' is the switched state:
 * enterprise sources disabled, proxmox.sources with pve-no-subscription (pve-docs Package Repositories).
 */
export function seedPveAptSources(root: string, sources: 'enterprise' | 'no-subscription'): void {
  const dir = join(root, 'etc/apt/sources.list.d');
  if (existsSync(join(dir, 'pve-enterprise.sources'))) return;
  const disabled = sources === 'no-subscription' ? 'Enabled: false\n' : '';
  write(join(dir, 'debian.sources'), DEBIAN_SOURCES);
  write(join(dir, 'pve-enterprise.sources'), `Types: deb\nURIs: https://enterprise.proxmox.com/debian/pve\nSuites: trixie\nComponents: pve-enterprise\nSigned-By: /usr/share/keyrings/proxmox-archive-keyring.gpg\n${disabled}`);
  write(join(dir, 'ceph.sources'), `Types: deb\nURIs: https://enterprise.proxmox.com/debian/ceph-squid\nSuites: trixie\nComponents: enterprise\nSigned-By: /usr/share/keyrings/proxmox-archive-keyring.gpg\n${disabled}`);
  if (sources === 'no-subscription') {
    write(join(dir, 'proxmox.sources'), 'Types: deb\nURIs: http://download.proxmox.com/debian/pve\nSuites: trixie\nComponents: pve-no-subscription\nSigned-By: /usr/share/keyrings/proxmox-archive-keyring.gpg\n');
  }
}

export function seedPool(root: string, pool: { name: string; health?: string; size?: number; alloc?: number }): void {
  const size = pool.size ?? 4_000_000_000_000;
  const alloc = pool.alloc ?? 0;
  write(stateDir(root, 'zpool', pool.name), `${pool.health ?? 'ONLINE'} ${size} ${alloc} ${size - alloc}\n`);
  seedDataset(root, pool.name, {});
}

/** A dataset with locally set properties; existing ones are left as they are. */
export function seedDataset(root: string, name: string, properties: Record<string, string>): void {
  const dir = stateDir(root, 'zfs', 'ds', name.replaceAll('/', '%'));
  if (existsSync(dir)) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '.creation'), String(Math.floor(Date.now() / 1000)));
  for (const [key, value] of Object.entries(properties)) writeFileSync(join(dir, key), value);
  mkdirSync(join(root, properties.mountpoint ?? `/${name}`), { recursive: true });
}

export function seedPackages(root: string, packages: readonly string[]): void {
  for (const pkg of packages) write(stateDir(root, 'dpkg', pkg), '1.0-seed\n');
}

export function seedUnit(root: string, unit: string, state: { enabled: boolean; active: boolean }): void {
  if (state.enabled) write(stateDir(root, 'systemd', `${unit}.enabled`), '');
  if (state.active) write(stateDir(root, 'systemd', `${unit}.active`), '');
}

export function seedTailscale(root: string, node: { hostname: string; advertiseRoutes?: string[]; joined?: boolean }): void {
  seedPackages(root, ['tailscale']);
  seedUnit(root, 'tailscaled', { enabled: true, active: true });
  write(stateDir(root, 'tailscale', 'hostname'), node.hostname);
  write(stateDir(root, 'tailscale', 'routes'), (node.advertiseRoutes ?? []).join(','));
  write(stateDir(root, 'tailscale', 'accept-routes'), 'false');
  if (node.joined !== false) write(stateDir(root, 'tailscale', 'joined'), '');
}

export function seedDocker(root: string, compose = true): void {
  const group = join(root, 'etc', 'group');
  if (!existsSync(group) || !readFileSync(group, 'utf8').includes('\ndocker:')) write(group, `${existsSync(group) ? readFileSync(group, 'utf8') : ''}docker:x:989:\n`);
  seedPackages(root, ['docker-ce', 'docker-ce-cli', 'containerd.io', ...(compose ? ['docker-compose-plugin'] : [])]);
  seedUnit(root, 'docker', { enabled: true, active: true });
}

export function seedRunningStack(root: string, project: string): void {
  write(stateDir(root, 'docker', 'projects', project), '');
}

/**
 * A mount as the mount stand-in leaves it: fstab entry, mount table line, the target a symlink to the source's backing
 * directory (state/fs/<source>), whatever the target held kept aside.
 */
export function seedMount(root: string, mount: { target: string; source: string; fstype: string }): void {
  const table = stateDir(root, 'mounts');
  if (existsSync(table) && readFileSync(table, 'utf8').split('\n').some((l) => l.split('\t')[0] === mount.target)) return;
  const backing = stateDir(root, 'fs', mount.source.replaceAll('/', '%'));
  const hidden = stateDir(root, 'hidden', mount.target.replaceAll('/', '%'));
  const target = join(root, mount.target);
  mkdirSync(backing, { recursive: true });
  mkdirSync(target, { recursive: true });
  mkdirSync(dirname(hidden), { recursive: true });
  renameSync(target, hidden);
  symlinkSync(backing, target);
  write(table, `${existsSync(table) ? readFileSync(table, 'utf8') : ''}${mount.target}\t${mount.source}\t${mount.fstype}\n`);
  appendFileSync(join(root, 'etc', 'fstab'), `${mount.source} ${mount.target} ${mount.fstype} defaults,nofail 0 0\n`);
}

/** What Tailscale state the stand-in holds (for the simulator's tailnet), or undefined before the first `up`. */
export function readTailscaleNode(root: string): { joined: boolean; hostname: string; advertisedRoutes: string[] } | undefined {
  const dir = stateDir(root, 'tailscale');
  if (!existsSync(join(dir, 'hostname'))) return undefined;
  const routes = existsSync(join(dir, 'routes')) ? readFileSync(join(dir, 'routes'), 'utf8').trim() : '';
  return {
    joined: existsSync(join(dir, 'joined')),
    hostname: readFileSync(join(dir, 'hostname'), 'utf8').trim(),
    advertisedRoutes: routes ? routes.split(',') : [],
  };
}

export interface ShimCall {
  kind: 'read' | 'mutate' | 'fetch';
  tool: string;
  argv: string;
}

export function readShimCalls(root: string): ShimCall[] {
  const log = join(root, '.shim', 'calls.log');
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [kind, tool, argv] = line.split('\t');
      return { kind: kind as ShimCall['kind'], tool: tool ?? '', argv: argv ?? '' };
    });
}

/** A guest whose agent answers `qm guest exec` on the node (the runner keeps this marker in step with the lab). */
export function seedAgentAnswers(root: string): void {
  write(join(root, '.shim', 'agent'), '');
}

/** The node's storages as `qm disk import` checks them: `[id, type, content]`. */
export function seedQmStorages(root: string, storages: Array<[string, string, string]>): void {
  write(stateDir(root, 'qm', 'storages'), storages.map((s) => `${s.join('\t')}\n`).join(''));
}
