// What the node needs before it can build a VM from a cloud image, each as an explicit action: the image storage's
// content types (`import` for the downloaded image, `snippets` for cloud-init vendor data), the image itself
// (downloaded once by the node, verified against the published or pinned checksum, kept as an import volume), and each
// VM's vendor-data snippet. Nothing is assumed: a storage that cannot hold files, a checksum the node cannot read or a
// full storage stops the plan with the reason.
import { bootMedia, importFileName, vendorData, vendorSnippetName, type Checksum } from '../boot-media.ts';
import type { CreateMedia } from '../desired.ts';
import type { DesiredVm } from '../desired-state.ts';
import type { LiveStorage } from '../state.ts';
import { locateImage, prepareInstallers } from './installer.ts';
import { change, draft, type DiffContext, type DraftAction } from './types.ts';

/** Storage types PVE keeps files on (they have a `path`): download-url refuses the others. */
const FILE_STORAGES = new Set(['dir', 'nfs', 'cifs', 'cephfs', 'btrfs', 'glusterfs']);
/** Room a cloud image needs on the image storage (Debian's genericcloud qcow2 is about 0.4 GiB). */
export const IMAGE_ROOM_BYTES = 1024 ** 3;

export interface VmBootPlan {
  media: CreateMedia;
  /** Resource keys the create waits for (the image volume, the snippet). */
  requires: string[];
}

export interface BootPreparation {
  actions: DraftAction[];
  /** How each VM this plan creates from a cloud image or an installer boots; absent when it cannot be planned. */
  byVm: Map<number, VmBootPlan>;
  /** VMs that cannot be created in this plan, with the reason (already reported as a violation or unknown). */
  blocked: Map<number, string>;
}

const contentKey = (storage: string, content: string) => `storage-content:${storage}:${content}`;


export function prepareBootMedia(ctx: DiffContext): BootPreparation {
  const { desired, state } = ctx;
  const out: BootPreparation = { actions: [], byVm: new Map(), blocked: new Map() };
  const newVms = desired.vms.filter((vm) => !state.vms[vm.vmid] && !state.vmReadFailures?.[vm.vmid]);
  const creating = newVms.filter((vm) => bootMedia(vm).kind === 'cloud-image');
  const installing = newVms.filter((vm) => bootMedia(vm).kind === 'installer');
  // An existing VM whose vendor-data snippet is gone would fail its next start: the snippet is written again.
  const snippetMissing = desired.vms.filter((vm) => {
    const live = state.vms[vm.vmid];
    const volid = live ? /(?:^|,)vendor=([^,]+)/.exec(String(live.config.cicustom ?? ''))?.[1] : undefined;
    return volid !== undefined && state.storageContent?.known === true && !state.storageContent.value.some((v) => v.volid === volid);
  });
  if (creating.length === 0 && installing.length === 0 && snippetMissing.length === 0) return out;

  const block = (vms: DesiredVm[], reason: string) => vms.forEach((vm) => out.blocked.set(vm.vmid, reason));
  const storeId = desired.imageStorage;
  if (!state.storages.known) {
    ctx.unknowns.push({ what: `storage ${storeId} for cloud images`, reason: state.storages.reason });
    block([...creating, ...installing], `storage ${storeId} could not be read`);
    return out;
  }
  const storage = state.storages.value.find((s) => s.storage === storeId);
  const problem = storageProblem(storeId, storage);
  if (problem) {
    const vms = [...creating, ...installing];
    ctx.violations.push({ ruleId: 'image.storage', message: `${problem}; VMs ${vms.map((v) => v.vmid).join(', ')} cannot be built from their image`, location: 'node.imageStorage' });
    block(vms, problem);
    return out;
  }
  const store = storage!;
  const wanted = [
    ...(creating.length > 0 ? ['import'] : []),
    ...(creating.length > 0 || snippetMissing.length > 0 ? ['snippets'] : []),
    ...(installing.length > 0 ? ['iso'] : []),
  ];
  const needed = wanted.filter((c) => !store.content.includes(c));
  if (needed.length > 0) out.actions.push(contentAction(storeId, store, needed));
  const installers = prepareInstallers(ctx, installing, storeId, store);
  out.actions.push(...installers.actions);
  for (const [vmid, reason] of installers.blocked) out.blocked.set(vmid, reason);
  for (const [vmid, plan] of installers.byVm) out.byVm.set(vmid, { media: { installerIso: plan.volid }, requires: plan.requires });

  const downloads = new Map<string, DraftAction>();
  for (const vm of creating) {
    const media = bootMedia(vm);
    if (media.kind !== 'cloud-image') continue;
    const image = locateImage(ctx, vm, media, {
      what: 'image',
      longName: 'cloud image',
      roomBytes: IMAGE_ROOM_BYTES,
      store,
      storeId,
      place: (checksum) => `import/${importFileName(media.fileName, checksum)}`,
      planned: (volid) => downloads.has(volid),
    });
    if ('blocked' in image) {
      out.blocked.set(vm.vmid, image.blocked);
      continue;
    }
    const volid = image.volid;
    if (image.download) downloads.set(volid, downloadAction(ctx, storeId, volid, image.fileName, media.url, image.checksum, state.storageContent?.known !== true));
    const snippet = snippetAction(vm, store);
    out.actions.push(snippet);
    out.byVm.set(vm.vmid, {
      media: { importFrom: volid, cloudInit: { spec: media.cloudInit, vendorVolid: `${storeId}:snippets/${vendorSnippetName(vm.vmid)}` } },
      requires: [`image:${volid}`, `snippet:${vm.vmid}`, contentKey(storeId, 'import')],
    });
  }
  out.actions.unshift(...downloads.values());
  for (const vm of snippetMissing) out.actions.push(snippetAction(vm, store));
  // The storage content change comes first in emission order (the order is the topological sort's tie-break).
  out.actions.sort((a, b) => Number(b.type === 'storage.content') - Number(a.type === 'storage.content'));
  return out;
}

function storageProblem(id: string, storage: LiveStorage | undefined): string | undefined {
  if (!storage) return `storage ${id} (node.imageStorage) does not exist on the node`;
  if (!FILE_STORAGES.has(storage.type) || !storage.path) return `storage ${id} (node.imageStorage) is ${storage.type}, which cannot hold image files and snippets; name a dir storage such as local`;
  if (storage.disable) return `storage ${id} (node.imageStorage) is disabled`;
  return undefined;
}

function contentAction(storeId: string, store: LiveStorage, needed: string[]): DraftAction {
  const before = [...store.content].sort();
  const after = [...new Set([...store.content, ...needed])].sort();
  return draft({
    id: `storage.content:${storeId}`,
    type: 'storage.content',
    kind: 'update',
    channel: 'pve',
    target: `storage/${storeId}`,
    targetKey: 'storage',
    changes: [change('content', before.join(','), after.join(','))],
    params: { channel: 'pve', requests: [{ method: 'PUT', path: `/storage/${storeId}`, params: { content: after.join(',') }, async: false }] },
    facts: { undo: `pvesm set ${storeId} --content ${before.join(',')}` },
    provides: needed.map((c) => contentKey(storeId, c)),
    note: `lets ${storeId} keep ${needed.join(' and ')} files (cloud images, cloud-init vendor data)`,
  });
}

function downloadAction(ctx: DiffContext, storeId: string, volid: string, fileName: string, url: string, checksum: Checksum, unverifiedAbsence: boolean): DraftAction {
  if (unverifiedAbsence) ctx.warnings.push({ code: 'image-presence-unknown', message: `whether ${volid} is already on the node is unknown (${ctx.state.storageContent && !ctx.state.storageContent.known ? ctx.state.storageContent.reason : 'not read'}); the download is planned and PVE skips it if the file is already there with this checksum` });
  return draft({
    id: `image.download:${fileName}`,
    type: 'image.download',
    kind: 'create',
    channel: 'pve',
    target: `storage/${storeId} image ${fileName}`,
    targetKey: 'storage',
    changes: [change(volid, null, `${url} (${checksum.algorithm} ${checksum.value.slice(0, 16)}…)`)],
    params: {
      channel: 'pve',
      requests: [
        {
          method: 'POST',
          path: `/nodes/${ctx.desired.node}/storage/${storeId}/download-url`,
          params: { content: 'import', filename: fileName, url, checksum: checksum.value, 'checksum-algorithm': checksum.algorithm },
          async: true,
        },
      ],
    },
    facts: { undo: `pvesm free ${volid}` },
    provides: [`image:${volid}`],
    requires: [contentKey(storeId, 'import')],
    note: `the node downloads it and PVE checks its ${checksum.algorithm} before keeping it`,
  });
}

function snippetAction(vm: DesiredVm, store: LiveStorage): DraftAction {
  const name = vendorSnippetName(vm.vmid);
  const path = `${store.path!.replace(/\/+$/, '')}/snippets/${name}`;
  return draft({
    id: `vm.cloudinit.vendor:${vm.vmid}`,
    type: 'vm.cloudinit.vendor',
    kind: 'create',
    channel: 'host',
    target: `vm/${vm.vmid} (${vm.name})`,
    targetKey: `vm/${vm.vmid}`,
    changes: [change(`${store.storage}:snippets/${name}`, null, 'cloud-init vendor data: install and start qemu-guest-agent')],
    params: { channel: 'host', step: 'cloudinit.vendor', args: { path, content: vendorData() } },
    facts: { vmid: vm.vmid, vmName: vm.name, undo: `rm ${path}` },
    provides: [`snippet:${vm.vmid}`],
    requires: [contentKey(store.storage, 'snippets')],
  });
}
