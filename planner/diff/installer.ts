// A VM whose owner installs its system from an installer ISO (`os: opnsense`): the node downloads the installer once,
// PVE checks the checksum of the download (published beside it, or pinned) and decompresses it into the image
// storage's ISO directory, and the VM is created with it attached as a CD-ROM behind its empty disk (the firmware
// boots the disk once something is installed there, the installer until then).
import { bootMedia, installerIsoName, type Checksum } from '../boot-media.ts';
import type { DesiredVm } from '../desired-state.ts';
import type { LiveStorage } from '../state.ts';
import { change, draft, type DiffContext, type DraftAction } from './types.ts';

type InstallerMedia = Extract<ReturnType<typeof bootMedia>, { kind: 'installer' }>;

/** Room the installer needs on the image storage (OPNsense's DVD image is about 2 GiB decompressed). */
export const INSTALLER_ROOM_BYTES = 3 * 1024 ** 3;

export const isoContentKey = (storage: string): string => `storage-content:${storage}:iso`;

/** The checksum from the pin or the published list (by algorithm, from its length), or why there is none. */
export function publishedChecksum(ctx: DiffContext, media: { checksum?: Checksum; sums?: string; fileName: string }): Checksum | string {
  if (media.checksum) return media.checksum;
  const sums = media.sums!;
  const fact = ctx.state.publishedSums?.[sums];
  if (!fact || !fact.known) return `cannot read ${sums} on the node: ${fact && !fact.known ? fact.reason : 'not read (no SSH to the node?)'}`;
  const value = fact.value[media.fileName];
  if (!value) return `${sums} does not list ${media.fileName}`;
  return { algorithm: value.length === 64 ? 'sha256' : 'sha512', value };
}

export interface LocatedImage {
  volid: string;
  fileName: string;
  checksum: Checksum;
  /** True when this plan must have the node download it (not on the storage, not already planned). */
  download: boolean;
}

/**
 * Where a VM's verified image (cloud image or installer) lands on the image storage, and whether the plan downloads it;
 * or why the VM cannot be built in this plan (a checksum that cannot be read, no room), reported as a violation.
 */
export function locateImage(
  ctx: DiffContext,
  vm: DesiredVm,
  media: { checksum?: Checksum; sums?: string; fileName: string },
  how: { what: string; longName: string; roomBytes: number; store: LiveStorage; storeId: string; place: (checksum: Checksum) => string; planned: (volid: string) => boolean },
): LocatedImage | { blocked: string } {
  const checksum = publishedChecksum(ctx, media);
  if (typeof checksum === 'string') {
    ctx.violations.push({ ruleId: 'image.checksum', message: `VM ${vm.vmid} (${vm.name}): ${checksum}; the ${how.what} cannot be verified, so it is not downloaded`, location: `vms[vmid=${vm.vmid}].image` });
    return { blocked: checksum };
  }
  const path = how.place(checksum);
  const volid = `${how.storeId}:${path}`;
  const fileName = path.slice(path.indexOf('/') + 1);
  const present = ctx.state.storageContent?.known === true && ctx.state.storageContent.value.some((v) => v.volid === volid);
  if (present || how.planned(volid)) return { volid, fileName, checksum, download: false };
  const { total, used } = how.store;
  if (total !== undefined && used !== undefined && total - used < how.roomBytes) {
    const free = Math.round((total - used) / 1024 ** 2);
    ctx.violations.push({ ruleId: 'image.no-room', message: `storage ${how.storeId} has ${free} MiB free; the ${how.longName} for VM ${vm.vmid} needs about ${how.roomBytes / 1024 ** 3} GiB`, location: 'node.imageStorage' });
    return { blocked: `no room for the ${how.what} on ${how.storeId}` };
  }
  return { volid, fileName, checksum, download: true };
}

export interface InstallerPlan {
  actions: DraftAction[];
  /** The ISO volume each VM boots its installer from, and what the create waits for. */
  byVm: Map<number, { volid: string; requires: string[] }>;
  blocked: Map<number, string>;
}

export function prepareInstallers(ctx: DiffContext, creating: DesiredVm[], storeId: string, store: LiveStorage): InstallerPlan {
  const out: InstallerPlan = { actions: [], byVm: new Map(), blocked: new Map() };
  const downloads = new Map<string, DraftAction>();
  for (const vm of creating) {
    const media = bootMedia(vm);
    if (media.kind !== 'installer') continue;
    const image = locateImage(ctx, vm, media, {
      what: 'installer',
      longName: 'installer',
      roomBytes: INSTALLER_ROOM_BYTES,
      store,
      storeId,
      place: (checksum) => `iso/${installerIsoName(media.fileName, checksum)}`,
      planned: (volid) => downloads.has(volid),
    });
    if ('blocked' in image) {
      out.blocked.set(vm.vmid, image.blocked);
      continue;
    }
    if (image.download) downloads.set(image.volid, downloadIso(ctx, storeId, image.volid, image.fileName, media, image.checksum));
    out.byVm.set(vm.vmid, { volid: image.volid, requires: [`image:${image.volid}`, isoContentKey(storeId)] });
  }
  out.actions.push(...downloads.values());
  return out;
}

function downloadIso(ctx: DiffContext, storeId: string, volid: string, fileName: string, media: InstallerMedia, checksum: Checksum): DraftAction {
  const unpack = media.compression ? ` and decompresses it (${media.compression})` : '';
  return draft({
    id: `image.download:${fileName}`,
    type: 'image.download',
    kind: 'create',
    channel: 'pve',
    target: `storage/${storeId} image ${fileName}`,
    targetKey: 'storage',
    changes: [change(volid, null, `${media.url} (${checksum.algorithm} ${checksum.value.slice(0, 16)}…)`)],
    params: {
      channel: 'pve',
      requests: [
        {
          method: 'POST',
          path: `/nodes/${ctx.desired.node}/storage/${storeId}/download-url`,
          params: {
            content: 'iso',
            filename: fileName,
            url: media.url,
            checksum: checksum.value,
            'checksum-algorithm': checksum.algorithm,
            ...(media.compression ? { compression: media.compression } : {}),
          },
          async: true,
        },
      ],
    },
    facts: { undo: `pvesm free ${volid}` },
    provides: [`image:${volid}`],
    requires: [isoContentKey(storeId)],
    note: `the node downloads it, PVE checks the download's ${checksum.algorithm}${unpack} before keeping it`,
  });
}
