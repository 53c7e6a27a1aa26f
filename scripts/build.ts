// `npm run build` (also run by `npm ci` through `prepare`): bundles the CLI into dist/ so `jarvis` starts without
// tsx transforming every module on each start. Code splitting keeps each command a separate chunk, loaded only when
// that command runs. The packages are bundled too, except native addons and what loads files by path at run time.
// bin/jarvis.js uses dist/ only while it is newer than every source it was built from and the bundled packages are
// the installed versions (dist/manifest.json); otherwise it runs the sources through tsx.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const MANIFEST = 'manifest.json';

/**
 * Packages that stay in node_modules, loaded from there at run time: native addons (better-sqlite3; ssh2 and its
 * optional cpu-features, with node-ssh over them, loaded on the first SSH command) and pino, whose transports start
 * worker threads from files of its own. Everything else is bundled and minified: V8 keeps the source text of every
 * module it loads for as long as the process runs, so `jarvis bot` holds ~4 MB less heap than with the packages'
 * commented sources (bench/bot.ts), and one file per chunk starts faster than hundreds of package files.
 */
export const EXTERNAL_PACKAGES = ['better-sqlite3', 'ssh2', 'cpu-features', 'node-ssh', 'pino'];

/** What bin/jarvis.js reads to decide whether dist/ is current. */
export interface BuildManifest {
  /** Milliseconds since the epoch when the build started reading sources: a source modified later is newer. */
  builtAtMs: number;
  /** Entry module, relative to dist/. */
  entry: string;
  /** Every source file the bundle holds, relative to the package root. */
  inputs: string[];
  /** Version of each bundled package, by its directory under node_modules (`zod`, `a/node_modules/b`), at build time. */
  packages: Record<string, string>;
}

/** The package name of a bare import (`zod/v4/core` → `zod`, `@slack/bolt/x` → `@slack/bolt`). */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/**
 * The directory under node_modules of a bundled file (`node_modules/a/node_modules/@b/c/x.js` → `a/node_modules/@b/c`),
 * or undefined for the project's own sources.
 */
export function packageDirOf(input: string): string | undefined {
  const parts = input.split('/');
  const first = parts.indexOf('node_modules');
  if (first < 0) return undefined;
  let end = first + 1;
  for (let i = first; i < parts.length - 1; i++) {
    if (parts[i] !== 'node_modules') continue;
    end = i + (parts[i + 1]!.startsWith('@') ? 3 : 2);
  }
  return parts.slice(first + 1, end).join('/');
}

const EXTERNAL_CHECKED = Symbol('external-checked');

/**
 * Keeps EXTERNAL_PACKAGES and Node's built-ins out of the bundle, and the optional dependencies that are not installed
 * (discord.js's zlib-sync, ws's bufferutil…): the packages require them inside try/catch, so they stay run-time
 * requires that fail as they would unbundled.
 */
function externalPackages(): Plugin {
  return {
    name: 'external-packages',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === EXTERNAL_CHECKED) return undefined;
        if (args.path.startsWith('node:') || EXTERNAL_PACKAGES.includes(packageOf(args.path))) return { path: args.path, external: true };
        const found = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: EXTERNAL_CHECKED });
        return found.errors.length > 0 ? { path: args.path, external: true } : found;
      });
    },
  };
}

/**
 * Gives each bundled module its own source file's URL as `import.meta.url`, so code that finds files next to itself
 * (lib/pve-schema/schema.json, the simulator's shims) reads them from the package as it would unbundled. Every
 * output file sits directly in dist/, so the source is at `../<path from the package root>` of the chunk.
 */
function sourceImportMetaUrl(root: string): Plugin {
  return {
    name: 'source-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const fromRoot = relative(root, args.path).split(sep).join('/');
        const url = `new URL(${JSON.stringify(`../${fromRoot}`)}, import.meta.url).href`;
        return { contents: text.replaceAll('import.meta.url', url), loader: 'ts' };
      });
    },
  };
}

export async function buildDist(root = PACKAGE_ROOT, outdir = join(root, 'dist')): Promise<BuildManifest> {
  const builtAtMs = Date.now();
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { main: 'cli/main.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    entryNames: '[name]',
    chunkNames: '[name]-[hash]',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    // Whitespace and syntax only: names stay, so stack traces (and JARVIS_DEBUG's source maps) still read. Comments go,
    // and with them the odd non-ASCII character that makes V8 keep a whole chunk's source at two bytes a character.
    minifyWhitespace: true,
    minifySyntax: true,
    charset: 'ascii',
    // The bundled CommonJS packages require Node's built-ins and the external packages; an ES module has no `require`.
    banner: { js: "import { createRequire as __jarvisCreateRequire } from 'node:module'; const require = __jarvisCreateRequire(import.meta.url);" },
    plugins: [externalPackages(), sourceImportMetaUrl(root)],
  });
  const all = Object.keys(result.metafile.inputs);
  const inputs = all.filter((path) => packageDirOf(path) === undefined).sort();
  const packageDirs = [...new Set(all.map(packageDirOf).filter((dir): dir is string => dir !== undefined))].sort();
  const packages = Object.fromEntries(
    packageDirs.map((dir) => [dir, (JSON.parse(readFileSync(join(root, 'node_modules', dir, 'package.json'), 'utf8')) as { version: string }).version]),
  );
  const manifest: BuildManifest = { builtAtMs, entry: 'main.js', inputs, packages };
  mkdirSync(outdir, { recursive: true });
  writeFileSync(join(outdir, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const manifest = await buildDist();
  const ms = Math.round(performance.now() - started);
  process.stdout.write(`dist/: ${manifest.inputs.length} sources bundled in ${ms} ms\n`);
}
