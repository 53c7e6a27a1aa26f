// All diffs in a fixed order (that order is also the tie-break of the topological sort), then one reboot per
// running VM whose changes wait for it.
import { diffBackups } from './backup.ts';
import { diffFirewall } from './firewall.ts';
import { agentWaitAfterBoot, diffGuests } from './guest.ts';
import { diffMigrations } from './migration.ts';
import { diffNetwork } from './network.ts';
import { diffSegmentGuests } from './segment-guests.ts';
import { diffPackageSources } from './packages.ts';
import { diffStorage } from './storage.ts';
import { chain, change, draft, type DiffContext, type DraftAction } from './types.ts';
import { diffVms } from './vm.ts';

export function diffAll(ctx: DiffContext): DraftAction[] {
  const actions = [
    ...diffNetwork(ctx),
    ...diffPackageSources(ctx),
    ...diffStorage(ctx),
    ...diffVms(ctx),
    ...diffMigrations(ctx),
    // Before the provisioning steps in each guest's sequence: what the router gate needs must not wait behind it.
    ...diffSegmentGuests(ctx),
    ...diffGuests(ctx),
    ...diffBackups(ctx),
    ...diffFirewall(ctx),
  ];
  for (const vmid of [...ctx.pendingReboot].sort((a, b) => a - b)) {
    const vm = ctx.desired.vms.find((v) => v.vmid === vmid);
    const reboot = draft({
      id: `vm.reboot:${vmid}`,
      type: 'vm.reboot',
      kind: 'update',
      channel: 'pve',
      target: `vm/${vmid}${vm ? ` (${vm.name})` : ''}`,
      targetKey: `vm/${vmid}`,
      changes: [change('pending changes', 'pending', 'applied')],
      params: { channel: 'pve', requests: [{ method: 'POST', path: `/nodes/${ctx.desired.node}/qemu/${vmid}/status/reboot`, params: {}, async: true }], ...agentWaitAfterBoot(vm) },
      facts: { vmid, vmName: vm?.name, existing: true, running: true },
      provides: [`vm-restarted:${vmid}`],
    });
    // Runs after every config write of the VM (its sequence) and before in-guest work that needs the new config.
    actions.push(chain(ctx, `vm:${vmid}`, reboot));
  }
  return actions;
}
