// Reading a file a person named (a spec, a saved plan): it must be a regular file, and at most `maxBytes` are read
// whatever its size claims to be. stat().size cannot be trusted for this: /dev/zero has size 0 and never ends, a
// /proc file says 0 and has content, a FIFO blocks the open until a writer comes.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

const CHUNK_BYTES = 64 * 1024;

export type FileRead =
  | { ok: true; bytes: Buffer }
  | { ok: false; problem: 'not-found' | 'not-regular' | 'too-large' | 'unreadable'; message: string };

/** What a non-regular file is, for the refusal. */
function kindOf(stats: { isDirectory(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isFIFO(): boolean; isSocket(): boolean }): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isFIFO()) return 'a named pipe';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Reads `path` if it is a regular file of at most `maxBytes` bytes; never reads more than `maxBytes + 1`. */
export async function readRegularFile(path: string, maxBytes: number): Promise<FileRead> {
  let handle;
  try {
    // O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer; it changes nothing for regular files.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, problem: 'not-found', message: 'file not found' };
    return { ok: false, problem: 'unreadable', message: `cannot read the file (${code ?? (error as Error).message})` };
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return { ok: false, problem: 'not-regular', message: `is ${kindOf(stats)}, not a regular file` };
    const chunks: Buffer[] = [];
    let length = 0;
    while (length <= maxBytes) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, maxBytes + 1 - length));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
    }
    if (length > maxBytes) return { ok: false, problem: 'too-large', message: `is larger than ${formatBytes(maxBytes)}` };
    return { ok: true, bytes: Buffer.concat(chunks, length) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, problem: 'unreadable', message: `cannot read the file (${code ?? (error as Error).message})` };
  } finally {
    await handle.close();
  }
}

export function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / 1024 / 1024} MB` : `${bytes} bytes`;
}
