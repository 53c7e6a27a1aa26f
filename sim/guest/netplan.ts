// cloud-init's network stage on a Debian cloud image: the NoCloud network-config PVE wrote (version 1,
// qemu-server Cloudinit.pm nocloud_network) rendered as netplan YAML to /etc/netplan/50-cloud-init.yaml, the way
// canonical/cloud-init cloudinit/net/netplan.py does it: a physical NIC matched by MAC and renamed (`set-name`),
// `dhcp4: true` for a dhcp subnet, addresses and a default route for a static one, and the global nameservers
// injected only into interfaces that have static addresses.
import { parse } from 'yaml';

const NETPLAN_FILE = 'etc/netplan/50-cloud-init.yaml';
export { NETPLAN_FILE };

type Entry = Record<string, unknown>;
const record = (v: unknown): Entry => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Entry) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function prefixOf(netmask: unknown): number | undefined {
  if (typeof netmask !== 'string') return undefined;
  if (/^\d+$/.test(netmask)) return Number(netmask);
  return netmask.split('.').reduce((bits, octet) => bits + (Number(octet) >>> 0).toString(2).replace(/0/g, '').length, 0);
}

export function renderNetplan(networkConfigV1: string): string {
  const config = record(parse(networkConfigV1));
  const entries = list(config.config).map(record);
  const ethernets: Record<string, Entry> = {};
  const dns = entries.find((e) => e.type === 'nameserver');
  for (const entry of entries.filter((e) => e.type === 'physical' && typeof e.name === 'string')) {
    const name = String(entry.name);
    const eth: Entry = {};
    if (typeof entry.mac_address === 'string') eth.match = { macaddress: entry.mac_address.toLowerCase() };
    eth['set-name'] = name;
    const addresses: string[] = [];
    const routes: Entry[] = [];
    for (const subnet of list(entry.subnets).map(record)) {
      if (subnet.type === 'dhcp' || subnet.type === 'dhcp4') eth.dhcp4 = true;
      else if (subnet.type === 'dhcp6' || subnet.type === 'ipv6_slaac') eth.dhcp6 = true;
      else if (subnet.type === 'static' || subnet.type === 'static6') {
        const address = String(subnet.address ?? '');
        const prefix = address.includes('/') ? undefined : prefixOf(subnet.netmask);
        addresses.push(prefix === undefined ? address : `${address}/${prefix}`);
        if (typeof subnet.gateway === 'string') routes.push({ to: 'default', via: subnet.gateway });
      }
    }
    if (addresses.length) eth.addresses = addresses;
    if (routes.length) eth.routes = routes;
    ethernets[name] = eth;
  }
  const nameservers = list(dns?.address).map(String);
  const search = list(dns?.search).map(String);
  if (nameservers.length || search.length) {
    for (const eth of Object.values(ethernets)) if (eth.addresses && !eth.nameservers) eth.nameservers = { addresses: nameservers, search };
  }
  return `network:\n    version: 2\n    ethernets:\n${Object.entries(ethernets).map(([name, eth]) => `        ${name}: ${JSON.stringify(eth)}`).join('\n')}\n`;
}
