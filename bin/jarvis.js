#!/usr/bin/env node
// Entry point for `jarvis` / `npx jarvis`: loads the environment file, then the TypeScript sources through tsx.
import { existsSync } from 'node:fs';
import { register } from 'tsx/esm/api';

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

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
