// What dist/ bundles: every package but the native addons and pino, each recorded with its installed version so an
// upgrade makes the build stale (bin/fresh-build.js; the bundle itself is run by test/cli/bin.test.ts).
import { describe, expect, it } from 'vitest';
import { EXTERNAL_PACKAGES, packageDirOf } from '../../scripts/build.ts';

describe('packageDirOf', () => {
  it('names the directory under node_modules a bundled file belongs to', () => {
    expect(packageDirOf('node_modules/zod/v4/core/core.js')).toBe('zod');
    expect(packageDirOf('node_modules/@slack/bolt/dist/App.js')).toBe('@slack/bolt');
    expect(packageDirOf('node_modules/discord.js/node_modules/undici/lib/fetch/index.js')).toBe('discord.js/node_modules/undici');
    expect(packageDirOf('node_modules/@discordjs/rest/node_modules/@discordjs/collection/dist/index.js')).toBe('@discordjs/rest/node_modules/@discordjs/collection');
    // node_modules reached through a symlink (a package copy in the tests) resolves outside the package root.
    expect(packageDirOf('../../../work/x/node_modules/yaml/dist/index.js')).toBe('yaml');
  });

  it('is undefined for the project\'s own sources', () => {
    expect(packageDirOf('cli/main.ts')).toBeUndefined();
    expect(packageDirOf('lib/pve-schema/index.ts')).toBeUndefined();
  });
});

describe('EXTERNAL_PACKAGES', () => {
  it('keeps the native addons and pino in node_modules', () => {
    expect(EXTERNAL_PACKAGES).toEqual(expect.arrayContaining(['better-sqlite3', 'ssh2', 'cpu-features', 'pino']));
    expect(EXTERNAL_PACKAGES).not.toContain('discord.js');
  });
});
