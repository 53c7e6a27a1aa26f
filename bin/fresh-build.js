// Decides whether dist/ (scripts/build.ts) may run: only when it was built after the last change to every source it
// holds. Otherwise the CLI runs the sources through tsx, so an edited file never runs as stale bundled code.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

// Some file systems keep modification times to the second (or two): a source saved in the same second the build
// started counts as newer.
const TIMESTAMP_SLACK_MS = 2_000;

/**
 * The bundle's entry file when dist/ under `root` is current, or `{ stale: why }`.
 * Costs one stat per source file the bundle holds and a read per bundled package (~140: a few milliseconds).
 */
export function freshBuild(root) {
  const dist = join(root, 'dist');
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dist, 'manifest.json'), 'utf8'));
  } catch {
    return { stale: 'no build (npm run build)' };
  }
  const { builtAtMs, entry, inputs, packages } = manifest ?? {};
  if (typeof builtAtMs !== 'number' || typeof entry !== 'string' || !Array.isArray(inputs) || typeof packages !== 'object' || packages === null) {
    return { stale: 'dist/manifest.json is not a build manifest' };
  }
  // npm gives installed files a fixed date, so an upgraded package that dist/ bundles shows in its version only.
  for (const [name, version] of Object.entries(packages)) {
    let installed;
    try {
      installed = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
    } catch {
      installed = 'none';
    }
    if (installed !== version) return { stale: `${name} ${installed} is installed, the build bundled ${version}` };
  }
  const newerThan = builtAtMs - TIMESTAMP_SLACK_MS;
  for (const input of inputs) {
    let modified;
    try {
      modified = statSync(join(root, input)).mtimeMs;
    } catch {
      return { stale: `${input} is gone` };
    }
    if (modified >= newerThan) return { stale: `${input} changed after the build` };
  }
  return { entry: join(dist, entry) };
}
