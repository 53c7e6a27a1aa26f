// The public half of an SSH private key, as an OpenSSH line (`ssh-ed25519 AAAA…`), read with ssh2 (node-ssh's own
// library), so a key with no .pub file beside it can be named too.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { InputError } from '../../lib/errors.ts';
import type { Secret } from '../../lib/secret.ts';

interface ParsedKey {
  type: string;
  getPublicSSH(): Buffer;
}
const ssh2 = createRequire(import.meta.url)('ssh2') as { utils: { parseKey(key: Buffer | string, passphrase?: string): ParsedKey | Error } };

export function publicKeyOf(privateKeyPath: string, passphrase?: Secret): string {
  let text: Buffer;
  try {
    text = readFileSync(privateKeyPath);
  } catch (error) {
    throw new InputError(`SSH_KEY_PATH=${privateKeyPath}: cannot read (${(error as Error).message})`);
  }
  const parsed = ssh2.utils.parseKey(text, passphrase?.reveal());
  if (parsed instanceof Error) throw new InputError(`SSH_KEY_PATH=${privateKeyPath}: not a private key ssh2 can read (${parsed.message})`);
  return `${parsed.type} ${parsed.getPublicSSH().toString('base64')}`;
}

/** The key blob of an OpenSSH public key line (its second field), for comparing keys whatever their comments. */
export const keyBlob = (line: string): string | undefined => line.trim().split(/\s+/).find((field, i, all) => i > 0 && /^ssh-|^ecdsa-|^sk-/.test(all[i - 1] ?? '') && field.length > 20);
