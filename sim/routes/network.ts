// Host network: changes are staged (interfaces.new) and shown with the running config; PUT applies them in a task
// (ifreload), DELETE reverts them.
import { fail, PveHttpError, str, type Params } from '../http.ts';
import type { NetIface, SimLab } from '../lab.ts';
import { checkNode } from './cluster.ts';
import type { RouteContext, RouteTable } from './types.ts';

const CONTROL = new Set(['node', 'iface', 'delete', 'digest']);

function staged(lab: SimLab): Map<string, NetIface> {
  lab.pendingNetwork ??= new Map([...lab.network].map(([name, iface]) => [name, structuredClone(iface)]));
  return lab.pendingNetwork;
}

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
  out.autostart = Number(out.autostart ?? 1);
  if (out.type === 'bridge') {
    out.bridge_stp = 'off';
    out.bridge_fd = '0';
  }
  return out;
}

function renderInterfaces(ifaces: Map<string, NetIface>): string[] {
  const lines: string[] = [];
  for (const iface of [...ifaces.values()].sort((a, b) => a.iface.localeCompare(b.iface))) {
    if (iface.type === 'loopback') continue;
    if (Number(iface.autostart ?? 0) === 1) lines.push(`auto ${iface.iface}`);
    lines.push(`iface ${iface.iface} inet ${iface.method ?? 'manual'}`);
    for (const key of ['address', 'gateway', 'bridge_ports', 'bridge_stp', 'bridge_fd', 'bridge_vlan_aware', 'mtu']) {
      const value = iface[key];
      if (value === undefined) continue;
      const text = key === 'address' && iface.netmask ? `${value}/${iface.netmask}` : String(value);
      lines.push(`\t${key.replace(/_/g, '-')} ${key === 'bridge_ports' && text === '' ? 'none' : text}`);
    }
    if (iface.type === 'bridge' && iface.bridge_ports === undefined) lines.push('\tbridge-ports none');
    if (iface.comments !== undefined) lines.push(`#${iface.comments}`);
    lines.push('');
  }
  return lines;
}

/** The `changes` text PVE returns with the network list: a diff of interfaces against interfaces.new. */
export function networkChanges(lab: SimLab): string {
  const before = renderInterfaces(lab.network);
  const after = renderInterfaces(lab.pendingNetwork ?? lab.network);
  const removed = before.filter((line) => !after.includes(line));
  const added = after.filter((line) => !before.includes(line));
  return [
    '--- /etc/network/interfaces',
    '+++ /etc/network/interfaces.new',
    ...removed.map((line) => `-${line}`),
    ...added.map((line) => `+${line}`),
    '',
  ].join('\n');
}

/**
 * Rows as GET /network shows them: the staged config (interfaces.new) when there is one, `active` from the running
 * state. A simulator-only `pending` object on a row holds what differs from the running config.
 */
function listRows(lab: SimLab, type: string | undefined): Array<Record<string, unknown>> {
  const config = lab.pendingNetwork ?? lab.network;
  const rows: Array<Record<string, unknown>> = [];
  for (const name of [...config.keys()].sort()) {
    const staged = config.get(name)!;
    const running = lab.network.get(name);
    const row: Record<string, unknown> = { ...staged, active: running ? 1 : 0 };
    if (JSON.stringify(staged) !== JSON.stringify(running)) {
      const changed: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(staged)) if (JSON.stringify(value) !== JSON.stringify(running?.[key])) changed[key] = value;
      row.pending = changed;
    }
    const rowType = String(row.type);
    if (type && type !== rowType && !(type === 'any_bridge' && (rowType === 'bridge' || rowType === 'OVSBridge'))) continue;
    rows.push(row);
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
    const rows = listRows(lab, str(params, 'type'));
    return rows;
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
    const iface = (ctx.lab.pendingNetwork ?? ctx.lab.network).get(name) ?? fail(`interface does not exist`);
    return { ...iface, active: ctx.lab.network.has(name) ? 1 : 0 };
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
