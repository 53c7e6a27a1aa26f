#!/usr/bin/env node
// Entry point for `jarvis` / `npx jarvis`: loads the environment file, then runs the CLI from dist/ (bundled by
// `npm run build`, which `npm ci` runs) when it is current, else from the TypeScript sources through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freshBuild } from './fresh-build.js';

// JARVIS_ENV_FILE names the environment file; otherwise ./.env is read when present. Variables already set win.
const envFile = process.env.JARVIS_ENV_FILE ?? (existsSync('.env') ? '.env' : undefined);
if (envFile) {
  try {
    process.loadEnvFile(envFile);
  } catch (error) {
    console.error(`jarvis: cannot read environment file ${envFile}: ${error.message}`);
    process.exit(2);
  }
}

const build = freshBuild(fileURLToPath(new URL('..', import.meta.url)));
let main;
if (build.entry) {
  // Stack traces (JARVIS_DEBUG) then name the TypeScript sources rather than the bundle.
  if (process.env.JARVIS_DEBUG) process.setSourceMapsEnabled(true);
  ({ main } = await import(pathToFileURL(build.entry).href));
} else {
  if (process.env.JARVIS_DEBUG) console.error(`jarvis: running the sources through tsx: ${build.stale}`);
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
