// VM diff: create missing VMs (with HAOS import, start), and for existing ones compare each managed field
// semantically: tags as a case-insensitive set, NICs by model/bridge/firewall (MACs ignored unless the spec pins one),
// disks by storage/size/options (generated volume names ignored). Adding a disk never recreates the VM; a disk shrink
// or a move to another bus or storage is refused.
import { parsePropertyString } from '../../lib/pve-formats.ts';
import type { PveRequest } from '../plan.ts';
import type { DesiredVm } from '../desired-state.ts';
import type { LiveVm } from '../state.ts';
import { createParams, diskOptions, diskSlot, importsHaos, netSlot, netValue, newDiskValue, tagsValue } from '../desired.ts';
import {
  agentEnabled,
  hotplugSet,
  isDataDisk,
  NET_KEY,
  parseDisk,
  parseNet,
  pveBool,
  sameTags,
  sizeToGiB,
  tagSet,
  volumeCanSnapshot,
  volumeStorage,
} from '../pve-values.ts';
import { formatPropertyString } from '../../lib/pve-formats.ts';
import { rate } from '../catalogue.ts';
import { bootMedia } from '../boot-media.ts';
import { prepareBootMedia, type VmBootPlan } from './boot.ts';
import { plannedMac } from '../router.ts';
import { nicMove } from './move-check.ts';
import { agentWaitAfterBoot } from './guest.ts';
import { chain, change, draft, type DiffContext, type DraftAction, type RatingFacts } from './types.ts';

const vmTarget = (vm: DesiredVm) => `vm/${vm.vmid} (${vm.name})`;
const qemu = (ctx: DiffContext, vmid: number) => `/nodes/${ctx.desired.node}/qemu/${vmid}`;

interface Field {
  key: string;
  desired: (vm: DesiredVm) => string | number | undefined;
  live: (config: LiveVm['config']) => string | number;
  /** Needs a reboot of a running VM (unless hotplug covers it). */
  reboot: (vm: DesiredVm) => boolean;
}

const num = (v: unknown, fallback: number) => (v === undefined || v === '' ? fallback : Number(v));
const memoryOf = (v: unknown) => num(v === undefined ? undefined : parsePropertyString(String(v), 'current').current, 512);

const FIELDS: Field[] = [
  { key: 'cores', desired: (vm) => vm.cores, live: (c) => num(c.cores, 1), reboot: (vm) => !vm.hotplug.includes('cpu') },
  { key: 'sockets', desired: (vm) => vm.sockets, live: (c) => num(c.sockets, 1), reboot: (vm) => !vm.hotplug.includes('cpu') },
  { key: 'memory', desired: (vm) => vm.memory, live: (c) => memoryOf(c.memory), reboot: (vm) => !vm.hotplug.includes('memory') },
  { key: 'scsihw', desired: (vm) => vm.scsihw, live: (c) => String(c.scsihw ?? 'lsi'), reboot: () => true },
  { key: 'ostype', desired: (vm) => vm.ostype, live: (c) => String(c.ostype ?? 'other'), reboot: () => true },
  { key: 'agent', desired: (vm) => (vm.agent ? 1 : 0), live: (c) => (agentEnabled(c.agent) ? 1 : 0), reboot: () => true },
  { key: 'onboot', desired: (vm) => (vm.onboot ? 1 : 0), live: (c) => (pveBool(c.onboot, false) ? 1 : 0), reboot: () => false },
  { key: 'hotplug', desired: (vm) => [...vm.hotplug].sort().join(','), live: (c) => hotplugSet(c.hotplug).join(','), reboot: () => false },
  { key: 'description', desired: (vm) => vm.description?.trim(), live: (c) => String(c.description ?? '').trim(), reboot: () => false },
];

/** Can every disk of this VM be snapshotted (storage type, volume format)? */
export function snapshotSupport(ctx: DiffContext, live: LiveVm): Pick<RatingFacts, 'snapshotCapable' | 'noSnapshotOn'> {
  const types = new Map<string, string>();
  if (ctx.state.storages.known) for (const s of ctx.state.storages.value) types.set(s.storage, s.type);
  else if (ctx.state.resources.known) for (const s of ctx.state.resources.value.storages) types.set(s.storage, s.type);
  const blocked = new Set<string>();
  for (const [key, value] of Object.entries(live.config)) {
    if (!isDataDisk(key, String(value)) && key !== 'efidisk0') continue;
    const props = parseDisk(String(value));
    const storage = volumeStorage(props.file ?? '');
    if (!volumeCanSnapshot(types.get(storage), props.file ?? '', props.format)) blocked.add(storage);
  }
  return { snapshotCapable: blocked.size === 0, noSnapshotOn: [...blocked].sort() };
}

export function diffVms(ctx: DiffContext): DraftAction[] {
  const boot = prepareBootMedia(ctx);
  const out: DraftAction[] = [...boot.actions];
  for (const [vmid, plan] of boot.byVm) if (plan.media.installerIso) ctx.installers.set(vmid, plan.media.installerIso);
  for (const vm of ctx.desired.vms) {
    const failure = ctx.state.vmReadFailures?.[vm.vmid];
    if (failure) {
      ctx.unknowns.push({ what: `${vmTarget(vm)} config`, reason: failure });
      continue;
    }
    const live = ctx.state.vms[vm.vmid];
    // A VM whose boot media cannot be prepared is not created (the reason is already a violation or an unknown).
    if (!live && !boot.blocked.has(vm.vmid)) out.push(...createVm(ctx, vm, boot.byVm.get(vm.vmid)));
    else if (live) out.push(...updateVm(ctx, vm, live));
  }
  return out;
}

function createVm(ctx: DiffContext, vm: DesiredVm, boot: VmBootPlan | undefined): DraftAction[] {
  const actions: DraftAction[] = [];
  const facts: RatingFacts = { vmid: vm.vmid, vmName: vm.name, existing: false };
  // The router's manual step names its NICs by MAC before the VM exists: they are pinned at creation.
  const macs = vm.role === 'firewall-router' ? { macs: vm.net.map((n, i) => n.macaddr ?? plannedMac(vm.vmid, i)) } : {};
  const params = createParams(vm, { ...(boot?.media ?? {}), ...macs });
  const create = draft({
    id: `vm.create:${vm.vmid}`,
    type: 'vm.create',
    kind: 'create',
    channel: 'pve',
    target: vmTarget(vm),
    targetKey: `vm/${vm.vmid}`,
    changes: Object.entries(params)
      .filter(([k]) => k !== 'vmid')
      .map(([k, v]) => change(k, null, v)),
    params: { channel: 'pve', requests: [{ method: 'POST', path: `/nodes/${ctx.desired.node}/qemu`, params, async: true }] },
    facts,
    provides: [`vm:${vm.vmid}`],
    requires: [...vm.net.map((n) => `bridge-active:${n.bridge}`), ...vm.disks.map((d) => `storage:${d.storage}`), ...(boot?.requires ?? [])],
    ...(boot?.media.importFrom ? { note: `boots ${boot.media.importFrom} (a copy made by import-from); cloud-init sets user ${boot.media.cloudInit?.spec.user ?? '?'}, SSH keys and network at the first boot` } : {}),
  });
  actions.push(chain(ctx, `vm:${vm.vmid}`, create));
  if (importsHaos(vm)) for (const a of haosImport(ctx, vm, facts)) actions.push(chain(ctx, `vm:${vm.vmid}`, a));
  // The imported cloud image is only a few GiB: it grows to the spec's size before the first boot (cloud-init grows the filesystem).
  if (boot?.media.importFrom) actions.push(chain(ctx, `vm:${vm.vmid}`, resizeAction(ctx, vm, diskSlot(0), undefined, vm.disks[0]!.size, facts)));
  if (vm.running) actions.push(startAction(ctx, vm, facts));
  return actions;
}

/** HAOS: the image becomes the first disk (host step), then grows to the spec's size. */
function haosImport(ctx: DiffContext, vm: DesiredVm, facts: RatingFacts): DraftAction[] {
  const disk = vm.disks[0]!;
  const media = bootMedia(vm);
  const image = media.kind === 'haos' ? media.url : '';
  const checksum = media.kind === 'haos' ? media.checksum : undefined;
  const importAction = draft({
    id: `vm.haos.import:${vm.vmid}`,
    type: 'vm.haos.import',
    kind: 'create',
    channel: 'host',
    target: vmTarget(vm),
    targetKey: `vm/${vm.vmid}`,
    changes: [change(diskSlot(0), null, `${disk.storage}: ${image}`)],
    params: {
      channel: 'host',
      step: 'haos.image',
      // The imported disk gets the build standards' drive options, as a created one would (no drift on re-plan).
      args: { vmid: vm.vmid, image, storage: disk.storage, driveOptions: formatPropertyString(diskOptions(disk)), ...(checksum ? { checksum } : {}) },
    },
    facts,
    requires: [`vm:${vm.vmid}`, `storage:${disk.storage}`],
    note: checksum
      ? `downloaded on the node, checked against the pinned ${checksum.algorithm} and by xz, imported with qm disk import`
      : 'downloaded on the node and checked by xz (Home Assistant publishes no checksum; pin image.sha256 to verify it), imported with qm disk import',
  });
  // Not chained here: each caller appends them to the VM's sequence.
  return [importAction, resizeAction(ctx, vm, diskSlot(0), undefined, disk.size, facts)];
}

function startAction(ctx: DiffContext, vm: DesiredVm, facts: RatingFacts): DraftAction {
  return chain(
    ctx,
    `vm:${vm.vmid}`,
    draft({
      id: `vm.start:${vm.vmid}`,
      type: 'vm.start',
      kind: 'update',
      channel: 'pve',
      target: vmTarget(vm),
      targetKey: `vm/${vm.vmid}`,
      changes: [change('status', facts.existing ? 'stopped' : null, 'running')],
      params: { channel: 'pve', requests: [{ method: 'POST', path: `${qemu(ctx, vm.vmid)}/status/start`, params: {}, async: true }], ...agentWaitAfterBoot(vm) },
      facts,
      provides: [`vm-running:${vm.vmid}`],
      requires: [`vm:${vm.vmid}`],
    }),
  );
}

function resizeAction(ctx: DiffContext, vm: DesiredVm, slot: string, fromGiB: number | undefined, toGiB: number, facts: RatingFacts): DraftAction {
  return draft({
    id: `vm.disk.resize:${vm.vmid}:${slot}`,
    type: 'vm.disk.resize',
    kind: 'update',
    channel: 'pve',
    target: vmTarget(vm),
    targetKey: `vm/${vm.vmid}`,
    changes: [change(`${slot}.size`, fromGiB === undefined ? null : `${fromGiB}G`, `${toGiB}G`)],
    params: { channel: 'pve', requests: [{ method: 'PUT', path: `${qemu(ctx, vm.vmid)}/resize`, params: { disk: slot, size: `${toGiB}G` }, async: true }] },
    facts: { ...facts, undo: `${slot} stays at ${toGiB}G` },
    requires: [`vm:${vm.vmid}`],
  });
}

function updateVm(ctx: DiffContext, vm: DesiredVm, live: LiveVm): DraftAction[] {
  const liveName = String(live.config.name ?? '');
  if (liveName && liveName !== vm.name) {
    ctx.violations.push({
      ruleId: 'vmid.taken',
      message: `VM ${vm.vmid} exists as "${liveName}", not "${vm.name}": Jarvis will not take over another VM`,
      location: `vms[vmid=${vm.vmid}]`,
    });
    return [];
  }
  if (live.lock) ctx.warnings.push({ code: 'vm-locked', message: `VM ${vm.vmid} is locked (${live.lock}); apply will wait for or fail on the lock` });
  const running = live.status === 'running';
  const base: RatingFacts = {
    vmid: vm.vmid,
    vmName: vm.name,
    existing: true,
    running,
    agent: agentEnabled(live.config.agent),
    ...snapshotSupport(ctx, live),
  };
  const actions: DraftAction[] = [];
  let digestUsed = false;
  const configWrite = (a: DraftAction, params: Record<string, string | number>): DraftAction => {
    const snapshotFirst = rate(a.type, a.facts).snapshotFirst;
    // The scan's digest guards the first write only: a pre-snapshot or an earlier write changes it.
    const withDigest = !digestUsed && !snapshotFirst ? { ...params, digest: live.digest } : params;
    digestUsed = true;
    const request: PveRequest = { method: 'POST', path: `${qemu(ctx, vm.vmid)}/config`, params: withDigest, async: true };
    a.params = { channel: 'pve', requests: [request] };
    if (a.facts.rebootNeeded) {
      ctx.pendingReboot.add(vm.vmid);
      a.note = 'takes effect at the reboot of the VM (planned below)';
    }
    actions.push(chain(ctx, `vm:${vm.vmid}`, a));
    return a;
  };
  const update = (key: string, from: unknown, to: string | number, reboot: boolean, extra: Partial<DraftAction> = {}, params?: Record<string, string | number>) =>
    configWrite(
      draft({
        id: `vm.update:${vm.vmid}:${key}`,
        type: 'vm.update',
        kind: 'update',
        channel: 'pve',
        target: vmTarget(vm),
        targetKey: `vm/${vm.vmid}`,
        changes: [change(key, from, to)],
        params: { channel: 'pve', requests: [] },
        facts: { ...base, rebootNeeded: running && reboot, undo: `${key}=${from ?? '(unset)'}` },
        ...extra,
      }),
      params ?? { [key]: to },
    );

  for (const field of FIELDS) {
    const want = field.desired(vm);
    if (want === undefined) continue;
    const have = field.live(live.config);
    if (String(have) !== String(want)) update(field.key, have, want, field.reboot(vm));
  }
  const liveBios = String(live.config.bios ?? 'seabios');
  if (liveBios !== vm.bios) {
    ctx.violations.push({ ruleId: 'vm.bios-change', message: `VM ${vm.vmid}: changing bios ${liveBios} → ${vm.bios} would make the guest unbootable; refused`, location: `vms[vmid=${vm.vmid}].bios` });
  }

  // A resize has its own endpoint (no digest) but stays in the VM's sequence.
  const emit = (a: DraftAction) => {
    digestUsed = true;
    actions.push(chain(ctx, `vm:${vm.vmid}`, a));
  };
  diffDisks(ctx, vm, live, base, update, configWrite, emit);
  diffNics(ctx, vm, live, base, update, configWrite);

  if (!sameTags(String(live.config.tags ?? ''), vm.tags)) {
    configWrite(
      draft({
        id: `vm.tags:${vm.vmid}`,
        type: 'vm.tags',
        kind: 'update',
        channel: 'pve',
        target: vmTarget(vm),
        targetKey: `vm/${vm.vmid}`,
        changes: [change('tags', tagSet(String(live.config.tags ?? '')).join(';'), tagsValue(vm.tags))],
        params: { channel: 'pve', requests: [] },
        facts: { ...base, undo: tagSet(String(live.config.tags ?? '')).join(';') || '(none)' },
      }),
      { tags: tagsValue(vm.tags) },
    );
  }
  if (vm.running && !running) actions.push(startAction(ctx, vm, base));
  return actions;
}

type Update = (key: string, from: unknown, to: string | number, reboot: boolean, extra?: Partial<DraftAction>, params?: Record<string, string | number>) => DraftAction;
type ConfigWrite = (a: DraftAction, params: Record<string, string | number>) => DraftAction;

function diffDisks(ctx: DiffContext, vm: DesiredVm, live: LiveVm, base: RatingFacts, update: Update, configWrite: ConfigWrite, emit: (a: DraftAction) => void): void {
  vm.disks.forEach((disk, i) => {
    const slot = diskSlot(i);
    const raw = live.config[slot];
    if (raw === undefined) {
      const otherBus = ['virtio', 'sata', 'ide'].map((bus) => `${bus}${i}`).find((k) => live.config[k] !== undefined && isDataDisk(k, String(live.config[k])));
      if (otherBus) {
        ctx.violations.push({
          ruleId: 'vm.disk-interface-change',
          message: `VM ${vm.vmid}: disk ${i} is on ${otherBus}, the spec wants ${slot}; moving a disk to another bus is destructive and refused`,
          location: `vms[vmid=${vm.vmid}].disks[${i}]`,
        });
        return;
      }
      if (i === 0 && importsHaos(vm)) {
        // A HAOS VM created earlier whose image import did not finish: import it now rather than add an empty disk.
        for (const a of haosImport(ctx, vm, base)) emit(a);
        return;
      }
      const value = newDiskValue(disk);
      const hot = vm.hotplug.includes('disk');
      configWrite(
        draft({
          id: `vm.disk.add:${vm.vmid}:${slot}`,
          type: 'vm.disk.add',
          kind: 'create',
          channel: 'pve',
          target: vmTarget(vm),
          targetKey: `vm/${vm.vmid}`,
          changes: [change(slot, null, value)],
          params: { channel: 'pve', requests: [] },
          facts: { ...base, rebootNeeded: Boolean(base.running) && !hot, undo: slot },
          requires: [`storage:${disk.storage}`],
        }),
        { [slot]: value },
      );
      return;
    }
    const props = parseDisk(String(raw));
    const storage = volumeStorage(props.file ?? '');
    if (storage !== disk.storage) {
      ctx.violations.push({
        ruleId: 'vm.disk-storage-change',
        message: `VM ${vm.vmid}: ${slot} is on ${storage}, the spec wants ${disk.storage}; moving a disk between storages is not planned automatically`,
        location: `vms[vmid=${vm.vmid}].disks[${i}].storage`,
      });
      return;
    }
    const size = sizeToGiB(props.size);
    if (size !== undefined && disk.size < size) {
      ctx.violations.push({
        ruleId: 'vm.disk-shrink',
        message: `VM ${vm.vmid}: ${slot} is ${props.size}, the spec asks ${disk.size}G; shrinking a disk destroys data and is refused`,
        location: `vms[vmid=${vm.vmid}].disks[${i}].size`,
      });
    } else if (size !== undefined && disk.size > size) {
      emit(resizeAction(ctx, vm, slot, size, disk.size, base));
    }
    const want = diskOptions(disk);
    const have: Record<string, string> = { cache: props.cache ?? 'none', discard: props.discard ?? 'ignore', iothread: props.iothread ?? '0', ssd: props.ssd ?? '0' };
    const differs = Object.keys(want).filter((k) => want[k] !== have[k]);
    if (differs.length > 0) {
      const value = formatPropertyString({ ...props, ...want }, 'file');
      update(slot, formatPropertyString(have), formatPropertyString(want), true, { id: `vm.update:${vm.vmid}:${slot}` }, { [slot]: value });
    }
  });
}

function diffNics(ctx: DiffContext, vm: DesiredVm, live: LiveVm, base: RatingFacts, update: Update, configWrite: ConfigWrite): void {
  vm.net.forEach((nic, i) => {
    const slot = netSlot(i);
    const raw = live.config[slot];
    if (raw === undefined) {
      update(slot, null, netValue(nic, nic.macaddr), false, { requires: [`bridge-active:${nic.bridge}`] });
      return;
    }
    const props = parseNet(String(raw));
    const mac = nic.macaddr ?? props.macaddr;
    const liveFirewall = pveBool(props.firewall, false);
    if ((props.bridge ?? '') !== nic.bridge) {
      const value = formatPropertyString({ ...props, model: nic.model, macaddr: mac, bridge: nic.bridge, firewall: nic.firewall }, 'model');
      const move = nicMove(ctx, vm, i, String(raw), props.bridge, nic.bridge, `/nodes/${ctx.desired.node}/qemu/${vm.vmid}/config`);
      const written = configWrite(
        draft({
          id: `vm.nic.reattach:${vm.vmid}:${slot}`,
          type: 'vm.nic.reattach',
          kind: 'update',
          channel: 'pve',
          target: vmTarget(vm),
          targetKey: `vm/${vm.vmid}`,
          changes: [change(`${slot}.bridge`, props.bridge ?? null, nic.bridge)],
          params: { channel: 'pve', requests: [] },
          facts: { ...base, undo: `${slot} bridge=${props.bridge ?? '?'}` },
          requires: [`bridge-active:${nic.bridge}`, ...move.requires],
          ...(move.moveCheck ? { note: `checked from inside: an address in ${move.moveCheck.to.cidr}, gateway ${move.moveCheck.to.gateway}, DNS, the internet${move.moveCheck.services.length ? `, ${move.moveCheck.services.map((s) => `${s.port} (${s.what})`).join(', ')}` : ''}; moved back unless all pass within the confirm window (${ctx.desired.guards.confirmWindowSeconds} s)` } : {}),
        }),
        { [slot]: value },
      );
      if (written.params.channel === 'pve') {
        written.params = { ...written.params, ...(move.revert ? { revert: move.revert } : {}), ...(move.moveCheck ? { moveCheck: move.moveCheck } : {}) };
      }
      return;
    }
    if ((props.model ?? '') !== nic.model || liveFirewall !== nic.firewall || (nic.macaddr && nic.macaddr.toUpperCase() !== (props.macaddr ?? '').toUpperCase())) {
      const value = formatPropertyString({ ...props, model: nic.model, macaddr: mac, firewall: nic.firewall }, 'model');
      update(slot, String(raw), value, false);
    }
  });
  const extra = Object.keys(live.config)
    .filter((k) => NET_KEY.test(k) && Number(NET_KEY.exec(k)![1]) >= vm.net.length)
    .sort();
  for (const slot of extra) {
    update(slot, live.config[slot], '(removed)', false, { id: `vm.update:${vm.vmid}:${slot}`, kind: 'delete' }, { delete: slot });
  }
}
