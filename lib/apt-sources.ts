// The node's apt sources, read and changed as text. A fresh Proxmox VE 9 install configures the enterprise
// repositories as deb822 `.sources` files (pve-enterprise.sources, ceph.sources); apt may fetch them only with the
// credentials pve-manager writes to /etc/apt/auth.conf.d when a subscription key is set (PVE/API2/Subscription.pm).
// Without them they answer 401 and `apt-get update` exits 100. Switching to the no-subscription repository disables
// those entries (`Enabled: no` in deb822, a comment in one-line `.list` files) and adds pve-no-subscription, as PVE's
// own repository panel does. Pure functions: the readers and the step do the I/O.

export const ENTERPRISE_HOST = 'enterprise.proxmox.com';
export const NO_SUBSCRIPTION_FILE = '/etc/apt/sources.list.d/pve-no-subscription.sources';
export const PROXMOX_KEYRING = '/usr/share/keyrings/proxmox-archive-keyring.gpg';

export interface AptFile {
  /** Absolute path on the node, e.g. /etc/apt/sources.list.d/pve-enterprise.sources. */
  path: string;
  text: string;
}

export interface AptEntry {
  file: string;
  uris: string[];
  suites: string[];
  components: string[];
  enabled: boolean;
}

const isDeb822 = (path: string) => path.endsWith('.sources');

function stanzas(text: string): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (current.length) out.push(current);
      current = [];
    } else current.push(line);
  }
  if (current.length) out.push(current);
  return out;
}

function fields(lines: string[]): Map<string, string> {
  const out = new Map<string, string>();
  let key: string | undefined;
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    if (/^\s/.test(line) && key) {
      out.set(key, `${out.get(key)} ${line.trim()}`);
      continue;
    }
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (m) {
      key = m[1]!.toLowerCase();
      out.set(key, m[2]!.trim());
    }
  }
  return out;
}

const words = (value: string | undefined) => (value ?? '').split(/\s+/).filter(Boolean);
const deb822Enabled = (value: string | undefined) => value === undefined || !/^(no|false|0)$/i.test(value.trim());

/** Every repository entry of the files (deb and deb-src), enabled or not. */
export function aptEntries(files: AptFile[]): AptEntry[] {
  const out: AptEntry[] = [];
  for (const file of files) {
    if (isDeb822(file.path)) {
      for (const stanza of stanzas(file.text)) {
        const f = fields(stanza);
        if (!f.has('uris')) continue;
        out.push({ file: file.path, uris: words(f.get('uris')), suites: words(f.get('suites')), components: words(f.get('components')), enabled: deb822Enabled(f.get('enabled')) });
      }
      continue;
    }
    for (const raw of file.text.split('\n')) {
      const line = raw.trim();
      const m = /^(#\s*)?deb(?:-src)?\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
      if (!m) continue;
      out.push({ file: file.path, uris: [m[2]!], suites: [m[3]!], components: words(m[4]), enabled: m[1] === undefined });
    }
  }
  return out;
}

const isEnterprise = (uri: string) => {
  try {
    return new URL(uri).hostname === ENTERPRISE_HOST;
  } catch {
    return false;
  }
};

/** apt_auth.conf(5): a `machine HOST[/PATH]` entry covers the URIs it is a prefix of (scheme left out). */
const credentialed = (uri: string, machines: readonly string[]) => {
  const target = uri.replace(/^[a-z+]+:\/\//, '');
  return machines.some((machine) => target.startsWith(machine.replace(/^[a-z+]+:\/\//, '')));
};

/** An enabled enterprise repository apt has no credentials for: it answers 401. */
const unauthorized = (uri: string, machines: readonly string[]) => isEnterprise(uri) && !credentialed(uri, machines);

/** `machines`: the `machine` values of /etc/apt/auth.conf and auth.conf.d/*.conf (never their logins or passwords). */
export function summarizeAptSources(files: AptFile[], machines: readonly string[] = []): { unauthorizedFiles: string[]; noSubscription: boolean; suite: string | undefined } {
  const entries = aptEntries(files).filter((e) => e.enabled);
  const enterprise = entries.filter((e) => e.uris.some(isEnterprise));
  const pve = entries.find((e) => e.uris.some((u) => /\/debian\/pve\/?$/.test(u)));
  return {
    unauthorizedFiles: [...new Set(entries.filter((e) => e.uris.some((u) => unauthorized(u, machines))).map((e) => e.file))].sort(),
    noSubscription: entries.some((e) => e.components.includes('pve-no-subscription')),
    suite: (enterprise[0] ?? pve)?.suites[0],
  };
}

/** The deb822 entry of the no-subscription repository for `suite`. */
export function noSubscriptionSources(suite: string): string {
  return ['Types: deb', 'URIs: http://download.proxmox.com/debian/pve', `Suites: ${suite}`, 'Components: pve-no-subscription', `Signed-By: ${PROXMOX_KEYRING}`, ''].join('\n');
}

function disableDeb822(text: string, machines: readonly string[]): string {
  const blocks = text.split(/\n(?=[ \t]*\n)/);
  return blocks
    .map((block) => {
      const lines = block.split('\n');
      const f = fields(lines.filter((l) => l.trim() !== ''));
      if (!words(f.get('uris')).some((u) => unauthorized(u, machines)) || !deb822Enabled(f.get('enabled'))) return block;
      const kept = lines.filter((l) => !/^Enabled:/i.test(l));
      const at = kept.findIndex((l) => /^[A-Za-z0-9-]+:/.test(l));
      kept.splice(at < 0 ? kept.length : at, 0, 'Enabled: no');
      return kept.join('\n');
    })
    .join('\n');
}

function disableList(text: string, machines: readonly string[]): string {
  return text
    .split('\n')
    .map((line) => {
      const m = /^\s*deb(?:-src)?\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(line);
      return m && unauthorized(m[1]!, machines) ? `# disabled by Jarvis (no subscription): ${line}` : line;
    })
    .join('\n');
}

/**
 * The files to write so the node uses the no-subscription repository: the enterprise entries apt has no credentials
 * for disabled, and the no-subscription file added unless such an entry is already enabled. Empty when nothing needs
 * to change.
 */
export function switchToNoSubscription(files: AptFile[], suite: string, machines: readonly string[] = []): AptFile[] {
  const summary = summarizeAptSources(files, machines);
  if (summary.unauthorizedFiles.length === 0 && summary.noSubscription) return [];
  const changed: AptFile[] = [];
  for (const file of files) {
    if (!summary.unauthorizedFiles.includes(file.path)) continue;
    changed.push({ path: file.path, text: isDeb822(file.path) ? disableDeb822(file.text, machines) : disableList(file.text, machines) });
  }
  if (!summary.noSubscription) changed.push({ path: NO_SUBSCRIPTION_FILE, text: noSubscriptionSources(summary.suite ?? suite) });
  return changed;
}
