// The node's apt sources (every one-line .list and deb822 .sources file apt reads) and the hosts apt has credentials
// for (the `machine` lines of apt_auth.conf, never the logins or passwords), with one probe over the node's shell:
// together they say whether `apt-get update` can work.
import { summarizeAptSources, type AptFile } from '../../lib/apt-sources.ts';
import { JarvisError } from '../../lib/errors.ts';
import type { LiveAptSources } from '../../planner/state.ts';
import type { RemoteShell } from '../shell.ts';
import { viaBash } from '../ssh/command.ts';

const MARK = '@@jarvis-apt-file ';
/** Not a file: the section of the probe that lists the apt_auth.conf machines. */
const AUTH = '@@auth-machines';

const APT_PROBE = `set +e
R="\${JARVIS_ROOT:-}"
for f in "$R/etc/apt/sources.list" "$R"/etc/apt/sources.list.d/*.list "$R"/etc/apt/sources.list.d/*.sources; do
  [[ -f $f ]] || continue
  printf '%s%s\\n' '${MARK}' "\${f#"$R"}"
  cat "$f"
  echo
done
printf '%s%s\\n' '${MARK}' /etc/os-release
. "$R/etc/os-release" 2>/dev/null; echo "\${VERSION_CODENAME:-}"
printf '%s%s\\n' '${MARK}' ${AUTH}
awk '$1 == "machine" { print $2 }' "$R/etc/apt/auth.conf" "$R"/etc/apt/auth.conf.d/*.conf 2>/dev/null
echo
`;

/** The files the probe printed, by path (the os-release codename under /etc/os-release). */
export function splitAptFiles(stdout: string): AptFile[] {
  const files: AptFile[] = [];
  for (const chunk of stdout.split(MARK).slice(1)) {
    const newline = chunk.indexOf('\n');
    // The probe ends each file with one newline of its own (`echo`), which is not part of the file.
    const text = newline < 0 ? '' : chunk.slice(newline + 1);
    files.push({ path: chunk.slice(0, newline < 0 ? undefined : newline), text: text.endsWith('\n') ? text.slice(0, -1) : text });
  }
  return files;
}

/** Reads the apt source files of the node and the hosts apt has credentials for (the step and the facts). */
export async function readAptFiles(shell: RemoteShell): Promise<{ files: AptFile[]; codename: string; machines: string[] }> {
  const result = await shell.exec(viaBash(APT_PROBE), { sudo: true, timeoutSec: 60 });
  if (result.code !== 0) throw new JarvisError('facts-unreadable', `${shell.host}: reading the apt sources exited ${result.code}`);
  const all = splitAptFiles(result.stdout);
  const codename = all.find((f) => f.path === '/etc/os-release')?.text.trim() ?? '';
  const machines = (all.find((f) => f.path === AUTH)?.text ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
  return { files: all.filter((f) => f.path !== '/etc/os-release' && f.path !== AUTH), codename, machines };
}

export async function readAptSources(shell: RemoteShell): Promise<LiveAptSources> {
  const { files, codename, machines } = await readAptFiles(shell);
  const summary = summarizeAptSources(files, machines);
  const suite = summary.suite ?? codename;
  if (!suite) throw new JarvisError('facts-unreadable', `${shell.host}: neither the apt sources nor /etc/os-release name the Debian release`);
  return { unauthorizedFiles: summary.unauthorizedFiles, noSubscription: summary.noSubscription, suite };
}
