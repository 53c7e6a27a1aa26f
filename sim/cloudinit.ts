// What PVE writes onto a VM's cloud-init drive at every start (qemu-server PVE/QemuServer/Cloudinit.pm, NoCloud
// format): user-data generated from ciuser/sshkeys/…, network-config from ipconfigN and the NICs' MACs, the custom
// snippets named by `cicustom`, and meta-data whose instance-id is the SHA-1 of user-data + network-config (so a
// changed vendor snippet alone does not make cloud-init run again).
import { createHash } from 'node:crypto';
import { parsePropertyString } from '../lib/pve-formats.ts';
import type { CloudInitSeed } from './guest-runtime.ts';
import { fail } from './http.ts';
import type { SimLab } from './lab.ts';
import { DISK_KEY, type VmConfig } from './vm-config.ts';
import { parseVolume } from './volumes.ts';

/** The node's resolv.conf, which PVE falls back to for nameserver and searchdomain (Cloudinit.pm get_dns_conf). */
const NODE_RESOLV = { search: ['lan'], nameservers: ['192.168.1.1'] };

/** Is there a cloud-init drive (`<storage>:vm-<vmid>-cloudinit`)? */
export function hasCloudInitDrive(config: VmConfig, vmid: number): boolean {
  return Object.entries(config).some(([key, value]) => DISK_KEY.test(key) && new RegExp(`vm-${vmid}-cloudinit`).test(parsePropertyString(value, 'file').file ?? ''));
}

/**
 * pve-common PVE/Tools.pm validate_ssh_public_keys (create and update of `sshkeys`): every non-empty line must be a
 * key `ssh-keygen -l` reads: optional options, the type, base64 data whose first field names that type, a comment.
 */
export function checkSshKeys(encoded: string | undefined): void {
  if (encoded === undefined) return;
  let text: string;
  try {
    text = decodeURIComponent(encoded);
  } catch {
    return fail('SSH public key validation error');
  }
  for (const line of text.split('\n').filter((l) => /\S/.test(l))) {
    const fields = line.trim().split(/\s+/);
    const at = fields.findIndex((field) => /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)$/.test(field));
    const blob = at >= 0 ? Buffer.from(fields[at + 1] ?? '', 'base64') : Buffer.alloc(0);
    const named = blob.length > 4 ? blob.subarray(4, 4 + blob.readUInt32BE(0)).toString('latin1') : '';
    if (at < 0 || named !== fields[at]) fail('SSH public key validation error');
  }
}

/** Cloudinit.pm get_hostname_fqdn. */
function hostnames(config: VmConfig, vmid: number): { hostname: string; fqdn: string } {
  const name = config.name ?? `VM${vmid}`;
  if (name.includes('.')) return { hostname: name.replace(/\..*$/, ''), fqdn: name };
  return { hostname: name, fqdn: config.searchdomain ? `${name}.${config.searchdomain}` : name };
}

/** Cloudinit.pm cloudinit_userdata. */
export function userData(config: VmConfig, vmid: number): string {
  const { hostname, fqdn } = hostnames(config, vmid);
  let content = `#cloud-config\nhostname: ${hostname}\nmanage_etc_hosts: true\nfqdn: ${fqdn}\n`;
  const user = config.ciuser;
  if (user !== undefined) content += `user: ${user}\n`;
  if (user === 'root') content += 'disable_root: False\n';
  if (config.cipassword !== undefined) content += `password: ${config.cipassword}\n`;
  if (config.sshkeys !== undefined) {
    const keys = decodeURIComponent(config.sshkeys).split('\n').map((k) => k.trim()).filter((k) => /\S/.test(k));
    content += `ssh_authorized_keys:\n${keys.map((k) => `  - ${k}\n`).join('')}`;
  }
  content += 'chpasswd:\n  expire: False\n';
  if (user !== 'root') content += 'users:\n  - default\n';
  if (config.ciupgrade === undefined || config.ciupgrade === '1') content += 'package_upgrade: true\n';
  return content;
}

/** Cloudinit.pm nocloud_network (version 1). */
export function networkData(config: VmConfig): string {
  let content = 'version: 1\nconfig:\n';
  for (const iface of Object.keys(config).filter((k) => /^net\d+$/.test(k)).sort()) {
    const id = iface.slice(3);
    const ipconfig = config[`ipconfig${id}`];
    if (!ipconfig) continue;
    const mac = /([0-9A-F]{2}(?::[0-9A-F]{2}){5})/i.exec(config[iface] ?? '')?.[1]?.toLowerCase();
    if (!mac) fail(`network interface '${iface}' has no mac address`);
    content += `    - type: physical\n      name: eth${id}\n      mac_address: '${mac}'\n      subnets:\n`;
    const ip = parsePropertyString(ipconfig);
    if (ip.ip === 'dhcp') content += '        - type: dhcp4\n';
    else if (ip.ip) {
      const [address, bits] = ip.ip.split('/');
      content += `        - type: static\n          address: '${address}'\n          netmask: '${netmask(Number(bits))}'\n`;
      if (ip.gw) content += `          gateway: '${ip.gw}'\n`;
    }
    if (ip.ip6 === 'dhcp') content += '        - type: dhcp6\n';
    else if (ip.ip6 === 'auto') content += '        - type: ipv6_slaac\n';
    else if (ip.ip6) content += `        - type: static6\n          address: '${ip.ip6}'\n${ip.gw6 ? `          gateway: '${ip.gw6}'\n` : ''}`;
  }
  const search = config.searchdomain ? config.searchdomain.split(/\s+/) : NODE_RESOLV.search;
  const servers = config.nameserver ? config.nameserver.split(/\s+/) : NODE_RESOLV.nameservers;
  content += '    - type: nameserver\n';
  if (servers.length) content += `      address:\n${servers.map((s) => `      - '${s}'\n`).join('')}`;
  if (search.length) content += `      search:\n${search.map((s) => `      - '${s}'\n`).join('')}`;
  return content;
}

function netmask(bits: number): string {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return [24, 16, 8, 0].map((shift) => (mask >>> shift) & 255).join('.');
}

/** Cloudinit.pm read_cloudinit_snippets_file: a snippets volume, read from the node's disk. */
function readSnippet(lab: SimLab, volid: string): string {
  const volume = parseVolume(lab, volid);
  if (volume.vtype !== 'snippets') fail(`${volid} is not in the snippets directory`);
  // Storage.pm abs_filesystem_path.
  const data = volume.path ? lab.nodeFiles.read(volume.path) : undefined;
  if (!data) return fail(`can't find file '${volid}'`);
  return data.toString('utf8');
}

/**
 * Cloudinit.pm generate_nocloud, run at every VM start when a cloud-init drive is attached; a missing snippet fails
 * the start. Undefined when the VM has no cloud-init drive.
 */
export function cloudInitSeed(lab: SimLab, vmid: number, config: VmConfig): CloudInitSeed | undefined {
  if (!hasCloudInitDrive(config, vmid)) return undefined;
  const custom = config.cicustom ? parsePropertyString(config.cicustom) : {};
  const user = custom.user ? readSnippet(lab, custom.user) : userData(config, vmid);
  const network = custom.network ? readSnippet(lab, custom.network) : networkData(config);
  const vendor = custom.vendor ? readSnippet(lab, custom.vendor) : '';
  const meta = custom.meta ? readSnippet(lab, custom.meta) : `instance-id: ${createHash('sha1').update(user + network).digest('hex')}\n`;
  const instanceId = /instance-id:\s*(\S+)/.exec(meta)?.[1] ?? '';
  if (user.length + network.length + meta.length + vendor.length > 3 * 1024 * 1024) fail('Cloud-Init sum of snippets too big (> 3 MiB)');
  return { instanceId, userData: user, networkData: network, vendorData: vendor };
}
