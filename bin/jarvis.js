#!/usr/bin/env node
// Entry point for `jarvis` / `npx jarvis`: loads the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
