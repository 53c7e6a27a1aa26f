// The simulated node's filesystem as the API side sees it: what PVE reads and writes on the node itself (cloud-init
// snippets, files download-url fetches into a storage's import/ directory, directory-mapping paths). The shell runner
// backs it with the node's sandbox, so a file written over SSH is the file the API reads, and the reverse.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';

export interface NodeFiles {
  read(path: string): Buffer | undefined;
  write(path: string, data: Buffer): void;
  mkdir(path: string): void;
  /** 'file', 'dir' or undefined when nothing is there. */
  kind(path: string): 'file' | 'dir' | undefined;
  /** Names of the regular files directly in a directory (none when it does not exist). */
  list(dir: string): string[];
}

/** Until a shell runner attaches the node's sandbox: files kept in memory. */
export class MemoryNodeFiles implements NodeFiles {
  private readonly files = new Map<string, Buffer>();
  private readonly dirs = new Set<string>(['/']);

  read(path: string): Buffer | undefined {
    return this.files.get(posix.normalize(path));
  }

  write(path: string, data: Buffer): void {
    const normal = posix.normalize(path);
    this.mkdir(posix.dirname(normal));
    this.files.set(normal, data);
  }

  mkdir(path: string): void {
    for (let dir = posix.normalize(path).replace(/\/$/, '') || '/'; !this.dirs.has(dir); dir = posix.dirname(dir)) this.dirs.add(dir);
  }

  kind(path: string): 'file' | 'dir' | undefined {
    const normal = posix.normalize(path).replace(/(.)\/$/, '$1');
    if (this.files.has(normal)) return 'file';
    return this.dirs.has(normal) ? 'dir' : undefined;
  }

  list(dir: string): string[] {
    const prefix = `${posix.normalize(dir).replace(/\/$/, '')}/`;
    return [...this.files.keys()].filter((f) => f.startsWith(prefix) && !f.slice(prefix.length).includes('/')).map((f) => f.slice(prefix.length));
  }
}

/** The node's files under a sandbox root (`/var/lib/vz` is `<root>/var/lib/vz`). */
export class SandboxNodeFiles implements NodeFiles {
  constructor(private readonly root: string) {}

  private at(path: string): string {
    return join(this.root, posix.normalize(`/${path}`));
  }

  read(path: string): Buffer | undefined {
    const file = this.at(path);
    return this.kind(path) === 'file' ? readFileSync(file) : undefined;
  }

  write(path: string, data: Buffer): void {
    const file = this.at(path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, data);
  }

  mkdir(path: string): void {
    mkdirSync(this.at(path), { recursive: true });
  }

  kind(path: string): 'file' | 'dir' | undefined {
    const file = this.at(path);
    if (!existsSync(file)) return undefined;
    return statSync(file).isDirectory() ? 'dir' : 'file';
  }

  list(dir: string): string[] {
    if (this.kind(dir) !== 'dir') return [];
    return readdirSync(this.at(dir), { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name)
      .sort();
  }
}
