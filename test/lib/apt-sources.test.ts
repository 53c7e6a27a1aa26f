// The node's apt sources as a fresh Proxmox VE 9 install writes them (deb822 .sources, enterprise enabled), and the
// switch to the no-subscription repository: enterprise entries disabled in place, the no-subscription entry added once.
import { describe, expect, it } from 'vitest';
import { aptEntries, NO_SUBSCRIPTION_FILE, summarizeAptSources, switchToNoSubscription, type AptFile } from '../../lib/apt-sources.ts';

const KEYRING = 'Signed-By: /usr/share/keyrings/proxmox-archive-keyring.gpg';
const FRESH_PVE9: AptFile[] = [
  { path: '/etc/apt/sources.list.d/debian.sources', text: 'Types: deb\nURIs: http://deb.debian.org/debian/\nSuites: trixie trixie-updates\nComponents: main contrib non-free-firmware\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: http://security.debian.org/debian-security/\nSuites: trixie-security\nComponents: main contrib non-free-firmware\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' },
  { path: '/etc/apt/sources.list.d/pve-enterprise.sources', text: `Types: deb\nURIs: https://enterprise.proxmox.com/debian/pve\nSuites: trixie\nComponents: pve-enterprise\n${KEYRING}\n` },
  { path: '/etc/apt/sources.list.d/ceph.sources', text: `Types: deb\nURIs: https://enterprise.proxmox.com/debian/ceph-squid\nSuites: trixie\nComponents: enterprise\n${KEYRING}\n` },
];

const apply = (files: AptFile[], changes: AptFile[]): AptFile[] => {
  const byPath = new Map(files.map((f) => [f.path, f]));
  for (const change of changes) byPath.set(change.path, change);
  return [...byPath.values()];
};

describe('apt sources', () => {
  it('sees the enterprise repositories of a fresh PVE 9 node and no no-subscription one', () => {
    expect(summarizeAptSources(FRESH_PVE9)).toEqual({
      unauthorizedFiles: ['/etc/apt/sources.list.d/ceph.sources', '/etc/apt/sources.list.d/pve-enterprise.sources'],
      noSubscription: false,
      suite: 'trixie',
    });
    expect(aptEntries(FRESH_PVE9)).toHaveLength(4);
  });

  it('disables the enterprise entries in place and adds pve-no-subscription; a second run changes nothing', () => {
    const changes = switchToNoSubscription(FRESH_PVE9, 'trixie');
    expect(changes.map((c) => c.path)).toEqual(['/etc/apt/sources.list.d/pve-enterprise.sources', '/etc/apt/sources.list.d/ceph.sources', NO_SUBSCRIPTION_FILE]);
    expect(changes[0]!.text).toBe(`Enabled: no\nTypes: deb\nURIs: https://enterprise.proxmox.com/debian/pve\nSuites: trixie\nComponents: pve-enterprise\n${KEYRING}\n`);
    expect(changes[2]!.text).toContain('URIs: http://download.proxmox.com/debian/pve\nSuites: trixie\nComponents: pve-no-subscription');
    const after = apply(FRESH_PVE9, changes);
    expect(summarizeAptSources(after)).toMatchObject({ unauthorizedFiles: [], noSubscription: true });
    expect(switchToNoSubscription(after, 'trixie')).toEqual([]);
    // Debian's own entries are untouched.
    expect(after.find((f) => f.path.endsWith('debian.sources'))).toEqual(FRESH_PVE9[0]);
  });

  it('leaves an enterprise repository alone when apt has its subscription credentials', () => {
    const machines = ['enterprise.proxmox.com/debian/pve'];
    expect(summarizeAptSources(FRESH_PVE9, machines).unauthorizedFiles).toEqual(['/etc/apt/sources.list.d/ceph.sources']);
    expect(switchToNoSubscription(FRESH_PVE9, 'trixie', ['enterprise.proxmox.com/debian']).map((c) => c.path)).toEqual([NO_SUBSCRIPTION_FILE]);
  });

  it('handles one-line .list files and a stanza that is already disabled', () => {
    const files: AptFile[] = [
      { path: '/etc/apt/sources.list', text: 'deb http://deb.debian.org/debian trixie main\ndeb [signed-by=/k.gpg] https://enterprise.proxmox.com/debian/pve trixie pve-enterprise\n' },
      { path: '/etc/apt/sources.list.d/old.sources', text: `Types: deb\nURIs: https://enterprise.proxmox.com/debian/pve\nSuites: trixie\nComponents: pve-enterprise\nEnabled: no\n` },
      { path: '/etc/apt/sources.list.d/proxmox.sources', text: `Types: deb\nURIs: http://download.proxmox.com/debian/pve\nSuites: trixie\nComponents: pve-no-subscription\n` },
    ];
    const changes = switchToNoSubscription(files, 'trixie');
    expect(changes).toEqual([{ path: '/etc/apt/sources.list', text: 'deb http://deb.debian.org/debian trixie main\n# disabled by Jarvis (no subscription): deb [signed-by=/k.gpg] https://enterprise.proxmox.com/debian/pve trixie pve-enterprise\n' }]);
  });
});
