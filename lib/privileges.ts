// The Proxmox privileges Jarvis needs, and nothing more: the role the README's `pveum` recipe creates, and the set
// `jarvis doctor` compares the token's effective privileges (/access/permissions) against.

export const JARVIS_ROLE = 'JarvisOps';

/** Each privilege with the calls that need it (from the official API schema's permission checks). */
export const REQUIRED_PRIVILEGES: Record<string, string> = {
  'Sys.Audit': 'read node status, network, disks, tasks, firewall, subscription',
  'Sys.Modify': 'bridges and network apply, ZFS pool create, firewall, backup jobs, image downloads (download-url)',
  'VM.Allocate': 'create VMs',
  'VM.Audit': 'read VM configs and status',
  'VM.Config.CPU': 'cores/sockets',
  'VM.Config.Memory': 'memory',
  'VM.Config.Disk': 'disks, resize, virtiofs',
  'VM.Config.Network': 'NICs and reattachments',
  'VM.Config.Options': 'tags, onboot, agent, description',
  'VM.Config.HWType': 'scsihw, bios, machine',
  'VM.Config.CDROM': 'installer media',
  'VM.Config.Cloudinit': 'cloud-init user, SSH keys, network and vendor data of new VMs',
  'VM.PowerMgmt': 'start/stop/shutdown',
  'VM.Snapshot': 'pre-change snapshots',
  'VM.Snapshot.Rollback': 'rollback plans',
  'VM.Backup': 'vzdump fallback when a storage cannot snapshot',
  'VM.GuestAgent.Audit': 'guest agent ping',
  'VM.GuestAgent.Unrestricted': 'in-guest provisioning through agent exec',
  'Datastore.Allocate': 'add storages (tank-backups), their content types (import, snippets), backup retention',
  'Datastore.AllocateTemplate': 'download cloud images onto a storage (download-url)',
  'Datastore.AllocateSpace': 'VM disks and backups',
  'Datastore.Audit': 'storage usage, the images and snippets a storage holds',
  'Mapping.Audit': 'read directory mappings',
  'Mapping.Modify': 'create directory mappings for virtiofs',
  'Mapping.Use': 'attach mapped directories to VMs',
  'SDN.Audit': 'read bridges as SDN zones',
  'SDN.Use': 'attach NICs to vmbr0/vmbr1/vmbr2',
};

/** Privileges that would let a stolen token do more than Jarvis ever needs. */
export const UNNEEDED_DANGEROUS_PRIVILEGES = [
  'Permissions.Modify',
  'User.Modify',
  'Realm.Allocate',
  'Realm.AllocateUser',
  'Sys.PowerMgmt',
  'Sys.Console',
  'Sys.Syslog',
  'Sys.Incoming',
  'Sys.AccessNetwork',
  'Group.Allocate',
  'Pool.Allocate',
];

export function pveumRecipe(tokenId = 'jarvis@pve!chatops'): string {
  const [user, token] = tokenId.split('!') as [string, string];
  return [
    `pveum role add ${JARVIS_ROLE} -privs "${Object.keys(REQUIRED_PRIVILEGES).join(',')}"`,
    `pveum user add ${user} --comment "Jarvis ChatOps bot"`,
    `pveum acl modify / -user ${user} -role ${JARVIS_ROLE}`,
    `pveum user token add ${user} ${token} --privsep 1 --comment "Jarvis"`,
    `pveum acl modify / -token '${tokenId}' -role ${JARVIS_ROLE}`,
  ].join('\n');
}

/** Compares effective privileges on `/` with the documented set. */
export function comparePrivileges(effective: Record<string, number>): { missing: string[]; excess: string[] } {
  const have = new Set(Object.entries(effective).filter(([, v]) => Number(v) === 1).map(([k]) => k));
  return {
    missing: Object.keys(REQUIRED_PRIVILEGES).filter((p) => !have.has(p)),
    excess: UNNEEDED_DANGEROUS_PRIVILEGES.filter((p) => have.has(p)),
  };
}
