// POST /nodes/{node}/storage/{storage}/download-url (pve-storage PVE/API2/Storage/Status.pm download_url, which runs
// PVE::Tools::download_file_from_url in a `download` task): the node fetches the URL from the simulated internet
// with wget, verifies the checksum, checks the file and renames it into the storage's directory for the content type.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fail, PveHttpError, str } from '../http.ts';
import { hostOf, isQcow2 } from '../internet.ts';
import { contentDir } from '../volumes.ts';
import { checkNode } from './cluster.ts';
import type { RouteTable } from './types.ts';

// Storage.pm: $SAFE_CHAR_CLASS_RE, $UPLOAD_IMPORT_EXT_RE_1, $ISO_EXT_RE_0, $VZTMPL_EXT_RE_1.
const IMPORT_NAME = /^[a-zA-Z0-9\-.+=_]+\.(ova|qcow2|raw|vmdk)$/;
const ISO_NAME = /\.(?:iso|img)$/i;
const VZTMPL_NAME = /\.tar\.(?:gz|xz|zst|bz2)$/;

/** Storage.pm normalize_content_filename: anything but safe characters becomes `_`. */
const normalizeFilename = (name: string): string => name.replace(/[^a-zA-Z0-9\-.+=_]/g, '_');

/** Storage.pm decompressor_info('iso', …): the command each compression is read back with. */
const DECOMPRESSORS: Record<string, string[]> = { gz: ['zcat'], lzo: ['lzop', '-d', '-c'], zst: ['zstd', '-q', '-d', '-c'], bz2: ['bzcat', '-q'] };

function decompress(data: Buffer, compression: string, tmpPath: string): Buffer {
  const [command, ...args] = DECOMPRESSORS[compression]!;
  try {
    return execFileSync(command!, args, { input: data, maxBuffer: 256 * 1024 * 1024, stdio: ['pipe', 'pipe', 'ignore'] });
  } catch (error) {
    const code = (error as { status?: number }).status ?? 1;
    throw new Error(`command '${[command, ...args, tmpPath].join(' ')}' failed: exit code ${code}`);
  }
}

const paramError = (field: string, message: string): never => {
  throw new PveHttpError(400, 'Parameter verification failed.', { [field]: message });
};

export const downloadRoutes: RouteTable = {
  'POST /nodes/{node}/storage/{storage}/download-url': ({ lab, path, params, user }) => {
    checkNode(path.node, lab);
    const storageId = path.storage ?? '';
    const storage = lab.storage(storageId);
    if (Number(storage.disable ?? 0) === 1) fail(`storage '${storageId}' is disabled`);
    if (typeof storage.path !== 'string') fail(`can't upload to storage type '${storage.type}', not a file based storage!`);
    const content = str(params, 'content') as 'iso' | 'vztmpl' | 'import';
    const url = str(params, 'url') ?? '';
    if (!String(storage.content).split(',').includes(content)) fail(`storage '${storageId}' is not configured for content-type '${content}'`);
    const filename = normalizeFilename(str(params, 'filename') ?? '');
    if (content === 'import' && !IMPORT_NAME.test(filename)) paramError('filename', 'invalid filename or wrong extension');
    if (content === 'iso' && !ISO_NAME.test(filename)) paramError('filename', 'wrong file extension');
    if (content === 'vztmpl' && !VZTMPL_NAME.test(filename)) paramError('filename', 'wrong file extension');
    const dest = `${contentDir(storage, content)}/${filename}`;
    const checksum = str(params, 'checksum');
    const algorithm = str(params, 'checksum-algorithm');
    const compression = str(params, 'compression');
    // Plugin.pm KNOWN_COMPRESSION_FORMATS (the published schema lost this enum: the check is the handler's here).
    if (compression !== undefined && !(compression in DECOMPRESSORS)) paramError('compression', `value '${compression}' does not have a value in the enumeration 'gz, lzo, zst, bz2'`);
    return lab.tasks.start('download', filename, user, {
      run: () => {
        // Status.pm's worker: decompression only for ISO images.
        if (compression && content !== 'iso') throw new Error(`decompression not supported for ${content}`);
        // PVE::Tools::download_file_from_url.
        const log = [`downloading ${url} to ${dest}`];
        const hash = (data: Buffer): string => createHash(algorithm!).update(data).digest('hex');
        const existing = lab.nodeFiles.read(dest);
        if (existing) {
          if (!checksum) throw withLog(log, `refusing to override existing file '${dest}'`);
          if (hash(existing).toLowerCase() === checksum.toLowerCase()) return [...log, 'calculating checksum of existing file...OK, got correct file already, no need to download'];
          throw withLog(log, `checksum mismatch: got '${hash(existing)}' != expect '${checksum}', aborting`);
        }
        const entry = lab.internet.get(url);
        log.push(`--${new Date().toISOString().slice(0, 19).replace('T', ' ')}--  ${url}`);
        if (!entry) {
          log.push(`Resolving ${hostOf(url)} (${hostOf(url)})... failed: Name or service not known.`);
          throw withLog(log, `download failed: wget: unable to resolve host address '${hostOf(url)}'`);
        }
        log.push(`Length: ${entry.body.length}`, `Saving to: '${dest}.tmp_dwnl.${process.pid}'`);
        if (checksum) {
          const got = hash(entry.body);
          if (got.toLowerCase() !== checksum.toLowerCase()) throw withLog([...log, 'calculating checksum...'], `checksum mismatch: got '${got}' != expect '${checksum}'`);
          log.push('calculating checksum...OK, checksum verified');
        }
        // The checksum is of the file as downloaded; then it is decompressed (`decompression_command`).
        let file = entry.body;
        if (compression) {
          const tmp = `${dest}.tmp_dwnl.${process.pid}`;
          log.push(`decompressing ${tmp} to ${dest}.tmp_dcom.${process.pid}`);
          try {
            file = decompress(entry.body, compression, tmp);
          } catch (error) {
            throw withLog(log, (error as Error).message);
          }
        }
        // assert_file_validity: an image must be what its name says (qemu-img info on the untrusted file).
        if (content === 'import' && filename.endsWith('.qcow2') && !isQcow2(file)) throw withLog(log, 'failed to verify file: failed to query file information with qemu-img');
        lab.nodeFiles.write(dest, file);
        return [...log, `download of '${url}' to '${dest}' finished`];
      },
    });
  },
};

/** A task error whose worker printed lines first (the task runner attaches them to the log). */
function withLog(lines: string[], message: string): Error {
  return Object.assign(new Error(message), { log: lines });
}
