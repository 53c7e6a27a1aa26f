// Input rules on what each VM boots (exit 2, located like any bad input): an OS must be named, an image URL needs a
// checksum, cloud-init settings must be ones PVE and cloud-init accept (SSH public keys, addresses), and provisioning
// must fit the OS. A VM that boots nothing never answers its guest agent, so this is refused before any plan.
import { parseCidr, parseIp } from '../../lib/pve-formats.ts';
import { sshPublicKeyProblem } from '../../lib/ssh-public-key.ts';
import { DEBIAN_13_IMAGE, IMPORT_IMAGE_EXTENSIONS, OPNSENSE_INSTALLER, urlFileName } from '../boot-media.ts';
import { formatPath, type SpecDiagnostic, type SpecPath } from './diagnostic.ts';
import type { Spec, VmSpec } from './schema.ts';

/** What the spec loader knows of the file: its name and where a field path is (planner/spec/load.ts SpecSource). */
interface Located {
  path: string;
  locate(path: SpecPath, opts?: { key?: boolean }): { line: number; col: number };
}

type Report = (ruleId: string, path: SpecPath, message: string, fix: string, key?: boolean) => void;

const HAOS_URL_EXAMPLE = 'https://github.com/home-assistant/operating-system/releases/download/16.3/haos_ova-16.3.qcow2.xz';

function checkImage(vm: VmSpec, at: SpecPath, report: Report): void {
  const image = vm.image;
  if (vm.os === 'none') {
    if (image) report('input.image', [...at, 'image'], 'os: none boots what you install yourself; an image here would never be used', 'remove image, or set os: debian-13 / haos', true);
    return;
  }
  if (image?.sha512 && image.sha256) report('input.image', [...at, 'image'], 'two checksums for one image', 'keep sha512 or sha256, not both', true);
  if (vm.os === 'debian-13') {
    const url = image?.url;
    if (url && url !== DEBIAN_13_IMAGE.url && !image.sha512 && !image.sha256 && !image.sums) {
      report('input.image-checksum', [...at, 'image', 'url'], 'an image URL without a checksum: the download could not be verified', 'add image.sha512 (or sha256), or image.sums: the URL of a published SHA512SUMS file that lists it');
    }
    const extension = url ? /\.([A-Za-z0-9]+)$/.exec(urlFileName(url))?.[1]?.toLowerCase() : 'qcow2';
    if (!extension || !(IMPORT_IMAGE_EXTENSIONS as readonly string[]).includes(extension)) {
      report('input.image', [...at, 'image', 'url'], `the node can keep only ${IMPORT_IMAGE_EXTENSIONS.map((e) => `.${e}`).join(', ')} disk images as import volumes`, 'point image.url at an uncompressed qcow2 (or raw, vmdk) cloud image');
    }
    return;
  }
  if (vm.os === 'opnsense') {
    const url = image?.url;
    if (url && url !== OPNSENSE_INSTALLER.url && !image.sha512 && !image.sha256 && !image.sums) {
      report('input.image-checksum', [...at, 'image', 'url'], 'an installer URL without a checksum: the download could not be verified', 'add image.sha256 (or sha512), or image.sums: the URL of the release\'s published checksums file');
    }
    if (url && !/\.iso(?:\.(?:bz2|gz|zst|lzo))?$/i.test(urlFileName(url))) {
      report('input.image', [...at, 'image', 'url'], 'the OPNsense installer is attached as a CD-ROM: the node keeps it as an .iso (download-url decompresses .bz2, .gz, .zst or .lzo)', `point image.url at the DVD image, e.g. ${OPNSENSE_INSTALLER.url}`);
    }
    return;
  }
  if (vm.os === 'haos') {
    if (!image?.url) {
      report('input.image', [...at, 'os'], 'os: haos needs the release image to import', `add image: { url: ${HAOS_URL_EXAMPLE} }`);
    } else if (!/\.qcow2\.xz$/.test(urlFileName(image.url))) {
      report('input.image', [...at, 'image', 'url'], 'Home Assistant OS for Proxmox is the haos_ova-<version>.qcow2.xz release asset', `use a URL like ${HAOS_URL_EXAMPLE}`);
    }
    if (image?.sums) report('input.image', [...at, 'image', 'sums'], 'Home Assistant publishes no sums file for its images', 'pin image.sha256 of the .qcow2.xz instead (xz checks the archive either way)');
  }
}

function checkCloudInit(vm: VmSpec, at: SpecPath, report: Report): void {
  const ci = vm.cloudInit;
  if (!ci) return;
  if (vm.os !== 'debian-13') {
    report('input.cloud-init', [...at, 'cloudInit'], `cloud-init settings apply to os: debian-13 only (this VM is os: ${vm.os ?? 'unset'})`, 'remove cloudInit', true);
    return;
  }
  ci.sshKeys.forEach((key, i) => {
    const problem = sshPublicKeyProblem(key);
    if (problem) report('input.ssh-key', [...at, 'cloudInit', 'sshKeys', i], `this entry ${problem}`, 'paste one OpenSSH public key line, e.g. the content of ~/.ssh/id_ed25519.pub');
  });
  ci.ipconfig.forEach((entry, i) => {
    const path = [...at, 'cloudInit', 'ipconfig', i];
    if (i >= vm.net.length) report('input.cloud-init', path, `ipconfig[${i}] has no NIC net[${i}]`, `give one ipconfig entry per NIC (this VM has ${vm.net.length})`, true);
    if (entry.ip === 'dhcp') {
      if (entry.gw) report('input.ip', [...path, 'gw'], 'a gateway only goes with a static address', 'remove gw, or set ip to an address with its prefix');
      return;
    }
    const cidr = parseCidr(entry.ip);
    if (!cidr || cidr.family !== 4 || !entry.ip.includes('/')) {
      report('input.ip', [...path, 'ip'], `"${entry.ip}" is neither dhcp nor an IPv4 address with its prefix`, 'write dhcp, or e.g. 192.168.1.20/24');
    }
    if (entry.gw !== undefined && parseIp(entry.gw)?.family !== 4) report('input.ip', [...path, 'gw'], `"${entry.gw}" is not an IPv4 address`, 'write the gateway as e.g. 192.168.1.1');
  });
}

function checkProvisionFitsOs(vm: VmSpec, at: SpecPath, report: Report): void {
  if (vm.os !== 'haos') return;
  if (vm.provision?.docker) report('input.provision', [...at, 'provision', 'docker'], 'Home Assistant OS has no package manager: Docker cannot be installed there', 'run the stacks on the app-host (os: debian-13) instead', true);
}

/** Located input errors about the VMs' boot media, cloud-init and OS-bound provisioning. */
export function bootInputProblems(spec: Spec, source: Located): SpecDiagnostic[] {
  const out: SpecDiagnostic[] = [];
  const report: Report = (ruleId, path, message, fix, key = false) =>
    out.push({ severity: 'error', ruleId, file: source.path, ...source.locate(path, { key }), path: formatPath(path), message, fix });
  spec.vms.forEach((vm, vi) => {
    const at: SpecPath = ['vms', vi];
    if (vm.os === undefined) {
      report(
        'input.os-missing',
        [...at, 'vmid'],
        `VM ${vm.vmid} (${vm.name}) names no system to boot: an empty disk never answers the guest agent`,
        'set os: debian-13 (official cloud image), os: haos with image.url, os: opnsense (the router: its installer is attached), or os: none to install it yourself (Jarvis then waits for its guest agent)',
        true,
      );
      return;
    }
    checkImage(vm, at, report);
    checkCloudInit(vm, at, report);
    checkProvisionFitsOs(vm, at, report);
  });
  return out;
}
