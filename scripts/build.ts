// `npm run build` (also run by `npm ci` through `prepare`): bundles the CLI into dist/ so `jarvis` starts without
// tsx transforming every module on each start. Code splitting keeps each command a separate chunk, loaded only when
// that command runs. Packages stay in node_modules, except the few pure-JavaScript ones every command loads.
// bin/jarvis.js uses dist/ only while it is newer than every source it was built from and the inlined packages are
// the installed versions (dist/manifest.json); otherwise it runs the sources through tsx.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const MANIFEST = 'manifest.json';

/**
 * Packages bundled into dist/: pure JavaScript loaded by every command (specs, config, API answers). Node 20 loads
 * each of their files as a module of its own; inlined they cost about 50 ms less CPU per start (`jarvis check`).
 * Native addons and the chat SDKs stay in node_modules.
 */
export const INLINED_PACKAGES = ['zod', 'yaml'];

/** What bin/jarvis.js reads to decide whether dist/ is current. */
export interface BuildManifest {
  /** Milliseconds since the epoch when the build started reading sources: a source modified later is newer. */
  builtAtMs: number;
  /** Entry module, relative to dist/. */
  entry: string;
  /** Every source file the bundle holds, relative to the package root. */
  inputs: string[];
  /** Version of each inlined package, as installed at build time. */
  packages: Record<string, string>;
}

/** The package name of a bare import (`zod/v4/core` → `zod`, `@slack/bolt/x` → `@slack/bolt`). */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function externalPackages(): Plugin {
  return {
    name: 'external-packages',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => (INLINED_PACKAGES.includes(packageOf(args.path)) ? undefined : { path: args.path, external: true }));
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
    // yaml's Node build is CommonJS and requires node:process; an ES module has no `require` of its own.
    banner: { js: "import { createRequire as __jarvisCreateRequire } from 'node:module'; const require = __jarvisCreateRequire(import.meta.url);" },
    plugins: [externalPackages(), sourceImportMetaUrl(root)],
  });
  const inputs = Object.keys(result.metafile.inputs).filter((path) => !path.split('/').includes('node_modules')).sort();
  const packages = Object.fromEntries(
    INLINED_PACKAGES.map((name) => [name, (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version]),
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
