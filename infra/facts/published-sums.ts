// Checksum lists published beside images, read on the node: the node is what downloads the image, so what it can
// reach is what counts. One `curl` over the node's shell. Two formats are read: GNU coreutils' (`sha512sum` output,
// `<hex>  <file name>`, Debian's SHA512SUMS) and BSD's tagged lines (`SHA256 (<file name>) = <hex>`, what FreeBSD's
// sha256 -r-less output looks like and OPNsense publishes as OPNsense-<version>-checksums-amd64.sha256).
import { JarvisError } from '../../lib/errors.ts';
import type { RemoteShell } from '../shell.ts';
import { shellQuote, viaBash } from '../ssh/command.ts';

/** SHA-512 (128 hex digits) and SHA-256 (64) sums by file name; `*` marks binary mode in the GNU format. */
export function parsePublishedSums(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const gnu = /^([0-9a-fA-F]{128}|[0-9a-fA-F]{64})\s+\*?(.+?)\s*$/.exec(line);
    if (gnu) {
      out[gnu[2]!] = gnu[1]!.toLowerCase();
      continue;
    }
    const bsd = /^(SHA512|SHA256) \((.+)\) = ([0-9a-fA-F]+)\s*$/.exec(line);
    if (bsd && bsd[3]!.length === (bsd[1] === 'SHA512' ? 128 : 64)) out[bsd[2]!] = bsd[3]!.toLowerCase();
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
  const sums = parsePublishedSums(result.stdout);
  if (Object.keys(sums).length === 0) throw new JarvisError('facts-unreadable', `${shell.host}: ${url} lists no SHA-512 or SHA-256 sums`);
  return sums;
}
