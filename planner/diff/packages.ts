// The node's package sources, before any host step that installs packages (sanoid for the snapshot policies): a
// fresh, unsubscribed Proxmox VE node has only the enterprise repositories, which answer 401, so `apt-get update`
// fails. The plan then switches the node to the no-subscription repository as its own, explicit action.
import { change, draft, type DiffContext, type DraftAction } from './types.ts';

export function diffPackageSources(ctx: DiffContext): DraftAction[] {
  const { desired, state } = ctx;
  if (desired.zfs.snapshots.length === 0) return [];
  const fact = state.aptSources;
  if (!fact) return [];
  if (!fact.known) {
    ctx.unknowns.push({ what: 'apt sources of the node', reason: fact.reason });
    return [];
  }
  const apt = fact.value;
  if (apt.unauthorizedFiles.length === 0) return [];
  return [
    draft({
      id: 'host.apt.sources:no-subscription',
      type: 'host.apt.sources',
      kind: 'update',
      channel: 'host',
      target: `node ${desired.node} apt sources`,
      targetKey: 'apt',
      changes: [
        ...apt.unauthorizedFiles.map((file) => change(file, 'enterprise repository enabled', 'disabled (Enabled: no)')),
        ...(apt.noSubscription ? [] : [change('pve-no-subscription', null, `http://download.proxmox.com/debian/pve ${apt.suite} pve-no-subscription`)]),
      ],
      params: { channel: 'host', step: 'apt.no-subscription', args: { suite: apt.suite } },
      facts: { undo: 'copy the files in /var/lib/jarvis/apt-sources.orig back to /etc/apt/sources.list.d, remove /etc/apt/sources.list.d/pve-no-subscription.sources' },
      provides: ['apt-sources'],
      note: 'the node has no subscription credentials for its enterprise repositories: they answer 401 and apt-get update fails; the originals are kept in /var/lib/jarvis/apt-sources.orig',
    }),
  ];
}
