// cloud-init inside a simulated Debian guest, for the NoCloud seed PVE wrote (sim/cloudinit.ts). It runs once per
// instance-id, as the real one does, in its stage order (canonical/cloud-init config/cloud.cfg.tmpl): init
// (users_groups, ssh keys, write_files), config (runcmd writes its script), final (package_update_upgrade_install,
// then scripts_vendor and scripts_user run the scripts). Commands go through the sandbox's stand-ins (apt-get,
// systemctl…), so what the vendor data installs and starts is what the guest then has. Like every sandboxed
// command, the scripts see the guest's files under $JARVIS_ROOT (sim/guest/README.md).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import type { CloudInitSeed } from '../guest-runtime.ts';
import { generateEd25519 } from './ssh-keys.ts';

export type GuestCommand = (argv: string[]) => Promise<{ code: number; output: string }>;

type CloudConfig = Record<string, unknown>;

// cloudinit/distros/package_management/apt.py APT_GET_COMMAND; upgrades use dist-upgrade.
const APT_GET = ['apt-get', '--option=Dpkg::Options::=--force-confold', '--option=Dpkg::options::=--force-unsafe-io', '--assume-yes', '--quiet'];

const INSTANCE_ID = 'var/lib/cloud/data/instance-id';

/** The instance cloud-init last ran on this disk (none before the first boot). */
export function lastInstance(root: string): string | undefined {
  const file = join(root, INSTANCE_ID);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

/** A part of user-data or vendor-data: cloud-config (a YAML mapping) or a script to run. */
function part(text: string): { config: CloudConfig; script?: string } {
  if (text.startsWith('#!')) return { config: {}, script: text };
  if (!text.startsWith('#cloud-config')) return { config: {} };
  const parsed: unknown = parse(text);
  return { config: parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as CloudConfig) : {} };
}

const truthy = (value: unknown): boolean => value === true || (typeof value === 'string' && /^(true|yes|on|1)$/i.test(value));
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined || value === null ? [] : [value]);

/** cloudinit/util.py shellify: list items single-quoted, strings verbatim. */
export function shellify(commands: unknown[]): string {
  let content = '#!/bin/sh\n';
  for (const command of commands) {
    if (Array.isArray(command)) content += `${command.map((arg) => `'${String(arg).replaceAll("'", "'\\''")}'`).join(' ')}\n`;
    else if (typeof command === 'string') content += `${command}\n`;
  }
  return content;
}

function write(root: string, path: string, content: string, mode?: number): void {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content, mode === undefined ? undefined : { mode });
}

/**
 * Runs the seed's per-instance modules if this instance is new on this disk. Failures are recorded the way
 * `cloud-init status` reports them (status: error), and the remaining modules still run.
 */
export async function runCloudInit(root: string, seed: CloudInitSeed, run: GuestCommand): Promise<void> {
  if (lastInstance(root) === seed.instanceId) return;
  const user = part(seed.userData);
  const vendor = part(seed.vendorData);
  // Vendor data is merged under user data: a key the user data sets wins.
  const config: CloudConfig = { ...vendor.config, ...user.config };
  const output: string[] = [];
  const errors: string[] = [];
  const exec = async (module: string, argv: string[]): Promise<void> => {
    const result = await run(argv);
    output.push(result.output);
    if (result.code !== 0) errors.push(`${module}: ${argv.join(' ')} exited ${result.code}`);
  };

  // init stage: users_groups, ssh (authorized keys of the default user), write_files.
  const defaultUser = typeof config.user === 'string' ? config.user : 'debian';
  if (!readFileSync(join(root, 'etc/passwd'), 'utf8').split('\n').some((line) => line.startsWith(`${defaultUser}:`))) {
    write(root, 'etc/passwd', `${readFileSync(join(root, 'etc/passwd'), 'utf8')}${defaultUser}:x:1000:1000::/home/${defaultUser}:/bin/bash\n`);
  }
  // cc_ssh: the host keys, made once per instance when the image has none (ed25519, what Jarvis pins).
  if (!existsSync(join(root, 'etc/ssh/ssh_host_ed25519_key'))) {
    const pair = generateEd25519();
    write(root, 'etc/ssh/ssh_host_ed25519_key', pair.private, 0o600);
    write(root, 'etc/ssh/ssh_host_ed25519_key.pub', `${pair.public} root@${typeof config.hostname === 'string' ? config.hostname : 'localhost'}\n`, 0o644);
  }
  const keys = list(config.ssh_authorized_keys).map(String);
  if (keys.length) write(root, `home/${defaultUser}/.ssh/authorized_keys`, `${keys.join('\n')}\n`, 0o600);
  if (typeof config.hostname === 'string') write(root, 'etc/hostname', `${config.hostname}\n`);
  for (const file of list(config.write_files)) {
    const entry = file as { path?: unknown; content?: unknown; permissions?: unknown };
    if (typeof entry.path === 'string') write(root, entry.path, String(entry.content ?? ''), typeof entry.permissions === 'string' ? parseInt(entry.permissions, 8) : undefined);
  }

  // config stage: runcmd only writes its script.
  const runcmd = list(config.runcmd);
  if (runcmd.length) write(root, 'var/lib/cloud/instance/scripts/runcmd', shellify(runcmd), 0o700);

  // final stage: cc_package_update_upgrade_install, then scripts_vendor and scripts_user.
  const packages = list(config.packages).map(String);
  const upgrade = truthy(config.package_upgrade) || truthy(config.apt_upgrade);
  if (truthy(config.package_update) || truthy(config.apt_update) || upgrade || packages.length) await exec('package_update_upgrade_install', [...APT_GET, 'update']);
  if (upgrade) await exec('package_update_upgrade_install', [...APT_GET, 'dist-upgrade']);
  if (packages.length) await exec('package_update_upgrade_install', [...APT_GET, 'install', ...packages]);
  if (vendor.script) {
    write(root, 'var/lib/cloud/instance/scripts/vendor/vendor-data', vendor.script, 0o700);
    await exec('scripts_vendor', ['sh', join(root, 'var/lib/cloud/instance/scripts/vendor/vendor-data')]);
  }
  if (runcmd.length) await exec('scripts_user', ['sh', join(root, 'var/lib/cloud/instance/scripts/runcmd')]);
  if (user.script) {
    write(root, 'var/lib/cloud/instance/scripts/part-001', user.script, 0o700);
    await exec('scripts_user', ['sh', join(root, 'var/lib/cloud/instance/scripts/part-001')]);
  }

  write(root, 'var/log/cloud-init-output.log', output.join(''));
  write(root, '.shim/state/cloud-init/status', errors.length ? `error\n${errors.join('\n')}\n` : 'done\n');
  write(root, 'var/lib/cloud/instance/boot-finished', `${new Date().toISOString()}\n`);
  write(root, INSTANCE_ID, `${seed.instanceId}\n`);
}
