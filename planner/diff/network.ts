// Host network: missing bridges are staged (POST /nodes/{node}/network) and activated by one commit-confirmed
// network apply whose revert removes them again. Existing bridges are never rewritten: a difference is a warning.
import { change, draft, type DiffContext, type DraftAction } from './types.ts';

export function diffNetwork(ctx: DiffContext): DraftAction[] {
  const { desired, state } = ctx;
  if (desired.bridges.length === 0) return [];
  if (!state.network.known) {
    ctx.unknowns.push({ what: 'host network (bridges)', reason: state.network.reason });
    return [];
  }
  const live = state.network.value;
  const node = desired.node;
  const out: DraftAction[] = [];
  const created: string[] = [];
  // Bridges staged by an earlier, interrupted plan: the network apply activates them and its revert removes them.
  const staged: string[] = [];
  for (const bridge of desired.bridges) {
    const current = live.find((b) => b.iface === bridge.iface);
    if (current) {
      if (current.stagedNew) staged.push(bridge.iface);
      else if (!current.active && !current.pending) {
        // Applied but down: without an `auto` line ifreload leaves a bridge down. Another network apply would not
        // bring it up, so nothing is planned for it.
        ctx.warnings.push({
          code: 'bridge-down',
          message: `bridge ${bridge.iface} exists but is down${current.autostart ? '' : ' (no "auto" line in /etc/network/interfaces)'}; Jarvis never rewrites an existing bridge: set Autostart on it in the Proxmox UI (or add "auto ${bridge.iface}") and run "ifup ${bridge.iface}"`,
        });
      }
      const drift = [
        current.bridge_ports.join(' ') !== bridge.bridge_ports.join(' ') ? `ports ${current.bridge_ports.join(' ') || '(none)'} ≠ ${bridge.bridge_ports.join(' ') || '(none)'}` : '',
        (current.cidr ?? '') !== (bridge.cidr ?? '') ? `cidr ${current.cidr ?? '(none)'} ≠ ${bridge.cidr ?? '(none)'}` : '',
        (current.gateway ?? '') !== (bridge.gateway ?? '') ? `gateway ${current.gateway ?? '(none)'} ≠ ${bridge.gateway ?? '(none)'}` : '',
      ].filter(Boolean);
      if (drift.length) ctx.warnings.push({ code: 'bridge-drift', message: `bridge ${bridge.iface} differs from the spec (${drift.join(', ')}); Jarvis never rewrites an existing bridge` });
      continue;
    }
    const params: Record<string, string | number> = { iface: bridge.iface, type: 'bridge', autostart: bridge.autostart ? 1 : 0 };
    if (bridge.bridge_ports.length) params.bridge_ports = bridge.bridge_ports.join(' ');
    if (bridge.cidr) params.cidr = bridge.cidr;
    if (bridge.gateway) params.gateway = bridge.gateway;
    if (bridge.bridge_vlan_aware) params.bridge_vlan_aware = 1;
    if (bridge.comments) params.comments = bridge.comments;
    created.push(bridge.iface);
    out.push(
      draft({
        id: `network.bridge.create:${bridge.iface}`,
        type: 'network.bridge.create',
        kind: 'create',
        channel: 'pve',
        target: `bridge/${bridge.iface}`,
        targetKey: 'network',
        changes: Object.entries(params).filter(([k]) => k !== 'iface').map(([k, v]) => change(k, null, v)),
        params: { channel: 'pve', requests: [{ method: 'POST', path: `/nodes/${node}/network`, params, async: false }] },
        facts: { undo: `DELETE /nodes/${node}/network/${bridge.iface}` },
        provides: [`bridge:${bridge.iface}`],
      }),
    );
  }
  const activated = [...created, ...staged];
  if (activated.length) {
    out.push(
      draft({
        id: 'network.apply',
        type: 'network.apply',
        kind: 'update',
        channel: 'pve',
        target: `node/${node} network`,
        targetKey: 'network',
        changes: activated.map((iface) => change(`bridges.${iface}`, staged.includes(iface) ? 'staged' : null, 'active')),
        params: {
          channel: 'pve',
          requests: [{ method: 'PUT', path: `/nodes/${node}/network`, params: {}, async: true }],
          revert: [
            ...activated.map((iface) => ({ method: 'DELETE' as const, path: `/nodes/${node}/network/${iface}`, params: {}, async: false })),
            { method: 'PUT', path: `/nodes/${node}/network`, params: {}, async: true },
          ],
        },
        provides: activated.map((iface) => `bridge-active:${iface}`),
        requires: created.map((iface) => `bridge:${iface}`),
      }),
    );
  }
  return out;
}
