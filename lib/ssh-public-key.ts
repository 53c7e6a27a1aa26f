// OpenSSH public key lines (`ssh-ed25519 AAAA… comment`), checked the way `ssh-keygen -l` reads them: PVE validates
// cloud-init `sshkeys` with ssh-keygen (pve-common PVE::Tools::validate_ssh_public_keys) and refuses the whole create
// otherwise, so Jarvis checks each key before it reaches a plan.

/** Key types ssh-keygen accepts in an authorized_keys / .pub line (OpenSSH sshkey.c keytypes). */
export const SSH_KEY_TYPES = [
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
] as const;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Why `line` is not one SSH public key, or undefined when it is. */
export function sshPublicKeyProblem(line: string): string | undefined {
  if (/[\r\n]/.test(line)) return 'holds more than one line; give each key as its own list item';
  const [type, blob] = line.trim().split(/\s+/);
  if (!type || !blob) return 'is not "<type> <base64 key> [comment]"';
  if (!(SSH_KEY_TYPES as readonly string[]).includes(type)) {
    if (/PRIVATE KEY/.test(line)) return 'is a private key: give the public half (the .pub file), never the private key';
    return `has unknown key type "${type}" (expected ${SSH_KEY_TYPES.slice(0, 3).join(', ')}, …)`;
  }
  if (!BASE64.test(blob) || blob.length % 4 !== 0) return 'has a key body that is not base64';
  const bytes = Buffer.from(blob, 'base64');
  // The body starts with the key type again, as an SSH string (uint32 length + bytes): a pasted mismatch fails here.
  if (bytes.length < 4) return 'has a key body that is too short';
  const length = bytes.readUInt32BE(0);
  const inner = bytes.subarray(4, 4 + length).toString('latin1');
  if (length > bytes.length - 4 || inner !== type) return `has a key body that is not a ${type} key`;
  if (type === 'ssh-ed25519' && bytes.length !== 4 + type.length + 4 + 32) return 'has an ed25519 key body of the wrong length';
  return undefined;
}
