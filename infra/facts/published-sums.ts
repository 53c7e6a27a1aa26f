// Checksum lists published beside images (Debian's SHA512SUMS: `<sha512>  <file name>` per line), read on the node:
// the node is what downloads the image, so what it can reach is what counts. One `curl` over the node's shell.
import { JarvisError } from '../../lib/errors.ts';
import type { RemoteShell } from '../shell.ts';
import { shellQuote, viaBash } from '../ssh/command.ts';

/** `sha512sum` output lines; `*` marks binary mode. Only SHA-512 sums (128 hex digits) are taken. */
export function parseSha512Sums(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([0-9a-fA-F]{128})\s+\*?(.+?)\s*$/.exec(line);
    if (m) out[m[2]!] = m[1]!.toLowerCase();
  }
  return out;
}

export async function readPublishedSums(shell: RemoteShell, url: string): Promise<Record<string, string>> {
  if (!/^https?:\/\/\S+$/.test(url)) throw new JarvisError('facts-input', `${url} is not an http(s) URL`);
  const result = await shell.exec(viaBash(`curl -fsSL --retry 2 --max-time 60 -- ${shellQuote(url)}`), { timeoutSec: 150 });
  if (result.code !== 0) {
    const said = (result.stderr.trim() || result.stdout.trim()).split('\n').at(-1) ?? '';
    throw new JarvisError('facts-unreadable', `${shell.host}: curl ${url} exited ${result.code}${said ? `: ${said}` : ''}`);
  }
  const sums = parseSha512Sums(result.stdout);
  if (Object.keys(sums).length === 0) throw new JarvisError('facts-unreadable', `${shell.host}: ${url} lists no SHA-512 sums`);
  return sums;
}
