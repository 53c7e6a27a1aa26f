// The facts readers against answers a real host could give (besides the stand-ins): odd output becomes an error that
// names the host and what was odd, which the scan records as `unknown`; one round trip per reader.
import { describe, expect, it } from 'vitest';
import { readGuestFacts } from '../../infra/facts/guest.ts';
import { readHostFacts } from '../../infra/facts/host.ts';
import { parseSanoidConf, renderSanoidSection } from '../../infra/facts/sanoid-conf.ts';
import type { CommandResult, RemoteShell } from '../../infra/shell.ts';

function cannedShell(stdout: string, code = 0): RemoteShell & { calls: number } {
  return {
    host: 'app-host',
    transport: 'agent',
    calls: 0,
    async exec(): Promise<CommandResult> {
      this.calls++;
      return { code, stdout, stderr: code ? 'boom' : '' };
    },
    async close() {},
  };
}

const TAILSCALE_OK = [
  '## tailscale-package',
  'installed',
  '## tailscale-status',
  '{"BackendState":"Running","Self":{"HostName":"edge-gateway","DNSName":"edge-gateway.tail0000.ts.net."}}',
  '## tailscale-prefs',
  '{"Hostname":"edge-gateway","AdvertiseRoutes":["10.10.20.0/24"],"RouteAll":false}',
  '## tailscale-funnel',
  '{"AllowFunnel":{"edge-gateway.tail0000.ts.net:443":true}}',
];

describe('readGuestFacts', () => {
  it('parses one probe answer into the facts, Funnel included', async () => {
    const shell = cannedShell(
      [
        '## os',
        'debian',
        ...TAILSCALE_OK,
        '## docker',
        'installed',
        '## compose',
        'absent',
        '## naas',
        'present',
        'plex',
        'jarvis',
        '## mounts',
        '/mnt/my\\x20media plex-media virtiofs',
        '## netcat',
        'installed',
        '## jarvis-routes',
        '# Written by Jarvis (phase 2)',
        'network:',
        '  version: 2',
        '  ethernets:',
        '    eth0:',
        '      routes:',
        '        - to: 10.10.20.0/24',
        '          via: 192.168.1.2',
        '## homeassistant',
        '',
      ].join('\n'),
    );
    expect(await readGuestFacts(shell)).toEqual({
      tailscale: { installed: true, joined: true, hostname: 'edge-gateway', advertisedRoutes: ['10.10.20.0/24'], funnel: true },
      docker: { installed: true, compose: false },
      naasLayout: { present: true, stacks: ['jarvis', 'plex'] },
      mounts: [{ target: '/mnt/my media', source: 'plex-media', fstype: 'virtiofs' }],
      netcat: true,
      jarvisRoutes: [{ to: '10.10.20.0/24', via: '192.168.1.2' }],
    });
    expect(shell.calls).toBe(1);
  });

  it('names the host and the command when tailscale answers something that is not JSON', async () => {
    const shell = cannedShell(['## os', 'debian', '## tailscale-package', 'installed', '## tailscale-status', 'Logged out.', '## tailscale-prefs', '{}'].join('\n'));
    await expect(readGuestFacts(shell)).rejects.toThrow('app-host: tailscale status --json did not print JSON');
  });

  it('reports a failed probe with its exit code', async () => {
    await expect(readGuestFacts(cannedShell('', 2))).rejects.toThrow('app-host: the facts probe exited 2: boom');
  });
});

describe('readHostFacts', () => {
  it('refuses a zfs list line with the wrong number of columns', async () => {
    const shell = cannedShell(['## zfs', 'present', '## datasets', 'tank\t/tank\tlz4', '## snapshots', '## sanoid', 'absent'].join('\n'));
    await expect(readHostFacts(shell)).rejects.toThrow(/app-host: unexpected zfs list line \(3 columns\)/);
  });

  it('passes on what zfs itself said when it failed', async () => {
    const shell = cannedShell(['## zfs', 'present', '## datasets', 'The ZFS modules are not loaded.', '!error 1', '## snapshots', '## sanoid', 'absent'].join('\n'));
    await expect(readHostFacts(shell)).rejects.toThrow('app-host: zfs list failed: The ZFS modules are not loaded.');
  });

  it('has no datasets on a host without zfs, and no policies while the sanoid timer is off', async () => {
    const shell = cannedShell(['## zfs', 'absent', '## sanoid', 'inactive', '## sanoid-conf', '[tank/media]', '\tdaily = 7', '\tautosnap = yes'].join('\n'));
    expect(await readHostFacts(shell)).toEqual({ datasets: [], snapshotPolicies: [] });
  });
});

describe('sanoid.conf sections', () => {
  it('parses back what it renders, and ignores templates and sections without autosnap', () => {
    const policy = { dataset: 'tank/appdata', frequency: 'hourly' as const, retention: { 'keep-hourly': 36, 'keep-daily': 14 } };
    const text = ['[template_production]', '\tdaily = 30', '\tautosnap = yes', '[rpool/ROOT]', '\tdaily = 3', renderSanoidSection(policy)].join('\n');
    expect(parseSanoidConf(text)).toEqual([policy]);
  });
});
