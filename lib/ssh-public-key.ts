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
  // The body is a list of SSH strings (uint32 length + bytes): the key type again, then the key's own fields.
  const parts = sshStrings(Buffer.from(blob, 'base64'));
  if (!parts || parts[0]?.toString('latin1') !== type) return `has a key body that is not a ${type} key`;
  if (parts.length - 1 !== FIELDS[type as keyof typeof FIELDS] || parts.some((p) => p.length === 0)) return `has a truncated or malformed ${type} key body`;
  if (type === 'ssh-ed25519' && parts[1]!.length !== 32) return 'has an ed25519 key body of the wrong length';
  return undefined;
}

/** Fields after the type in each key body (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709, OpenSSH PROTOCOL.u2f). */
const FIELDS: Record<(typeof SSH_KEY_TYPES)[number], number> = {
  'ssh-ed25519': 1,
  'ssh-rsa': 2,
  'ecdsa-sha2-nistp256': 2,
  'ecdsa-sha2-nistp384': 2,
  'ecdsa-sha2-nistp521': 2,
  'sk-ssh-ed25519@openssh.com': 2,
  'sk-ecdsa-sha2-nistp256@openssh.com': 3,
};

/** Splits a buffer into SSH strings; undefined when a length runs past the end. */
function sshStrings(bytes: Buffer): Buffer[] | undefined {
  const out: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) return undefined;
    const length = bytes.readUInt32BE(at);
    if (at + 4 + length > bytes.length) return undefined;
    out.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return out;
}
