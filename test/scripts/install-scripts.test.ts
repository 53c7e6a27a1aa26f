// npm 12 skips a dependency's install script unless package.json's `allowScripts` names it; better-sqlite3's is what
// builds the journal's native binding. Every locked package with an install script must be named there, and nothing else.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readJson = (file: string) => JSON.parse(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8'));

describe('allowScripts in package.json', () => {
  it('names exactly the locked packages that have install scripts', () => {
    const lock = readJson('package-lock.json') as { packages: Record<string, { hasInstallScript?: boolean }> };
    const withScripts = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    const allowed = readJson('package.json').allowScripts as Record<string, boolean>;
    expect(withScripts.length).toBeGreaterThan(0);
    expect(Object.keys(allowed).sort()).toEqual([...new Set(withScripts)].sort());
    expect(Object.values(allowed).every((allow) => allow === true)).toBe(true);
  });
});
