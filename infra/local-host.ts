// Facts about the machine Jarvis itself runs on, for telling whether it is inside a VM it manages: the MAC addresses
// of its network interfaces (a VM's NICs carry the MACs its Proxmox config names).
import { networkInterfaces } from 'node:os';

/** Upper-case MAC addresses of this machine's interfaces, loopback and all-zero ones left out. */
export function localMacAddresses(): string[] {
  const macs = Object.values(networkInterfaces())
    .flatMap((addresses) => addresses ?? [])
    .filter((address) => !address.internal && address.mac !== '00:00:00:00:00:00')
    .map((address) => address.mac.toUpperCase());
  return [...new Set(macs)];
}
