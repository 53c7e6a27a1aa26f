// Host network: changes are staged (interfaces.new) and shown with the running state; PUT applies them in a task
// (ifreload), DELETE reverts them. Rows are read back as pve-manager PVE/API2/Network.pm lists them (sim/interfaces.ts).
import { fail, PveHttpError, str, type Params } from '../http.ts';
import { listRow, renderInterfaces, upInterfaces } from '../interfaces.ts';
import type { NetIface, SimLab } from '../lab.ts';
import { unifiedDiff } from '../unified-diff.ts';
import { checkNode } from './cluster.ts';
import type { RouteContext, RouteTable } from './types.ts';

const CONTROL = new Set(['node', 'iface', 'delete', 'digest']);

function staged(lab: SimLab): Map<string, NetIface> {
  lab.pendingNetwork ??= new Map([...lab.network].map(([name, iface]) => [name, structuredClone(iface)]));
  return lab.pendingNetwork;
}

/** The stored interface for a create or update. `autostart` is off unless asked for (Network.pm: optional boolean). */
function toIface(iface: string, params: Params, base?: NetIface): NetIface {
  const out: NetIface = { ...(base ?? {}), iface, type: str(params, 'type') ?? base?.type ?? 'unknown' };
  for (const [key, value] of Object.entries(params)) {
    if (CONTROL.has(key)) continue;
    out[key] = Array.isArray(value) ? value.join(' ') : value;
  }
  if (typeof out.bridge_ports === 'string') out.bridge_ports = out.bridge_ports.split(/[,;\s]+/).filter(Boolean).join(' ');
  if (typeof out.cidr === 'string') {
    const [address, bits] = out.cidr.split('/');
    out.address = address!;
    out.netmask = bits!;
    out.method = 'static';
  }
  out.method ??= 'manual';
  out.families = ['inet'];
  if (out.autostart !== undefined) out.autostart = Number(out.autostart);
  if (out.type === 'bridge') {
    out.bridge_stp = 'off';
    out.bridge_fd = '0';
  }
  return out;
}

/** The `changes` text PVE returns with the network list: `diff -u` of interfaces against interfaces.new. */
export function networkChanges(lab: SimLab): string {
  return unifiedDiff(renderInterfaces(lab.network), renderInterfaces(lab.pendingNetwork ?? lab.network), {
    from: '/etc/network/interfaces',
    to: '/etc/network/interfaces.new',
  });
}

/** Rows as GET /network shows them: the staged config (interfaces.new) when there is one, `active` from the running state. */
function listRows(lab: SimLab, type: string | undefined): Array<Record<string, unknown>> {
  const config = lab.pendingNetwork ?? lab.network;
  const up = upInterfaces(lab.network);
  const rows: Array<Record<string, unknown>> = [];
  for (const name of [...config.keys()].sort()) {
    const iface = config.get(name)!;
    // Network.pm's index never lists the loopback device.
    if (iface.type === 'loopback') continue;
    if (type && type !== iface.type && !(type === 'any_bridge' && (iface.type === 'bridge' || iface.type === 'OVSBridge'))) continue;
    rows.push(listRow(config, iface, up));
  }
  return rows;
}

function ifaceCtx(ctx: RouteContext): string {
  checkNode(ctx.path.node, ctx.lab);
  return ctx.path.iface ?? '';
}

export const networkRoutes: RouteTable = {
  'GET /nodes/{node}/network': ({ lab, path, params }) => {
    checkNode(path.node, lab);
    return listRows(lab, str(params, 'type'));
  },
  'POST /nodes/{node}/network': ({ lab, path, params }) => {
    checkNode(path.node, lab);
    const iface = str(params, 'iface') ?? '';
    const pending = staged(lab);
    if (pending.has(iface)) throw new PveHttpError(400, 'Parameter verification failed.', { iface: 'interface already exists' });
    for (const port of (str(params, 'bridge_ports') ?? '').split(/[,;\s]+/).filter(Boolean)) {
      if (!pending.has(port)) fail(`unable to find bridge port '${port}'`);
    }
    pending.set(iface, toIface(iface, params));
    return null;
  },
  'GET /nodes/{node}/network/{iface}': (ctx) => {
    const name = ifaceCtx(ctx);
    const config = ctx.lab.pendingNetwork ?? ctx.lab.network;
    const iface = config.get(name) ?? fail(`interface does not exist`);
    return listRow(config, iface, upInterfaces(ctx.lab.network));
  },
  'PUT /nodes/{node}/network/{iface}': (ctx) => {
    const name = ifaceCtx(ctx);
    const pending = staged(ctx.lab);
    const current = pending.get(name) ?? fail(`interface does not exist`);
    if (current.type !== str(ctx.params, 'type')) fail(`interface type mismatch`);
    const next = toIface(name, ctx.params, current);
    for (const key of (str(ctx.params, 'delete') ?? '').split(/[,;\s]+/).filter(Boolean)) delete next[key];
    pending.set(name, next);
    return null;
  },
  'DELETE /nodes/{node}/network/{iface}': (ctx) => {
    const name = ifaceCtx(ctx);
    const pending = staged(ctx.lab);
    if (!pending.delete(name)) fail(`interface does not exist`);
    return null;
  },
  'PUT /nodes/{node}/network': ({ lab, path, user }) => {
    checkNode(path.node, lab);
    const next = lab.pendingNetwork ?? fail('no changes to apply');
    return lab.tasks.start('srvreload', 'networking', user, {
      lines: ['ifreload -a'],
      run: () => {
        lab.network = next;
        if (lab.pendingNetwork === next) lab.pendingNetwork = null;
      },
    });
  },
  'DELETE /nodes/{node}/network': ({ lab, path }) => {
    checkNode(path.node, lab);
    lab.pendingNetwork = null;
    return null;
  },
};
