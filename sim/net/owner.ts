// The owner's hands on the router VM (the manual step of phase 2). Installing OPNsense needs its installer: the VM
// must be running the live system from the installer CD-ROM (OPNsense's dvd image, attached as an ISO). The owner
// runs the installer onto the VM's disk, assigns the interfaces by MAC, sets the addresses, DHCP ranges, rules and
// routes, and reboots; the VM then boots OPNsense from its disk if the boot order lists the disk before the CD-ROM
// (otherwise the installer boots again and nothing routes). Reconfiguring an installed OPNsense applies at once.
import { bootTarget, powerOff, powerOn } from '../boot.ts';
import { OPNSENSE_INSTALLED } from '../internet.ts';
import type { SimLab } from '../lab.ts';
import { DISK_KEY } from '../vm-config.ts';
import { parsePropertyString } from '../../lib/pve-formats.ts';
import { checkRouterConfig, type RouterConfig } from './router-config.ts';
import { vmNics } from './segments.ts';

/**
 * lab helper: the owner installs OPNsense on VM `vmid` from its installer CD (or reconfigures the installed one) with
 * this configuration. Throws what the owner would find instead: no installer to boot, a MAC the VM does not have,
 * a range outside its subnet… The router is up once its reboot has finished (`lab.boots.drain()` in tests).
 */
export function ownerConfiguresRouter(lab: SimLab, vmid: number, config: RouterConfig): void {
  const vm = lab.vm(vmid);
  if (vm.status !== 'running') throw new Error(`VM ${vmid} is not running: start it to reach the OPNsense console`);
  const os = vm.boot?.os;
  if (os !== 'opnsense' && os !== 'opnsense-installer') {
    throw new Error(`VM ${vmid} ${os ? `runs ${os}` : 'booted nothing'}: attach the OPNsense installer ISO as a CD-ROM and boot from it`);
  }
  if (!vm.boot?.ready) throw new Error(`VM ${vmid} has not finished booting`);
  checkRouterConfig(config, vmNics(vm));
  lab.netState.router = { ...structuredClone(config), vmid };
  if (os === 'opnsense') return;
  const disk = Object.keys(vm.config)
    .filter((key) => DISK_KEY.test(key) && !/media=cdrom/.test(vm.config[key]!) && !/^(efidisk|tpmstate)/.test(key))
    .sort()
    .map((key) => parsePropertyString(vm.config[key]!, 'file').file)
    .find((volid) => volid && !/cloudinit/.test(volid));
  const volume = disk ? lab.volumes.find((v) => v.volid === disk) : undefined;
  if (!volume) throw new Error(`VM ${vmid} has no disk to install OPNsense on`);
  volume.image = OPNSENSE_INSTALLED;
  // The installer's last step: reboot (from inside the guest: [PENDING] changes are not applied). What boots next is
  // the firmware's choice (boot order).
  powerOff(lab, vm);
  powerOn(lab, vm);
}

/** Does the router VM boot the installed OPNsense next (its boot order lists the disk before the installer)? */
export function routerBootsInstalled(lab: SimLab, vmid: number): boolean {
  return bootTarget(lab, lab.vm(vmid))?.image.os === 'opnsense';
}
