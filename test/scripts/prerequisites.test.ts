// The machine prerequisites are named once (scripts/prerequisites.js): the check `npm test` runs first reports every
// missing tool in one message with the install line, the README quotes that line, and .ci/run installs from the list.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aptInstallLine, isOnPath, missingMessage, missingPrerequisites, PREREQUISITES } from '../../scripts/prerequisites.js';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

describe('machine prerequisites', () => {
  it('names every missing tool and one install line for their packages', () => {
    const present = new Set(['python3', 'make', 'g++', 'ssh-keygen', 'ssh-agent', 'ssh-add', 'tar', 'gzip', 'git']);
    const missing = missingPrerequisites(PREREQUISITES, (tool) => present.has(tool));
    expect(missing.map((item) => item.tool)).toEqual(['/usr/sbin/sshd', 'systemd-analyze', 'xz']);
    const message = missingMessage(missing);
    for (const item of missing) expect(message).toContain(`${item.tool} (package ${item.package})`);
    expect(message).toContain('sudo apt-get install -y --no-install-recommends openssh-server systemd xz-utils\n');
    expect(missingPrerequisites(PREREQUISITES, () => true)).toEqual([]);
  });

  it('finds tools on the PATH given, and absolute paths as they are', () => {
    expect(isOnPath('node', process.env.PATH)).toBe(true);
    expect(isOnPath(process.execPath, '')).toBe(true);
    expect(isOnPath('node', '')).toBe(false);
    expect(isOnPath('/no/such/tool', process.env.PATH)).toBe(false);
  });

  it('the script fails with one message when the PATH holds none of the tools, and names the packages to install', () => {
    const empty = mkdtempSync(join(tmpdir(), 'jarvis-empty-path-'));
    try {
      const script = new URL('../../scripts/prerequisites.js', import.meta.url).pathname;
      const check = spawnSync(process.execPath, [script], { env: { PATH: empty }, encoding: 'utf8' });
      expect(check.status).toBe(1);
      expect(check.stdout).toBe('');
      const onPath = PREREQUISITES.filter((item) => item.neededBy === 'test' && !item.tool.startsWith('/'));
      for (const item of onPath) expect(check.stderr).toContain(`  ${item.tool} (package ${item.package}): `);
      expect(check.stderr).toMatch(/^  sudo apt-get install -y --no-install-recommends (\S+ )*openssh-client systemd xz-utils tar gzip git$/m);
      expect(check.stderr.match(/apt-get install/g)).toHaveLength(1);
      const packages = spawnSync(process.execPath, [script, '--missing-packages'], { env: { PATH: empty }, encoding: 'utf8' });
      expect(packages.stdout.trim().split('\n')).toEqual(expect.arrayContaining(['python3', 'make', 'g++', 'openssh-client', 'systemd', 'xz-utils', 'tar', 'gzip', 'git']));
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('is the one list: the README quotes its install line, npm test checks it first, .ci/run installs from it', () => {
    expect(read('README.md')).toContain(`\n${aptInstallLine(PREREQUISITES)}\n`);
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts.pretest).toBe('node scripts/prerequisites.js');
    expect(read('vitest.config.ts')).toContain("globalSetup: ['./test/support/prerequisites-setup.ts']");
    const ci = read('.ci/run');
    expect(ci).toContain('node scripts/prerequisites.js --missing-packages');
    expect(ci.trim().split('\n').at(-1)).toBe('npm test');
  });
});
