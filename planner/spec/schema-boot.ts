// What a VM boots, in the spec: its OS, overrides of the image that OS comes from, and the cloud-init settings of a
// cloud image. The rules that need several fields (a URL needs a checksum, cloud-init only on Debian…) are input
// checks in boot-input.ts, so they are reported located like any bad input.
import { z } from 'zod';

/**
 * What a VM boots: the official Debian 13 cloud image, Home Assistant OS, OPNsense (its installer attached as a
 * CD-ROM: the owner installs and configures it), or the owner's own install (`none`).
 */
export const VM_OS = ['debian-13', 'haos', 'opnsense', 'none'] as const;
export type VmOs = (typeof VM_OS)[number];

const httpUrl = z.string().regex(/^https?:\/\/[^\s/]+\/\S*$/, 'must be an http(s) URL');

/** Overrides of the image an `os` boots; a URL other than the default needs a checksum (see planner/spec/boot-input.ts). */
export const imageSchema = z.strictObject({
  url: httpUrl.optional(),
  /** Pinned checksum of the file at `url` (hex). */
  sha512: z.string().regex(/^[0-9a-fA-F]{128}$/, 'must be 128 hex digits (a SHA-512)').optional(),
  sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits (a SHA-256)').optional(),
  /** A published checksum file that lists the image (Debian's SHA512SUMS, OPNsense's `SHA256 (file) = …` list), read on the node at plan time. */
  sums: httpUrl.optional(),
});
export type ImageSpec = z.infer<typeof imageSchema>;

export const ipConfigSchema = z.strictObject({
  /** `dhcp` or a static IPv4 address with its prefix (`192.168.1.20/24`). */
  ip: z.string().min(1),
  /** Gateway of a static address. */
  gw: z.string().optional(),
});

/** Cloud-init settings of an `os: debian-13` VM: PVE's ciuser, sshkeys and ipconfigN, applied at its first boot. */
export const cloudInitSchema = z.strictObject({
  user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a Linux user name').default('debian'),
  /** OpenSSH public key lines for `user` (the owner's, and Jarvis's own: the .pub of SSH_KEY_PATH). */
  sshKeys: z.array(z.string()).default([]),
  /** One entry per NIC (net0, net1…); DHCP on net0 by default. */
  ipconfig: z.array(ipConfigSchema).default([{ ip: 'dhcp' }]),
});
export type CloudInitSpec = z.infer<typeof cloudInitSchema>;
