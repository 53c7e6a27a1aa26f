// Host-key fingerprints in the form `ssh-keygen -lf` prints them: `SHA256:` + unpadded base64 of the key blob's hash.
import { createHash } from 'node:crypto';

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

export function sshFingerprint(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

export function isSshFingerprint(value: string): boolean {
  return FINGERPRINT.test(value);
}
