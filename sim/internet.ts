// The simulated node's internet: the one table of URLs the node (PVE's download-url, the node's and the guests'
// `curl`) can fetch, each a small stand-in file. Disk images are recognised by their content: a VM disk made from one
// of them boots what the image holds (sim/boot.ts). Anything else fails as an unreachable host fails on a real node.
// Tests add entries (a corrupt image, a wrong published sum) with `lab.internet.set()`.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GuestOs } from './guest-runtime.ts';


export interface DiskImage {
  /** Human name (for logs and tests). */
  name: string;
  os: GuestOs;
  arch: 'amd64' | 'arm64';
  /** The virtual size qemu-img reports; a disk imported from the image gets this size. */
  virtualSizeGiB: number;
  /** HAOS ships a GRUB EFI image only (home-assistant/operating-system ova_defconfig: BR2_TARGET_GRUB2_X86_64_EFI). */
  firmware: 'bios-or-efi' | 'efi';
}

export interface InternetEntry {
  body: Buffer;
  /** GitHub release assets answer with a redirect to storage; curl follows it only with -L, wget always does. */
  redirects?: boolean;
}

export const DEBIAN_13_BASE = 'https://cloud.debian.org/images/cloud/trixie/latest';
export const DEBIAN_13_IMAGE_URL = `${DEBIAN_13_BASE}/debian-13-genericcloud-amd64.qcow2`;
export const DEBIAN_13_SUMS_URL = `${DEBIAN_13_BASE}/SHA512SUMS`;
export const HAOS_VERSION = '16.3';
export const HAOS_IMAGE_URL = `https://github.com/home-assistant/operating-system/releases/download/${HAOS_VERSION}/haos_ova-${HAOS_VERSION}.qcow2.xz`;

/** OPNsense publishes each release's images bzip2-compressed, with a BSD-style SHA-256 checksums file beside them. */
export const OPNSENSE_VERSION = '25.7';
export const OPNSENSE_BASE = `https://pkg.opnsense.org/releases/${OPNSENSE_VERSION}`;
export const OPNSENSE_ISO_NAME = `OPNsense-${OPNSENSE_VERSION}-dvd-amd64.iso`;
export const OPNSENSE_ISO_BZ2_URL = `${OPNSENSE_BASE}/${OPNSENSE_ISO_NAME}.bz2`;
export const OPNSENSE_SUMS_URL = `${OPNSENSE_BASE}/OPNsense-${OPNSENSE_VERSION}-checksums-amd64.sha256`;

const sha = (algorithm: string, data: Buffer): string => createHash(algorithm).update(data).digest('hex');

/** A file that passes `qemu-img info --format qcow2` in the simulator: the qcow2 magic, then a readable label. */
export function standInQcow2(label: string): Buffer {
  return Buffer.concat([Buffer.from([0x51, 0x46, 0x49, 0xfb, 0x00, 0x00, 0x00, 0x03]), Buffer.from(` jarvis-sim stand-in: ${label}\n`)]);
}

export const isQcow2 = (data: Buffer): boolean => data.length >= 4 && data.readUInt32BE(0) === 0x514649fb;

/** A file that is an ISO 9660 image: the primary volume descriptor (type 1, "CD001") at sector 16, then a label. */
export function standInIso(label: string): Buffer {
  return Buffer.concat([Buffer.alloc(0x8000), Buffer.from([0x01]), Buffer.from('CD001'), Buffer.from([0x01]), Buffer.from(` jarvis-sim stand-in: ${label}\n`)]);
}

/** What the owner's installation leaves on the router's disk (OPNsense's installer writes its own system). */
export const OPNSENSE_INSTALLED: DiskImage = { name: `opnsense-${OPNSENSE_VERSION}-installed`, os: 'opnsense', arch: 'amd64', virtualSizeGiB: 16, firmware: 'bios-or-efi' };

const IMAGES: Array<DiskImage & { payload: Buffer }> = [
  // debian-cloud-images: genericcloud = cloud-init + openssh-server, no qemu-guest-agent (package_config/{CLOUD,GENERIC}).
  { name: 'debian-13-genericcloud-amd64', os: 'debian-13', arch: 'amd64', virtualSizeGiB: 3, firmware: 'bios-or-efi' },
  { name: 'debian-13-generic-amd64', os: 'debian-13', arch: 'amd64', virtualSizeGiB: 3, firmware: 'bios-or-efi' },
  { name: 'debian-13-genericcloud-arm64', os: 'debian-13', arch: 'arm64', virtualSizeGiB: 3, firmware: 'efi' },
  // home-assistant/operating-system board/pc/ova/meta: DISK_SIZE=32G.
  { name: `haos_ova-${HAOS_VERSION}`, os: 'haos', arch: 'amd64', virtualSizeGiB: 32, firmware: 'efi' },
]
  .map((image) => ({ ...(image as DiskImage), payload: standInQcow2(image.name) }))
  // The OPNsense installer: a hybrid ISO that boots the live system with BIOS or UEFI.
  .concat([{ name: OPNSENSE_ISO_NAME.replace(/\.iso$/, ''), os: 'opnsense-installer', arch: 'amd64', virtualSizeGiB: 2, firmware: 'bios-or-efi', payload: standInIso(OPNSENSE_ISO_NAME) }]);

const IMAGES_BY_SHA256 = new Map(IMAGES.map((image) => [sha('sha256', image.payload), image as DiskImage]));

/** The image a file holds, recognised by its content (what qemu would boot from a disk made of it). */
export function imageOf(data: Buffer): DiskImage | undefined {
  return IMAGES_BY_SHA256.get(sha('sha256', data));
}

/** The same, from a SHA-256 a shell stand-in computed (`qm disk import` reports the file it read that way). */
export function imageBySha256(hex: string): DiskImage | undefined {
  return IMAGES_BY_SHA256.get(hex.toLowerCase());
}

const payload = (name: string): Buffer => IMAGES.find((i) => i.name === name)!.payload;

function xz(data: Buffer): Buffer {
  return execFileSync('xz', ['-c', '-6', '--check=crc64'], { input: data, maxBuffer: 16 * 1024 * 1024 });
}

function bzip2(data: Buffer): Buffer {
  return execFileSync('bzip2', ['-c', '-9'], { input: data, maxBuffer: 16 * 1024 * 1024 });
}

function defaultEntries(): Map<string, InternetEntry> {
  const entries = new Map<string, InternetEntry>();
  const debian = ['debian-13-genericcloud-amd64', 'debian-13-generic-amd64', 'debian-13-genericcloud-arm64'];
  for (const name of debian) entries.set(`${DEBIAN_13_BASE}/${name}.qcow2`, { body: payload(name) });
  // cloud.debian.org publishes `<sha512>  <filename>` lines for every file of the release directory.
  const sums = debian.map((name) => `${sha('sha512', payload(name))}  ${name}.qcow2`).join('\n');
  entries.set(DEBIAN_13_SUMS_URL, { body: Buffer.from(`${sums}\n`) });
  entries.set(HAOS_IMAGE_URL, { body: xz(payload(`haos_ova-${HAOS_VERSION}`)), redirects: true });
  // pkg.opnsense.org/releases/<version>/: the images as .bz2 and `SHA256 (<file>) = <hex>` lines for them.
  const opnsenseIso = bzip2(payload(OPNSENSE_ISO_NAME.replace(/\.iso$/, '')));
  entries.set(OPNSENSE_ISO_BZ2_URL, { body: opnsenseIso });
  entries.set(OPNSENSE_SUMS_URL, { body: Buffer.from(`SHA256 (${OPNSENSE_ISO_NAME}.bz2) = ${sha('sha256', opnsenseIso)}\n`) });
  // What the provisioning steps fetch inside guests (deploy/steps/tailscale.ts, docker.ts), for Debian trixie.
  entries.set('https://pkgs.tailscale.com/stable/debian/trixie.noarmor.gpg', { body: Buffer.from('jarvis-sim stand-in: Tailscale archive keyring\n') });
  entries.set('https://pkgs.tailscale.com/stable/debian/trixie.tailscale-keyring.list', {
    body: Buffer.from('# Tailscale packages for debian trixie\ndeb [signed-by=/usr/share/keyrings/tailscale-archive-keyring.gpg] https://pkgs.tailscale.com/stable/debian trixie main\n'),
  });
  entries.set('https://download.docker.com/linux/debian/gpg', { body: Buffer.from('jarvis-sim stand-in: Docker archive key\n') });
  return entries;
}

export class Internet {
  private readonly entries = defaultEntries();
  private version = 0;

  get(url: string): InternetEntry | undefined {
    return this.entries.get(url);
  }

  /** Adds or replaces what a URL serves (tests: a corrupt image, a wrong sum, another release). */
  set(url: string, entry: InternetEntry | Buffer | string): void {
    this.entries.set(url, Buffer.isBuffer(entry) || typeof entry === 'string' ? { body: Buffer.from(entry) } : entry);
    this.version++;
  }

  /** Makes a URL unreachable. */
  delete(url: string): void {
    this.entries.delete(url);
    this.version++;
  }

  /** Every URL the table serves. */
  urls(): string[] {
    return [...this.entries.keys()];
  }

  sha256(url: string): string | undefined {
    const entry = this.entries.get(url);
    return entry ? sha('sha256', entry.body) : undefined;
  }

  sha512(url: string): string | undefined {
    const entry = this.entries.get(url);
    return entry ? sha('sha512', entry.body) : undefined;
  }

  /** Change counter: the shell runner rewrites its copy for the curl stand-in when it moved. */
  get revision(): number {
    return this.version;
  }

  /**
   * The table as the curl stand-in reads it: one file per URL named by the SHA-256 of the URL, plus `<name>.redirect`
   * for entries that answer with a redirect first.
   */
  writeTo(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const [url, entry] of this.entries) {
      const name = sha('sha256', Buffer.from(url));
      writeFileSync(join(dir, name), entry.body);
      if (entry.redirects) writeFileSync(join(dir, `${name}.redirect`), '');
    }
  }
}

/** The host part of a URL, as curl and wget name it in their errors. */
export function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}
