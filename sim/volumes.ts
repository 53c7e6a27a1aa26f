// Volume ids as pve-storage parses them: which storage, which content type, and for file-based storages the path on
// the node (PVE/Storage/Plugin.pm parse_volname and get_subdir; LvmThinPlugin.pm parse_volname).
import { fail } from './http.ts';
import type { SimLab, StorageConfig } from './lab.ts';

export type VolumeType = 'images' | 'iso' | 'vztmpl' | 'backup' | 'snippets' | 'import' | 'rootdir';

export interface ParsedVolume {
  storageId: string;
  storage: StorageConfig;
  volname: string;
  vtype: VolumeType;
  /** Owner VM for images. */
  vmid?: number;
  /** Where the file lives on the node, for storages with a path. */
  path?: string;
  format?: string;
}

// Plugin.pm $vtype_subdirs.
const SUBDIRS: Record<VolumeType, string> = {
  images: 'images',
  rootdir: 'private',
  iso: 'template/iso',
  vztmpl: 'template/cache',
  backup: 'dump',
  snippets: 'snippets',
  import: 'import',
};

/** Plugin.pm get_subdir: `<path>/<subdir for the content type>`. */
export function contentDir(storage: StorageConfig, vtype: VolumeType): string | undefined {
  return typeof storage.path === 'string' ? `${storage.path}/${SUBDIRS[vtype]}` : undefined;
}

const FILE_VOLNAMES: Array<[RegExp, VolumeType]> = [
  [/^(\d+)\/(vm-\d+-(?:disk-\d+|cloudinit)\.(raw|qcow2|vmdk))$/, 'images'],
  [/^iso\/([^/]+\.(?:iso|img))$/i, 'iso'],
  [/^vztmpl\/([^/]+)$/, 'vztmpl'],
  [/^backup\/([^/]+)$/, 'backup'],
  [/^snippets\/([^/]+)$/, 'snippets'],
  // Storage.pm $IMPORT_EXT_RE_1.
  [/^import\/([a-zA-Z0-9\-.+=_ ]+\.(ova|ovf|qcow2|raw|vmdk))$/, 'import'],
];

export function parseVolume(lab: SimLab, volid: string): ParsedVolume {
  const match = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i.exec(volid);
  if (!match) return fail(`unable to parse volume ID '${volid}'`);
  const [, storageId, volname] = match as unknown as [string, string, string];
  const storage = lab.storage(storageId);
  if (typeof storage.path !== 'string') {
    // LvmThinPlugin / ZFSPoolPlugin: only VM disks and cloud-init drives live there.
    const disk = /^(?:vm|base)-(\d+)-(?:disk-\d+|cloudinit)$/.exec(volname);
    if (!disk) return fail(`unable to parse ${storage.type === 'lvmthin' ? 'lvm' : storage.type} volume name '${volname}'`);
    return { storageId, storage, volname, vtype: 'images', vmid: Number(disk[1]), format: 'raw' };
  }
  for (const [pattern, vtype] of FILE_VOLNAMES) {
    const found = pattern.exec(volname);
    if (!found) continue;
    const name = vtype === 'images' ? found[2]! : found[1]!;
    const parsed: ParsedVolume = { storageId, storage, volname, vtype, path: `${contentDir(storage, vtype)}/${vtype === 'images' ? `${found[1]}/${name}` : name}` };
    if (vtype === 'images') {
      parsed.vmid = Number(found[1]);
      parsed.format = found[3]!;
    }
    if (vtype === 'import') parsed.format = found[2]!;
    return parsed;
  }
  return fail(`unable to parse directory volume name '${volname}'`);
}
