// `.env.example` documents every variable the code reads, and every variable it documents is read somewhere.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PLAIN_VARIABLES, SECRET_VARIABLES } from '../../lib/config.ts';

const PRODUCT_DIRS = ['app', 'bin', 'bot', 'cli', 'commands', 'deploy', 'infra', 'lib', 'monitor', 'planner', 'scripts'];
/** The operating system's own variables, read for defaults (login name, paths), not Jarvis settings. */
const SYSTEM = new Set(['PATH', 'HOME', 'USER', 'TMPDIR', 'CI', 'NODE_ENV', 'SHELL', 'LANG', 'TZ', 'STATE_DIRECTORY']);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|js)$/.test(name) ? [path] : [];
  });
}

function variablesReadByCode(): Set<string> {
  const names = new Set<string>([...PLAIN_VARIABLES, ...SECRET_VARIABLES]);
  const patterns = [
    /\benv\.([A-Z][A-Z0-9_]{2,})\b/g,
    /\benv\[['"]([A-Z][A-Z0-9_]{2,})['"]\]/g,
    /readSecret\([^,]+,\s*['"]([A-Z][A-Z0-9_]+)['"]\)/g,
  ];
  for (const file of PRODUCT_DIRS.flatMap(sources)) {
    const text = readFileSync(file, 'utf8');
    for (const pattern of patterns) for (const m of text.matchAll(pattern)) names.add(m[1]!);
  }
  for (const name of SYSTEM) names.delete(name);
  return names;
}

const documented = new Set(
  readFileSync('.env.example', 'utf8')
    .split('\n')
    .map((line) => /^([A-Z][A-Z0-9_]+)=/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined),
);

describe('.env.example', () => {
  it('documents every variable the code reads (a secret may be documented as NAME or NAME_FILE)', () => {
    const missing = [...variablesReadByCode()].filter((name) => !documented.has(name) && !documented.has(`${name}_FILE`) && !(name.endsWith('_FILE') && documented.has(name.slice(0, -5))));
    expect(missing).toEqual([]);
  });

  it('documents nothing the code does not read', () => {
    const read = variablesReadByCode();
    const stale = [...documented].filter((name) => !read.has(name) && !read.has(name.replace(/_FILE$/, '')));
    expect(stale).toEqual([]);
  });

  it('finds variables in the code (the scan itself works)', () => {
    const read = variablesReadByCode();
    for (const name of ['PROXMOX_URL', 'PROXMOX_TOKEN_SECRET', 'DISCORD_TOKEN', 'JARVIS_APPROVERS', 'TAILSCALE_AUTHKEY_FILE']) expect(read.has(name)).toBe(true);
  });
});
