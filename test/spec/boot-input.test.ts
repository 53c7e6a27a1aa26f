// What a VM boots is input: each bad value is refused with its rule, field path and line, and the spec does not load.
import { describe, expect, it } from 'vitest';
import { sshPublicKeyProblem } from '../../lib/ssh-public-key.ts';
import { bootMedia, DEBIAN_13_IMAGE, importFileName, sshKeysValue } from '../../planner/boot-media.ts';
import { parseSpecBytes } from '../../planner/spec/load.ts';
import { edit, NAS, type Edit } from './helpers.ts';
import { SIM_SITE } from '../support/site.ts';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBJqhsCPeEHobkjAlYacIFLOya51xbC5MxYaoFsNRF2f placeholder-replace-me';
const RSA = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC8 user@host';

function errorsOf(edits: Edit[]) {
  const result = parseSpecBytes(Buffer.from(edit(NAS, edits)), 'spec.yaml', SIM_SITE);
  if (result.ok) return [];
  return result.errors.map((e) => ({ ruleId: e.ruleId, path: e.path, line: e.line, message: e.message }));
}

describe('boot media input', () => {
  it('loads the canonical bootstrap: 100 and 300 boot Debian 13, 400 Home Assistant OS', () => {
    const result = parseSpecBytes(Buffer.from(NAS), 'nas.yaml', SIM_SITE);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const [edge, app, ha] = result.loaded.spec.vms;
    expect(bootMedia(edge!)).toMatchObject({ kind: 'cloud-image', url: DEBIAN_13_IMAGE.url, sums: DEBIAN_13_IMAGE.sums, fileName: 'debian-13-genericcloud-amd64.qcow2' });
    expect(bootMedia(app!).kind).toBe('cloud-image');
    expect(bootMedia(ha!)).toMatchObject({ kind: 'haos', url: expect.stringMatching(/haos_ova-16\.3\.qcow2\.xz$/) });
    expect(edge!.agentWaitSeconds).toBe(600);
  });

  it.each<[string, Edit[], string, string]>([
    ['no os at all', [[['vms', 0, 'os'], undefined], [['vms', 0, 'cloudInit'], undefined]], 'input.os-missing', 'vms[0].vmid'],
    ['an unknown os', [[['vms', 0, 'os'], 'ubuntu-24']], 'input.value', 'vms[0].os'],
    ['an overridden URL without a checksum', [[['vms', 1, 'image'], { url: 'https://example.org/img/debian.qcow2' }]], 'input.image-checksum', 'vms[1].image.url'],
    ['an image the node cannot keep as import content', [[['vms', 1, 'image'], { url: 'https://example.org/img/debian.tar.xz', sha512: 'a'.repeat(128) }]], 'input.image', 'vms[1].image.url'],
    ['two checksums', [[['vms', 1, 'image'], { url: 'https://example.org/img/d.qcow2', sha512: 'a'.repeat(128), sha256: 'b'.repeat(64) }]], 'input.image', 'vms[1].image'],
    ['a checksum that is not hex', [[['vms', 1, 'image'], { url: 'https://example.org/img/d.qcow2', sha512: 'xyz' }]], 'input.format', 'vms[1].image.sha512'],
    ['HAOS without its image', [[['vms', 2, 'image'], undefined]], 'input.image', 'vms[2].os'],
    ['HAOS from a file that is not the qcow2.xz asset', [[['vms', 2, 'image', 'url'], 'https://github.com/home-assistant/operating-system/releases/download/16.3/haos_ova-16.3.vmdk.zip']], 'input.image', 'vms[2].image.url'],
    ['cloud-init on HAOS', [[['vms', 2, 'cloudInit'], { user: 'debian' }]], 'input.cloud-init', 'vms[2].cloudInit'],
    ['Docker on HAOS', [[['vms', 2, 'provision', 'docker'], { compose: true }]], 'input.provision', 'vms[2].provision.docker'],
    ['an image on os: none', [[['vms', 0, 'os'], 'none'], [['vms', 0, 'cloudInit'], undefined], [['vms', 0, 'image'], { url: 'https://example.org/x.qcow2', sha512: 'a'.repeat(128) }]], 'input.image', 'vms[0].image'],
    ['a key that is not an SSH public key', [[['vms', 0, 'cloudInit', 'sshKeys'], ['ssh-ed25519 AAAA-not-base64']]], 'input.ssh-key', 'vms[0].cloudInit.sshKeys[0]'],
    ['a private key pasted as a key', [[['vms', 0, 'cloudInit', 'sshKeys'], ['-----BEGIN OPENSSH PRIVATE KEY-----']]], 'input.ssh-key', 'vms[0].cloudInit.sshKeys[0]'],
    ['a static address without its prefix', [[['vms', 0, 'cloudInit', 'ipconfig'], [{ ip: '192.168.1.20', gw: '192.168.1.1' }]]], 'input.ip', 'vms[0].cloudInit.ipconfig[0].ip'],
    ['a gateway with DHCP', [[['vms', 0, 'cloudInit', 'ipconfig'], [{ ip: 'dhcp', gw: '192.168.1.1' }]]], 'input.ip', 'vms[0].cloudInit.ipconfig[0].gw'],
    ['an ipconfig for a NIC the VM lacks', [[['vms', 0, 'cloudInit', 'ipconfig'], [{ ip: 'dhcp' }, { ip: 'dhcp' }]]], 'input.cloud-init', 'vms[0].cloudInit.ipconfig[1]'],
  ])('refuses %s', (_what, edits, ruleId, path) => {
    const errors = errorsOf(edits);
    expect(errors.map((e) => [e.ruleId, e.path])).toContainEqual([ruleId, path]);
    for (const error of errors) expect(error.line).toBeGreaterThan(1);
  });

  it('accepts a static address with its gateway, an overridden image with a sums file, and os: none', () => {
    expect(errorsOf([[['vms', 0, 'cloudInit', 'ipconfig'], [{ ip: '192.168.1.20/24', gw: '192.168.1.1' }]]])).toEqual([]);
    expect(errorsOf([[['vms', 1, 'image'], { url: 'https://cloud.debian.org/images/cloud/trixie/20250814-2204/debian-13-genericcloud-amd64-20250814-2204.qcow2', sums: 'https://cloud.debian.org/images/cloud/trixie/20250814-2204/SHA512SUMS' }]])).toEqual([]);
    expect(errorsOf([[['vms', 0, 'os'], 'none'], [['vms', 0, 'cloudInit'], undefined]])).toEqual([]);
  });
});

describe('SSH public keys', () => {
  it('accepts OpenSSH public key lines and says why others are not', () => {
    expect(sshPublicKeyProblem(KEY)).toBeUndefined();
    expect(sshPublicKeyProblem(KEY.split(' ').slice(0, 2).join(' '))).toBeUndefined();
    expect(sshPublicKeyProblem('ssh-ed25519')).toMatch(/not "<type> <base64 key>/);
    expect(sshPublicKeyProblem('ssh-dsa AAAA')).toMatch(/unknown key type "ssh-dsa"/);
    // An ed25519 body declared as rsa, and a truncated ed25519 body.
    expect(sshPublicKeyProblem(KEY.replace('ssh-ed25519', 'ssh-rsa'))).toMatch(/not a ssh-rsa key/);
    expect(sshPublicKeyProblem(RSA)).toMatch(/not a ssh-rsa key/);
    const ed25519 = (key: Buffer) => `ssh-ed25519 ${Buffer.concat([Buffer.from('\0\0\0\x0bssh-ed25519\0\0\0', 'latin1'), Buffer.from([key.length]), key]).toString('base64')}`;
    expect(sshPublicKeyProblem(ed25519(Buffer.alloc(16, 1)))).toMatch(/wrong length/);
    expect(sshPublicKeyProblem(ed25519(Buffer.alloc(32, 1)))).toBeUndefined();
    expect(sshPublicKeyProblem(`${KEY}\n${KEY}`)).toMatch(/more than one line/);
  });

  it('sends the keys to PVE URL-encoded, one per line', () => {
    expect(decodeURIComponent(sshKeysValue([KEY, `  ${KEY}`]))).toBe(`${KEY}\n${KEY}\n`);
    expect(sshKeysValue([KEY])).not.toMatch(/[ \n+]/);
  });
});

describe('import file names', () => {
  it('carry the first 12 hex digits of the checksum and only the characters PVE keeps', () => {
    expect(importFileName('debian-13-genericcloud-amd64.qcow2', { algorithm: 'sha512', value: 'abcdef0123456789'.repeat(8) })).toBe('debian-13-genericcloud-amd64-abcdef012345.qcow2');
    expect(importFileName('my image (1).RAW', { algorithm: 'sha256', value: '0'.repeat(64) })).toBe('my_image__1_-000000000000.raw');
  });
});
