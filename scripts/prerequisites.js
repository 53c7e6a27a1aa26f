// @ts-check
// The one list of machine prerequisites (Debian/Ubuntu packages and the tool each provides), and the check `npm test`
// runs before any test. Plain JavaScript without dependencies, so `.ci/run` can use it before `npm ci`.
//   node scripts/prerequisites.js                      check the tools the tests need; exit 1 with one message if any is missing
//   node scripts/prerequisites.js --missing-packages   print the packages to install on this machine (install and tests), one a line
//   node scripts/prerequisites.js --apt-line           print the install line the README quotes
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * @typedef {object} Prerequisite
 * @property {string} tool      a command looked up on PATH, or an absolute path
 * @property {string} package   the Debian/Ubuntu package that provides it
 * @property {'install' | 'test'} neededBy  `install`: npm ci (building better-sqlite3 from source); `test`: npm test
 * @property {string} why
 */

/** @type {readonly Prerequisite[]} */
export const PREREQUISITES = [
  { tool: 'python3', package: 'python3', neededBy: 'install', why: 'node-gyp builds better-sqlite3 when no prebuilt binary fits' },
  { tool: 'make', package: 'make', neededBy: 'install', why: 'node-gyp builds better-sqlite3 when no prebuilt binary fits' },
  { tool: 'g++', package: 'g++', neededBy: 'install', why: 'node-gyp builds better-sqlite3 when no prebuilt binary fits' },
  { tool: '/usr/sbin/sshd', package: 'openssh-server', neededBy: 'test', why: 'the SSH tests start a real sshd on 127.0.0.1 (the package does not need its service running)' },
  { tool: 'ssh-keygen', package: 'openssh-client', neededBy: 'test', why: 'host and client keys for the test sshd and the simulated node' },
  { tool: 'ssh-agent', package: 'openssh-client', neededBy: 'test', why: 'the SSH client test with keys held by an agent' },
  { tool: 'ssh-add', package: 'openssh-client', neededBy: 'test', why: 'the SSH client test with keys held by an agent' },
  { tool: 'systemd-analyze', package: 'systemd', neededBy: 'test', why: '`systemd-analyze verify` of the edge-gateway unit' },
  { tool: 'xz', package: 'xz-utils', neededBy: 'test', why: 'the HAOS image import step checks the image with `xz -t`' },
  { tool: 'tar', package: 'tar', neededBy: 'test', why: '`jarvis bootstrap` packs the release with tar, install.sh unpacks it' },
  { tool: 'gzip', package: 'gzip', neededBy: 'test', why: 'the release tarball of `jarvis bootstrap` is compressed' },
  { tool: 'git', package: 'git', neededBy: 'test', why: '`jarvis bootstrap` lists the release\'s files with git ls-files' },
];

/**
 * Whether `tool` is an executable file: an absolute path as given, a name on the PATH.
 * @param {string} tool
 * @param {string | undefined} path  the PATH to search
 * @returns {boolean}
 */
export function isOnPath(tool, path) {
  const candidates = isAbsolute(tool) ? [tool] : (path ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, tool));
  return candidates.some((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * The prerequisites `lookup` cannot find.
 * @param {readonly Prerequisite[]} list
 * @param {(tool: string) => boolean} lookup
 * @returns {Prerequisite[]}
 */
export function missingPrerequisites(list, lookup) {
  return list.filter((item) => !lookup(item.tool));
}

/**
 * `apt-get install` for the packages of `list`, each once, in list order.
 * @param {readonly Prerequisite[]} list
 * @returns {string}
 */
export function aptInstallLine(list) {
  return `sudo apt-get install -y --no-install-recommends ${[...new Set(list.map((item) => item.package))].join(' ')}`;
}

/**
 * The one message for a run that lacks tools: every missing tool, and the line that installs them all.
 * @param {readonly Prerequisite[]} missing
 * @returns {string}
 */
export function missingMessage(missing) {
  const tools = missing.map((item) => `  ${item.tool} (package ${item.package}): ${item.why}`).join('\n');
  return `The tests need ${missing.length} tool(s) this machine lacks:\n${tools}\nInstall them (Debian/Ubuntu), then run npm test again:\n  ${aptInstallLine(missing)}\n`;
}

/** @param {string[]} args @param {NodeJS.ProcessEnv} env @returns {{ code: number, out: string, err: string }} */
export function main(args, env) {
  const lookup = (/** @type {string} */ tool) => isOnPath(tool, env.PATH);
  if (args[0] === '--apt-line') return { code: 0, out: `${aptInstallLine(PREREQUISITES)}\n`, err: '' };
  if (args[0] === '--missing-packages') {
    const packages = [...new Set(missingPrerequisites(PREREQUISITES, lookup).map((item) => item.package))];
    return { code: 0, out: packages.map((name) => `${name}\n`).join(''), err: '' };
  }
  if (args.length > 0) return { code: 2, out: '', err: `usage: node scripts/prerequisites.js [--missing-packages | --apt-line]\n` };
  const missing = missingPrerequisites(PREREQUISITES.filter((item) => item.neededBy === 'test'), lookup);
  return missing.length === 0 ? { code: 0, out: '', err: '' } : { code: 1, out: '', err: missingMessage(missing) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = main(process.argv.slice(2), process.env);
  process.stdout.write(result.out);
  process.stderr.write(result.err);
  process.exitCode = result.code;
}
