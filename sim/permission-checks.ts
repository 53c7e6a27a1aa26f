// The privilege checks API handlers make inside, beyond what their method declares: creating and configuring VMs
// (qemu-server PVE/API2/Qemu.pm: create_vm, update_vm_api, $check_storage_access, $check_vm_modify_config_perm,
// check_vm_create_dir_perm; QemuServer.pm check_bridge_access with pve-guest-common GuestHelpers.pm
// check_vnet_access; pve-storage Storage.pm check_volume_access), resizing, and backups (pve-manager
// PVE/API2/VZDump.pm, Backup.pm).
import { parseNetProperty, parsePropertyString } from '../lib/pve-formats.ts';
import { fail, PveHttpError, str, type Params } from './http.ts';
import type { SimLab } from './lab.ts';
import { permissionDenied, type Permissions } from './permissions.ts';
import { CONTROL_PARAMS } from './vm-apply.ts';
import { DISK_KEY } from './vm-config.ts';
import { parseVolume } from './volumes.ts';

type HandlerCheck = (perm: Permissions, lab: SimLab, path: Record<string, string>, params: Params) => void;

// Qemu.pm option groups.
const CPU = new Set(['cores', 'cpu', 'runningcpu', 'cpulimit', 'cpuunits', 'numa', 'smp', 'sockets', 'vcpus']);
const MEMORY = new Set(['memory', 'balloon', 'shares', 'allow-ksm']);
const HWTYPE = new Set(['acpi', 'hotplug', 'kvm', 'machine', 'runningmachine', 'scsihw', 'smbios1', 'tablet', 'vga', 'watchdog', 'audio0', 'rng0']);
const GENERAL = new Set(['agent', 'autostart', 'bios', 'description', 'keyboard', 'localtime', 'migrate_downtime', 'migrate_speed', 'name', 'onboot', 'ostype', 'protection', 'reboot', 'startdate', 'startup', 'tdf', 'template']);
const DISK_OPTIONS = new Set(['boot', 'bootdisk', 'vmstatestorage']);
const CLOUDINIT = new Set(['cicustom', 'cipassword', 'citype', 'ciuser', 'ciupgrade', 'nameserver', 'searchdomain', 'sshkeys']);

const list = (value: string | undefined): string[] => (value ?? '').split(/[,;\s]+/).filter(Boolean);

/** Qemu.pm $check_vm_modify_config_perm. */
function checkConfigKeys(perm: Permissions, vmid: string, keys: string[]): void {
  const vm = `/vms/${vmid}`;
  for (const key of keys) {
    if (DISK_KEY.test(key) || key === 'cdrom' || /^(?:unused|serial|usb|hostpci|virtiofs)\d+$/.test(key) || key === 'tags') continue;
    if (CPU.has(key) || /^numa\d+$/.test(key)) perm.check(vm, ['VM.Config.CPU']);
    else if (MEMORY.has(key)) perm.check(vm, ['VM.Config.Memory']);
    else if (HWTYPE.has(key)) perm.check(vm, ['VM.Config.HWType']);
    else if (GENERAL.has(key)) {
      perm.check(vm, ['VM.Config.Options']);
      if (key === 'startup') perm.check('/', ['Sys.Modify']);
    } else if (key === 'freeze') perm.check(vm, ['VM.PowerMgmt']);
    else if (DISK_OPTIONS.has(key)) perm.check(vm, ['VM.Config.Disk']);
    else if (/^net\d+$/.test(key) || key === 'running-nets-host-mtu') perm.check(vm, ['VM.Config.Network']);
    else if (CLOUDINIT.has(key) || /^ipconfig\d+$/.test(key)) perm.checkAny(vm, ['VM.Config.Cloudinit', 'VM.Config.Network']);
    else if (key === 'vmstate') perm.check(vm, ['VM.Config.Disk', 'VM.PowerMgmt']);
    else fail(`only root can set '${key}' config`);
  }
}

/** Storage.pm check_volume_access. */
function checkVolumeAccess(perm: Permissions, lab: SimLab, vmid: string, volid: string): void {
  if (volid.startsWith('/')) {
    if (!perm.isRoot) fail('Only root can pass arbitrary filesystem paths.');
    return;
  }
  const volume = parseVolume(lab, volid);
  const storage = `/storage/${volume.storageId}`;
  if (perm.check(storage, ['Datastore.Allocate'], true)) return;
  if (['iso', 'vztmpl', 'import'].includes(volume.vtype)) perm.checkAny(storage, ['Datastore.AllocateSpace', 'Datastore.Audit']);
  else if (volume.vmid !== undefined && String(volume.vmid) === vmid) return;
  else if (volume.vtype === 'backup' && volume.vmid !== undefined) {
    perm.check(storage, ['Datastore.AllocateSpace']);
    perm.check(`/vms/${volume.vmid}`, ['VM.Backup']);
  } else if (volume.vtype === 'images' && volume.vmid !== undefined) {
    perm.check(storage, ['Datastore.Audit']);
    perm.check(`/vms/${volume.vmid}`, ['VM.Config.Disk']);
  } else fail(`missing privileges to access ${volid}`);
}

/** Qemu.pm $check_storage_access: new disks, attached volumes, import sources. */
function checkStorageAccess(perm: Permissions, lab: SimLab, vmid: string, params: Params): void {
  for (const [key, raw] of Object.entries(params)) {
    if (!DISK_KEY.test(key) || typeof raw !== 'string') continue;
    const drive = parsePropertyString(raw, 'file');
    const file = drive.file ?? '';
    const cdrom = drive.media === 'cdrom' || key === 'cdrom';
    if (file === '' || file === 'none' || /(^|:)cloudinit$/.test(file) || /vm-\d+-cloudinit/.test(file)) {
      // nothing to check
    } else if (cdrom && file === 'cdrom') perm.check('/', ['Sys.Console']);
    else if (!cdrom && /^[a-z][a-z0-9\-_.]*[a-z0-9]:\d+(\.\d+)?$/i.test(file)) perm.check(`/storage/${file.split(':')[0]}`, ['Datastore.AllocateSpace']);
    else checkVolumeAccess(perm, lab, vmid, file);
    const from = drive['import-from'];
    if (from === undefined) continue;
    const source = from.startsWith('/') ? undefined : parseVolume(lab, from);
    if (source?.vtype === 'images' && source.vmid !== undefined) perm.check(`/vms/${source.vmid}`, ['VM.Clone']);
    else checkVolumeAccess(perm, lab, vmid, from);
  }
}

/** QemuServer.pm check_bridge_access / GuestHelpers.pm check_vnet_access (zone `localnetwork` without SDN vnets). */
function checkBridges(perm: Permissions, params: Params): void {
  for (const [key, raw] of Object.entries(params)) {
    if (!/^net\d+$/.test(key) || typeof raw !== 'string') continue;
    const net = parseNetProperty(raw);
    if (!net.bridge) continue;
    const zone = `/sdn/zones/localnetwork/${net.bridge}`;
    if (net.tag) perm.check(`${zone}/${net.tag}`, ['SDN.Use']);
    for (const tag of list(net.trunks)) perm.check(`${zone}/${tag}`, ['SDN.Use']);
    if (!net.tag && !net.trunks) perm.check(zone, ['SDN.Use']);
  }
}

/** Qemu.pm check_dir_perm for every virtiofsN. */
function checkDirectoryMappings(perm: Permissions, vmid: string, params: Params): void {
  for (const [key, raw] of Object.entries(params)) {
    if (!/^virtiofs\d+$/.test(key) || typeof raw !== 'string') continue;
    perm.check(`/vms/${vmid}`, ['VM.Config.Disk']);
    perm.check(`/mapping/dir/${parsePropertyString(raw, 'dirid').dirid}`, ['Mapping.Use']);
  }
}

const configKeys = (params: Params): string[] => Object.keys(params).filter((key) => !CONTROL_PARAMS.has(key));

const createVm: HandlerCheck = (perm, lab, _path, params) => {
  const vmid = str(params, 'vmid') ?? '';
  const storage = str(params, 'storage');
  if (storage !== undefined) perm.check(`/storage/${storage}`, ['Datastore.AllocateSpace']);
  if (str(params, 'start') === '1') perm.check(`/vms/${vmid}`, ['VM.PowerMgmt']);
  if (!perm.check(`/vms/${vmid}`, ['VM.Allocate'], true)) permissionDenied();
  checkStorageAccess(perm, lab, vmid, params);
  checkConfigKeys(perm, vmid, configKeys(params));
  checkDirectoryMappings(perm, vmid, params);
  checkBridges(perm, params);
  if (params.tags !== undefined) perm.check(`/vms/${vmid}`, ['VM.Config.Options']);
};

const updateVm: HandlerCheck = (perm, lab, path, params) => {
  const vmid = path.vmid ?? '';
  if (str(params, 'skiplock') === '1' && !perm.isRoot) throw new PveHttpError(400, 'Parameter verification failed.', { skiplock: 'Only root may use this option.' });
  checkConfigKeys(perm, vmid, list(str(params, 'delete')));
  checkConfigKeys(perm, vmid, configKeys(params));
  checkStorageAccess(perm, lab, vmid, params);
  checkBridges(perm, params);
  // updatefn's $check_drive_perms, and check_dir_perm, for what is set or deleted.
  const vm = lab.vms.get(Number(vmid));
  const drives = [...Object.entries(params).filter(([key]) => DISK_KEY.test(key)), ...list(str(params, 'delete')).filter((key) => DISK_KEY.test(key)).map((key) => [key, vm?.config[key] ?? ''] as const)];
  for (const [, raw] of drives) {
    const value = String(raw);
    if (/cloudinit/.test(value)) perm.check(`/vms/${vmid}`, ['VM.Config.Cloudinit', 'VM.Config.CDROM']);
    else if (/media=cdrom/.test(value) || /^(cdrom|none)(,|$)/.test(value)) perm.check(`/vms/${vmid}`, ['VM.Config.CDROM']);
    else perm.check(`/vms/${vmid}`, ['VM.Config.Disk']);
  }
  checkDirectoryMappings(perm, vmid, params);
  if (params.tags !== undefined) perm.check(`/vms/${vmid}`, ['VM.Config.Options']);
};

/** Qemu.pm resize_vm: space on the disk's storage. */
const resizeVm: HandlerCheck = (perm, lab, path, params) => {
  const value = lab.vms.get(Number(path.vmid))?.config[str(params, 'disk') ?? ''];
  const file = value ? parsePropertyString(value, 'file').file : undefined;
  if (file?.includes(':')) perm.check(`/storage/${file.split(':')[0]}`, ['Datastore.AllocateSpace']);
};

/** Backup.pm assert_param_permission_common. */
function checkBackupParams(perm: Permissions, params: Params): void {
  for (const key of ['tmpdir', 'dumpdir', 'script', 'job-id']) {
    if (params[key] !== undefined && !perm.isRoot) throw new PveHttpError(400, 'Parameter verification failed.', { [key]: 'Only root may set this option.' });
  }
  if (['bwlimit', 'ionice', 'performance'].some((key) => params[key] !== undefined)) perm.check('/', ['Sys.Modify']);
}

/** VZDump.pm vzdump: space on the backup storage, and retention needs Datastore.Allocate there. */
const vzdump: HandlerCheck = (perm, _lab, _path, params) => {
  checkBackupParams(perm, params);
  const storage = str(params, 'storage');
  if (storage && params['prune-backups'] !== undefined) perm.check(`/storage/${storage}`, ['Datastore.Allocate']);
  if (storage) perm.check(`/storage/${storage}`, ['Datastore.AllocateSpace']);
};

/** Backup.pm assert_param_permission_create / _update: a job's storage needs Datastore.Allocate. */
const backupJob: HandlerCheck = (perm, lab, path, params) => {
  checkBackupParams(perm, params);
  const storage = str(params, 'storage');
  if (storage) perm.check(`/storage/${storage}`, ['Datastore.Allocate']);
  else if (list(str(params, 'delete')).includes('storage')) perm.check('/storage/local', ['Datastore.Allocate']);
  const current = path.id ? lab.backupJobs.get(path.id)?.storage : undefined;
  if (current !== undefined) perm.check(`/storage/${current}`, ['Datastore.Allocate']);
};

/** pve-storage API2/Disks/ZFS.pm create: adding the pool as a storage needs Datastore.Allocate on /storage. */
const createZpool: HandlerCheck = (perm, _lab, _path, params) => {
  if (str(params, 'add_storage') === '1') perm.check('/storage', ['Datastore.Allocate']);
};

export const HANDLER_CHECKS: Record<string, HandlerCheck> = {
  'POST /nodes/{node}/qemu': createVm,
  'PUT /nodes/{node}/qemu/{vmid}/config': updateVm,
  'POST /nodes/{node}/qemu/{vmid}/config': updateVm,
  'PUT /nodes/{node}/qemu/{vmid}/resize': resizeVm,
  'POST /nodes/{node}/vzdump': vzdump,
  'POST /cluster/backup': backupJob,
  'PUT /cluster/backup/{id}': backupJob,
  'POST /nodes/{node}/disks/zfs': createZpool,
};
