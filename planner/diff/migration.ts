// Phase-1 migrations. virtiofs: a directory mapping for the dataset, the virtiofs device on the VM (applies at the
// next reboot), then the data copy (host step) which stops the stacks, copies, mounts and restarts them. A migration
// is done when the guest shows the dataset mounted at its mount point. backup-target migrations are carried by the
// backup job's storage change.
import { parsePropertyString } from '../../lib/pve-formats.ts';
import type { MigrationSpec } from '../spec/schema.ts';
import { change, chain, draft, type DiffContext, type DraftAction } from './types.ts';
import { agentWaitOf, guestFacts } from './guest.ts';
import { snapshotSupport } from './vm.ts';


export function diffMigrations(ctx: DiffContext): DraftAction[] {
  const out: DraftAction[] = [];
  const node = ctx.desired.node;
  const attachedIndex = new Map<number, number>();
  for (const migration of ctx.desired.migrations) {
    if (migration.via === 'storage') continue;
    if (migration.via !== 'virtiofs' || migration.vmid === undefined) {
      ctx.warnings.push({ code: 'migration-unsupported', message: `migration ${migration.id} via ${migration.via} is not planned automatically` });
      continue;
    }
    const vm = ctx.desired.vms.find((v) => v.vmid === migration.vmid);
    const vmName = vm?.name ?? String(migration.vmid);
    const path = `/${migration.to}`;
    // An existing mapping of the dataset's path is reused whatever its id; a new one is named after the migration.
    const existingMapping = ctx.state.dirMappings.known ? ctx.state.dirMappings.value.find((m) => m.path === path) : undefined;
    const id = existingMapping?.id ?? migration.id;
    const mountpoint = migration.mountpoint ?? migration.from;
    const facts = guestFacts(ctx, { vmid: migration.vmid, name: vmName });
    const mounted = facts?.mounts?.some((m) => m.target === mountpoint && (m.source === id || m.fstype === 'virtiofs'));
    if (!facts) {
      const fact = ctx.state.guests[migration.vmid];
      ctx.warnings.push({ code: 'migration-unverified', message: `migration ${migration.id}: the mounts in VM ${migration.vmid} could not be read (${fact && !fact.known ? fact.reason : 'not read'}); it is planned only if its virtiofs device is missing` });
    }
    if (!ctx.state.dirMappings.known) {
      ctx.unknowns.push({ what: `directory mapping ${id}`, reason: ctx.state.dirMappings.reason });
      continue;
    }
    if (!ctx.state.dirMappings.value.some((m) => m.id === id)) {
      out.push(
        draft({
          id: `mapping.dir.create:${id}`,
          type: 'mapping.dir.create',
          kind: 'create',
          channel: 'pve',
          target: `mapping/dir/${id}`,
          targetKey: 'mappings',
          changes: [change('path', null, path)],
          params: { channel: 'pve', requests: [{ method: 'POST', path: '/cluster/mapping/dir', params: { id, map: `node=${node},path=${path}` }, async: false }] },
          facts: { undo: id },
          provides: [`mapping:${id}`],
          requires: [`dataset:${migration.to}`],
        }),
      );
    }
    const live = ctx.state.vms[migration.vmid];
    const config = live?.config ?? {};
    const attached = Object.entries(config).some(([k, v]) => /^virtiofs\d+$/.test(k) && parsePropertyString(String(v), 'dirid').dirid === id);
    if (!attached) out.push(attachAction(ctx, migration, id, vmName, attachedIndex));
    if (facts && mounted) continue;
    if (!facts && attached) continue;
    // Not chained into the guest's step sequence: it is ordered by what it requires (its stacks exist, the share is
    // attached, the VM runs), which also puts it after Docker and the /opt/naas layout on a fresh lab.
    out.push(
        draft({
          id: `migration.data:${migration.id}`,
          type: 'migration.data',
          kind: 'create',
          channel: 'host',
          target: `migration/${migration.id} (VM ${migration.vmid} ${migration.from} → ${migration.to})`,
          targetKey: `guest/${migration.vmid}`,
          changes: [change(mountpoint, migration.from, `virtiofs:${id}`)],
          params: {
            channel: 'host',
            step: 'migration.data',
            args: { id: migration.id, kind: migration.kind, from: migration.from, to: migration.to, mountpoint, stacks: migration.stacks, vmid: migration.vmid, tag: id, ...(migration.sizeGiB ? { sizeGiB: migration.sizeGiB } : {}) },
            // It runs in the guest through `qm guest exec`: after the reboot that attaches the share, the agent must be back.
            ...(vm ? { agentWait: agentWaitOf(vm) } : {}),
          },
          facts: { vmid: migration.vmid, vmName, existing: live !== undefined, sizeGiB: migration.sizeGiB, undo: migration.from, ...(live ? snapshotSupport(ctx, live) : {}) },
          requires: [`virtiofs:${migration.vmid}:${id}`, `vm-restarted:${migration.vmid}`, `vm-running:${migration.vmid}`, `dataset:${migration.to}`, ...migration.stacks.map((s) => `stack:${migration.vmid}:${s}`)],
        }),
    );
  }
  return out;
}

function attachAction(ctx: DiffContext, migration: MigrationSpec, id: string, vmName: string, attachedIndex: Map<number, number>): DraftAction {
  const vmid = migration.vmid!;
  const live = ctx.state.vms[vmid];
  const used = Object.keys(live?.config ?? {}).filter((k) => /^virtiofs\d+$/.test(k)).map((k) => Number(k.slice(8)));
  let index = attachedIndex.get(vmid) ?? 0;
  while (used.includes(index)) index++;
  attachedIndex.set(vmid, index + 1);
  const slot = `virtiofs${index}`;
  const running = live?.status === 'running';
  if (running) ctx.pendingReboot.add(vmid);
  return chain(
    ctx,
    `vm:${vmid}`,
    draft({
      id: `vm.virtiofs.attach:${vmid}:${id}`,
      type: 'vm.virtiofs.attach',
      kind: 'create',
      channel: 'pve',
      target: `vm/${vmid} (${vmName})`,
      targetKey: `vm/${vmid}`,
      changes: [change(slot, null, id)],
      params: { channel: 'pve', requests: [{ method: 'POST', path: `/nodes/${ctx.desired.node}/qemu/${vmid}/config`, params: { [slot]: id }, async: true }] },
      facts: { vmid, vmName, existing: live !== undefined, running, rebootNeeded: running, undo: slot, ...(live ? snapshotSupport(ctx, live) : {}) },
      provides: [`virtiofs:${vmid}:${id}`],
      requires: [`mapping:${id}`, `vm:${vmid}`],
      ...(running ? { note: 'takes effect at the reboot of the VM (planned below)' } : {}),
    }),
  );
}
