// The release `jarvis bootstrap` installs on edge-gateway: the files of this checkout that run Jarvis (its tracked
// files but the tests and benchmarks) and the bundled dist/ when it is there, as one gzip tar. install.sh then runs
// `npm ci --omit=dev` from its package-lock.json.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Not part of a release: what only develops or tests Jarvis, and what is this machine's own. */
const LEFT_OUT = [/^test\//, /^bench\//, /^\.ci\//, /^\.scratch\//, /^data\//, /^node_modules\//, /^\.env$/, /^\.git(\/|$)/];

function walk(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const rel = relative(root, path);
    if (LEFT_OUT.some((pattern) => pattern.test(rel) || pattern.test(`${rel}/`))) return [];
    return statSync(path).isDirectory() ? walk(root, path) : [rel];
  });
}

/** The release's file list: tracked files when this is a git checkout, else the tree, with dist/ added. */
export function releaseFiles(root = PACKAGE_ROOT): string[] {
  const tracked = existsSync(join(root, '.git'))
    ? execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean)
    : walk(root);
  const files = tracked.filter((file) => !LEFT_OUT.some((pattern) => pattern.test(file)) && existsSync(join(root, file)));
  const dist = existsSync(join(root, 'dist/manifest.json')) ? walk(root, join(root, 'dist')) : [];
  return [...new Set([...files, ...dist])].sort();
}

/** The release as a gzip tar (paths relative to the package root). */
export function buildRelease(root = PACKAGE_ROOT): Buffer {
  return execFileSync('tar', ['-czf', '-', '--null', '-T', '-'], { cwd: root, input: `${releaseFiles(root).join('\0')}\0`, maxBuffer: 512 * 1024 * 1024 });
}

/** A directory's files as a gzip tar (the owner's specs and site file). */
export function tarOf(dir: string, names: string[]): Buffer {
  return execFileSync('tar', ['-czf', '-', '-C', dir, ...names], { maxBuffer: 64 * 1024 * 1024 });
}
