// Which interfaces a staged network change touches. PVE stages edits in /etc/network/interfaces.new and sends the
// diff against /etc/network/interfaces with the network list (`changes`: `diff -b -N -u`, pve-common
// src/PVE/INotify.pm ccache_compute_diff). The list itself shows the staged file and marks nothing, so this diff is
// the only sign that an interface is staged rather than applied. Pure.

export type StagedChange = 'new' | 'changed' | 'removed';

const IFACE = /^\s*iface\s+(\S+)/;
/** `auto`, `allow-auto`, `allow-hotplug`, `allow-ovs`, `allow-vmbr0` lines name interfaces and end a stanza. */
const AUTO = /^\s*(?:auto|allow-\S+)\s+(.+)$/;

/**
 * Interface name → how the staged file differs for it. A changed line is credited to the stanza it sits in; the
 * parser follows stanzas as pve-common src/PVE/Network/Interfaces.pm reads them (an `iface` line opens one, a blank
 * line or an `auto` line closes it). A line whose stanza is outside the hunk's context is credited to nobody.
 */
export function stagedInterfaces(changes: string | undefined): Map<string, StagedChange> {
  const added = new Set<string>();
  const removed = new Set<string>();
  const touched = new Set<string>();
  let inHunk = false;
  let stanza: string | undefined;
  for (const line of (changes ?? '').split('\n')) {
    if (line.startsWith('@@')) {
      inHunk = true;
      stanza = undefined;
      continue;
    }
    if (!inHunk || line.startsWith('\\')) continue;
    const mark = line[0] === '+' || line[0] === '-' ? line[0] : undefined;
    const content = line.slice(1);
    const iface = IFACE.exec(content);
    const auto = AUTO.exec(content);
    if (iface) {
      stanza = iface[1]!;
      if (mark === '+') added.add(stanza);
      if (mark === '-') removed.add(stanza);
      if (mark) touched.add(stanza);
    } else if (auto) {
      stanza = undefined;
      if (mark) for (const name of auto[1]!.split(/\s+/).filter(Boolean)) touched.add(name);
    } else if (content.trim() === '') {
      stanza = undefined;
    } else if (mark && stanza) {
      touched.add(stanza);
    }
  }
  const out = new Map<string, StagedChange>();
  for (const name of touched) out.set(name, added.has(name) && !removed.has(name) ? 'new' : removed.has(name) && !added.has(name) ? 'removed' : 'changed');
  return out;
}
