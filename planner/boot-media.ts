// What a spec VM boots, as data: the official Debian 13 cloud image (downloaded on the node, verified, kept as an
// `import` volume, attached with import-from and set up by cloud-init), the Home Assistant OS image (imported with
// `qm disk import` on the node), or nothing Jarvis installs (`os: none`: the owner brings the system).
import type { CloudInitSpec, ImageSpec, VmOs } from './spec/schema.ts';

/** Debian's official "genericcloud" build of trixie (cloud-init, no firmware), as cloud.debian.org publishes it. */
export const DEBIAN_13_IMAGE = {
  url: 'https://cloud.debian.org/images/cloud/trixie/latest/debian-13-genericcloud-amd64.qcow2',
  sums: 'https://cloud.debian.org/images/cloud/trixie/latest/SHA512SUMS',
} as const;

/**
 * OPNsense's installer as pkg.opnsense.org publishes each release: the DVD image bzip2-compressed and a SHA-256 list in
 * BSD format beside it. The node downloads the .bz2, PVE checks its SHA-256 and decompresses it (download-url's
 * `compression`, pve-storage Status.pm; bzcat for ISOs, Storage.pm decompressor_info) into the ISO storage.
 */
export const OPNSENSE_INSTALLER = {
  url: 'https://pkg.opnsense.org/releases/25.7/OPNsense-25.7-dvd-amd64.iso.bz2',
  sums: 'https://pkg.opnsense.org/releases/25.7/OPNsense-25.7-checksums-amd64.sha256',
} as const;

/** Compressions download-url can undo for an ISO (pve-storage Plugin.pm KNOWN_COMPRESSION_FORMATS). */
export const ISO_COMPRESSIONS = ['bz2', 'gz', 'zst', 'lzo'] as const;
export type IsoCompression = (typeof ISO_COMPRESSIONS)[number];

/** File types PVE's download-url accepts as `import` content (pve-storage $UPLOAD_IMPORT_EXT_RE_1, minus ova). */
export const IMPORT_IMAGE_EXTENSIONS = ['qcow2', 'raw', 'vmdk'] as const;

export type Checksum = { algorithm: 'sha512' | 'sha256'; value: string };

export type BootMedia =
  | {
      kind: 'cloud-image';
      os: 'debian-13';
      url: string;
      /** The last path segment of `url`: the name the published sums list it under. */
      fileName: string;
      /** Pinned in the spec, or undefined: then it comes from `sums` at plan time. */
      checksum?: Checksum;
      sums?: string;
      cloudInit: CloudInitSpec;
    }
  | { kind: 'haos'; url: string; checksum?: Checksum }
  | {
      kind: 'installer';
      os: 'opnsense';
      url: string;
      /** The last path segment of `url` (`OPNsense-25.7-dvd-amd64.iso.bz2`): the name the sums list it under. */
      fileName: string;
      /** How the file at `url` is compressed; PVE decompresses it after checking the checksum of the download. */
      compression?: IsoCompression;
      checksum?: Checksum;
      sums?: string;
    }
  | { kind: 'none' };

export const DEFAULT_CLOUD_INIT: CloudInitSpec = { user: 'debian', sshKeys: [], ipconfig: [{ ip: 'dhcp' }] };

const pinned = (image: ImageSpec | undefined): Checksum | undefined =>
  image?.sha512 ? { algorithm: 'sha512', value: image.sha512.toLowerCase() } : image?.sha256 ? { algorithm: 'sha256', value: image.sha256.toLowerCase() } : undefined;

export const urlFileName = (url: string): string => decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');

/** The boot media of a VM whose spec passed input validation (planner/spec/boot-input.ts). */
export function bootMedia(vm: { os?: VmOs; image?: ImageSpec; cloudInit?: CloudInitSpec }): BootMedia {
  switch (vm.os) {
    case 'debian-13': {
      const url = vm.image?.url ?? DEBIAN_13_IMAGE.url;
      const checksum = pinned(vm.image);
      // The default URL is verified against Debian's published sums; an overridden one by its own pin or sums file.
      const sums = checksum ? undefined : (vm.image?.sums ?? (vm.image?.url ? undefined : DEBIAN_13_IMAGE.sums));
      return { kind: 'cloud-image', os: 'debian-13', url, fileName: urlFileName(url), ...(checksum ? { checksum } : {}), ...(sums ? { sums } : {}), cloudInit: vm.cloudInit ?? DEFAULT_CLOUD_INIT };
    }
    case 'haos': {
      const checksum = pinned(vm.image);
      return { kind: 'haos', url: vm.image!.url!, ...(checksum ? { checksum } : {}) };
    }
    case 'opnsense': {
      const url = vm.image?.url ?? OPNSENSE_INSTALLER.url;
      const checksum = pinned(vm.image);
      const sums = checksum ? undefined : (vm.image?.sums ?? (vm.image?.url ? undefined : OPNSENSE_INSTALLER.sums));
      const fileName = urlFileName(url);
      const compression = isoCompression(fileName);
      return { kind: 'installer', os: 'opnsense', url, fileName, ...(compression ? { compression } : {}), ...(checksum ? { checksum } : {}), ...(sums ? { sums } : {}) };
    }
    default:
      return { kind: 'none' };
  }
}

/**
 * The `import` volume a verified download is kept as: the file name with the first 12 hex digits of its checksum
 * before the extension (`debian-13-genericcloud-amd64-0123456789ab.qcow2`), so a newer "latest" build is a new file
 * and an existing file is known to be exactly the verified one. Only PVE's safe characters are kept.
 */
export function importFileName(fileName: string, checksum: Checksum): string {
  const dot = fileName.lastIndexOf('.');
  const stem = (dot > 0 ? fileName.slice(0, dot) : fileName).replace(/[^A-Za-z0-9\-.+=_]/g, '_');
  const extension = dot > 0 ? fileName.slice(dot + 1).toLowerCase() : 'qcow2';
  return `${stem}-${checksum.value.slice(0, 12)}.${extension}`;
}

/** The compression an installer file name says it has (`.iso.bz2` → bz2); none for a plain `.iso`. */
export function isoCompression(fileName: string): IsoCompression | undefined {
  const m = /\.iso\.([a-z0-9]+)$/i.exec(fileName);
  const ext = m?.[1]?.toLowerCase();
  return (ISO_COMPRESSIONS as readonly string[]).includes(ext ?? '') ? (ext as IsoCompression) : undefined;
}

/**
 * The ISO volume a verified installer download is kept as: the decompressed name with the first 12 hex digits of the
 * download's checksum before `.iso` (`OPNsense-25.7-dvd-amd64-0123456789ab.iso`), so an existing file is known to be
 * exactly the verified one (PVE's download-url would compare a kept file with the checksum of the compressed download
 * and refuse it).
 */
export function installerIsoName(fileName: string, checksum: Checksum): string {
  const stem = fileName.replace(/\.iso(?:\.[a-z0-9]+)?$/i, '').replace(/[^A-Za-z0-9\-.+=_]/g, '_');
  return `${stem}-${checksum.value.slice(0, 12)}.iso`;
}

/** The vendor-data snippet file of a VM, in the snippets storage's `snippets/` directory. */
export const vendorSnippetName = (vmid: number): string => `jarvis-vendor-${vmid}.yaml`;

/**
 * Cloud-init vendor data that makes the guest agent answer: Debian's cloud images do not ship qemu-guest-agent. With
 * it netcat-openbsd, which Jarvis's in-guest connection checks use (`nc -z`). The agent's
 * unit is pulled in by udev when the agent's virtio port appears, which happened before the install, so it is started
 * explicitly. `package_update` refreshes the image's empty apt lists (cc_package_update_upgrade_install updates only
 * when asked); runcmd's script runs in the final stage (scripts_user), after the packages are in.
 */
export function vendorData(): string {
  return ['#cloud-config', 'package_update: true', 'packages:', '  - qemu-guest-agent', '  - netcat-openbsd', 'runcmd:', '  - [systemctl, start, qemu-guest-agent]', ''].join('\n');
}

/** PVE's `ipconfigN` value: `ip=dhcp` or `ip=192.168.1.20/24,gw=192.168.1.1`. */
export const ipconfigValue = (entry: { ip: string; gw?: string }): string => (entry.gw ? `ip=${entry.ip},gw=${entry.gw}` : `ip=${entry.ip}`);

/**
 * PVE's `sshkeys`: the keys one per line, URL-encoded as the API wants them (qemu-server unescapes the value before
 * validating it with ssh-keygen, then stores it encoded). encodeURIComponent matches PVE's own GUI.
 */
export const sshKeysValue = (keys: string[]): string => encodeURIComponent(`${keys.map((k) => k.trim()).join('\n')}\n`);
