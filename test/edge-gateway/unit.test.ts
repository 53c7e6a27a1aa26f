// The systemd unit must verify and keep its hardening; the install script must be valid bash.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const unitPath = 'deploy/edge-gateway/jarvis.service';

describe('edge-gateway service unit', () => {
  it('passes systemd-analyze verify', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jarvis-unit-'));
    copyFileSync(unitPath, join(dir, 'jarvis.service'));
    const result = spawnSync('systemd-analyze', ['verify', join(dir, 'jarvis.service')], { encoding: 'utf8' });
    expect(result.error).toBeUndefined();
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('fails verification when the unit is broken (the check can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jarvis-unit-'));
    const broken = readFileSync(unitPath, 'utf8').replace('ExecStart=/usr/bin/node', 'ExecStart=/usr/bin/no-such-node');
    writeFileSync(join(dir, 'jarvis.service'), broken);
    const result = spawnSync('systemd-analyze', ['verify', join(dir, 'jarvis.service')], { encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('no-such-node');
  });

  it('keeps the hardening the brief requires', () => {
    const unit = readFileSync(unitPath, 'utf8');
    for (const line of ['User=jarvis', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'ReadWritePaths=/var/lib/jarvis', 'Restart=on-failure']) {
      expect(unit).toContain(line);
    }
  });

  it('install script parses as bash', () => {
    execFileSync('bash', ['-n', 'deploy/edge-gateway/install.sh']);
  });
});
