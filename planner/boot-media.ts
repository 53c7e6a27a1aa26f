// What a spec VM boots, as data: the official Debian 13 cloud image (downloaded on the node, verified, kept as an
// `import` volume, attached with import-from and set up by cloud-init), the Home Assistant OS image (imported with
// `qm disk import` on the node), or nothing Jarvis installs (`os: none`: the owner brings the system).
import type { CloudInitSpec, ImageSpec, VmOs } from './spec/schema.ts';

/** Debian's official "genericcloud" build of trixie (cloud-init, no firmware), as cloud.debian.org publishes it. */
export const DEBIAN_13_IMAGE = {
  url: 'https://cloud.debian.org/images/cloud/trixie/latest/debian-13-genericcloud-amd64.qcow2',
  sums: 'https://cloud.debian.org/images/cloud/trixie/latest/SHA512SUMS',
} as const;

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

/** The vendor-data snippet file of a VM, in the snippets storage's `snippets/` directory. */
export const vendorSnippetName = (vmid: number): string => `jarvis-vendor-${vmid}.yaml`;

/**
 * Cloud-init vendor data that makes the guest agent answer: Debian's cloud images do not ship qemu-guest-agent. Its
 * unit is pulled in by udev when the agent's virtio port appears, which happened before the install, so it is started
 * explicitly. `package_update` refreshes the image's empty apt lists (cc_package_update_upgrade_install updates only
 * when asked); runcmd's script runs in the final stage (scripts_user), after the packages are in.
 */
export function vendorData(): string {
  return ['#cloud-config', 'package_update: true', 'packages:', '  - qemu-guest-agent', 'runcmd:', '  - [systemctl, start, qemu-guest-agent]', ''].join('\n');
}

/** PVE's `ipconfigN` value: `ip=dhcp` or `ip=192.168.1.20/24,gw=192.168.1.1`. */
export const ipconfigValue = (entry: { ip: string; gw?: string }): string => (entry.gw ? `ip=${entry.ip},gw=${entry.gw}` : `ip=${entry.ip}`);

/**
 * PVE's `sshkeys`: the keys one per line, URL-encoded as the API wants them (qemu-server unescapes the value before
 * validating it with ssh-keygen, then stores it encoded). encodeURIComponent matches PVE's own GUI.
 */
export const sshKeysValue = (keys: string[]): string => encodeURIComponent(`${keys.map((k) => k.trim()).join('\n')}\n`);
