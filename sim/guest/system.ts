// What happens inside a simulated guest when it boots, on the files of its sandbox: the disk decides the system (a
// new boot disk means a fresh root filesystem from its image), systemd starts the enabled units, udev starts the
// guest agent when its virtio port is there, and on Debian cloud-init runs the seed PVE wrote. The agent answers
// while its unit runs and the port exists.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BootPlan, GuestOs } from '../guest-runtime.ts';
import { lastInstance, runCloudInit, type GuestCommand } from './cloud-init.ts';
import { NETPLAN_FILE, renderNetplan } from './netplan.ts';
import { AGENT_PORT, seedDebianCloudImage, seedHaos, seedOpnsense } from './seed.ts';

const mark = (root: string, name: string): string => join(root, '.shim', name);
const units = (root: string): string => join(root, '.shim', 'state', 'systemd');

function readMark(root: string, name: string): string | undefined {
  return existsSync(mark(root, name)) ? readFileSync(mark(root, name), 'utf8').trim() : undefined;
}

function writeMark(root: string, name: string, value: string): void {
  mkdirSync(join(root, '.shim'), { recursive: true });
  writeFileSync(mark(root, name), `${value}\n`);
}

/** The system a guest's sandbox holds (written when it was made from its boot disk). */
export function sandboxOs(root: string): GuestOs | undefined {
  const os = readMark(root, 'os');
  return os === 'debian-13' || os === 'haos' || os === 'opnsense' || os === 'opnsense-installer' ? os : undefined;
}

/** The boot disk the sandbox was made from. */
export function sandboxDisk(root: string): string | undefined {
  return readMark(root, 'disk');
}

/** A sandbox for this boot disk: kept when it is the same disk, else a fresh root filesystem from the image. */
export function prepareRoot(root: string, plan: BootPlan, path: string): void {
  if (sandboxDisk(root) === plan.diskId && sandboxOs(root) === plan.os) return;
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  if (plan.os === 'haos') seedHaos(root);
  else if (plan.os === 'debian-13') seedDebianCloudImage(root);
  else seedOpnsense(root);
  writeMark(root, 'disk', plan.diskId);
  writeMark(root, 'os', plan.os);
  // What `qm guest exec` on the node gives commands run in this guest.
  writeMark(root, 'path', path);
}

/** The unit that runs qemu-ga: Debian's qemu-guest-agent package, HAOS's qemu-guest. */
const agentUnit = (os: GuestOs): string => (os === 'haos' ? 'qemu-guest' : 'qemu-guest-agent');

/** OPNsense is FreeBSD: no systemd, and no qemu-ga unless the owner adds the os-qemu-guest-agent plugin. */
const usesSystemd = (os: GuestOs): boolean => os === 'debian-13' || os === 'haos';

/**
 * A boot as systemd does it: nothing runs any more from the last boot; enabled units start, and those bound to the
 * agent port only when QEMU has it. Debian's qemu-guest-agent is a static unit that udev starts when the port
 * appears (debian/qemu-guest-agent.udev: SYSTEMD_WANTS), provided the package is installed.
 */
export function systemdBoot(root: string, os: GuestOs, agentPort: boolean): void {
  const dir = units(root);
  mkdirSync(dir, { recursive: true });
  // systemd as PID 1 makes /run/systemd/system at every boot (what sd_booted() and install scripts look for).
  mkdirSync(join(root, 'run/systemd/system'), { recursive: true });
  const portFile = join(root, '.shim', 'state', 'devices', AGENT_PORT);
  if (agentPort) {
    mkdirSync(join(portFile, '..'), { recursive: true });
    writeFileSync(portFile, '');
  } else if (existsSync(portFile)) unlinkSync(portFile);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.active'))) unlinkSync(join(dir, file));
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.enabled'))) {
    const unit = file.slice(0, -'.enabled'.length);
    if (!existsSync(join(dir, `${unit}.bindsto`)) || agentPort) writeFileSync(join(dir, `${unit}.active`), '');
  }
  if (os === 'debian-13' && agentPort && existsSync(join(root, '.shim', 'state', 'dpkg', 'qemu-guest-agent'))) writeFileSync(join(dir, 'qemu-guest-agent.active'), '');
}

/** qemu-ga answers guest-ping: its unit runs and the port is there. */
export function agentActive(root: string): boolean {
  const os = sandboxOs(root);
  if (!os || !usesSystemd(os)) return false;
  return existsSync(join(units(root), `${agentUnit(os)}.active`)) && existsSync(join(root, '.shim', 'state', 'devices', AGENT_PORT));
}

/**
 * Boots the guest's system in its sandbox: systemd; on Debian with a new cloud-init instance, cloud-init's local
 * stage renders the network config for netplan; the network comes up (`networkUp`); then the rest of cloud-init.
 */
export async function bootSandbox(root: string, plan: BootPlan, path: string, run: GuestCommand, networkUp: () => void): Promise<void> {
  prepareRoot(root, plan, path);
  if (usesSystemd(plan.os)) systemdBoot(root, plan.os, plan.agentPort);
  const seed = plan.os === 'debian-13' ? plan.cloudInit : undefined;
  if (seed && lastInstance(root) !== seed.instanceId) {
    mkdirSync(join(root, 'etc', 'netplan'), { recursive: true });
    writeFileSync(join(root, NETPLAN_FILE), renderNetplan(seed.networkData), { mode: 0o600 });
  }
  networkUp();
  if (seed) await runCloudInit(root, seed, run);
}

/** The netplan files of a sandbox in the order netplan reads them (/run shadows /etc shadows /lib by file name). */
export function netplanTexts(root: string): string[] {
  const byName = new Map<string, string>();
  for (const dir of ['lib/netplan', 'etc/netplan', 'run/netplan']) {
    const full = join(root, dir);
    if (!existsSync(full)) continue;
    for (const file of readdirSync(full).filter((f) => f.endsWith('.yaml'))) byName.set(file, readFileSync(join(full, file), 'utf8'));
  }
  return [...byName.keys()].sort().map((name) => byName.get(name)!);
}
