// The node's apt sources (every one-line .list and deb822 .sources file apt reads), with one probe over the node's
// shell, and its subscription status from the API: together they say whether `apt-get update` can work.
import { summarizeAptSources, type AptFile } from '../../lib/apt-sources.ts';
import { JarvisError } from '../../lib/errors.ts';
import type { LiveAptSources } from '../../planner/state.ts';
import type { ProxmoxApi } from '../proxmox/api.ts';
import type { RemoteShell } from '../shell.ts';
import { viaBash } from '../ssh/command.ts';

const MARK = '@@jarvis-apt-file ';

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

/** Reads the apt source files of the node (for the no-subscription step and the facts). */
export async function readAptFiles(shell: RemoteShell): Promise<{ files: AptFile[]; codename: string }> {
  const result = await shell.exec(viaBash(APT_PROBE), { sudo: true, timeoutSec: 60 });
  if (result.code !== 0) throw new JarvisError('facts-unreadable', `${shell.host}: reading the apt sources exited ${result.code}`);
  const all = splitAptFiles(result.stdout);
  const codename = all.find((f) => f.path === '/etc/os-release')?.text.trim() ?? '';
  return { files: all.filter((f) => f.path !== '/etc/os-release'), codename };
}

export async function readAptSources(shell: RemoteShell, pve: Pick<ProxmoxApi, 'subscription'>): Promise<LiveAptSources> {
  const [{ files, codename }, subscription] = await Promise.all([readAptFiles(shell), pve.subscription()]);
  const summary = summarizeAptSources(files);
  const suite = summary.suite ?? codename;
  if (!suite) throw new JarvisError('facts-unreadable', `${shell.host}: neither the apt sources nor /etc/os-release name the Debian release`);
  return { enterpriseFiles: summary.enterpriseFiles, noSubscription: summary.noSubscription, subscription: subscription.status, suite };
}
