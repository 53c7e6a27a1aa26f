// The simulated tools that answer from the lab rather than from their sandbox (sim/guest/oracle.ts routes them here):
// pve-firewall on the node; ip, ping, nc, getent hosts, networkctl and netplan in guests (the node's shell gets ping,
// nc and getent too: it is on the LAN); the network check behind curl and apt-get everywhere.
import type { SimLab } from '../lab.ts';
import { netplanApply, reconfigure, refreshAll, renew } from './guest-net.ts';
import { pveFirewallCli } from './pve-firewall-cli.ts';
import { guestAttachments, type HostRef } from './segments.ts';
import { notFound, type Asker, type ToolAnswer } from './tool-answer.ts';
import { ipTool } from './tool-ip.ts';
import { getentHosts, ncTool, netCheck, pingTool } from './tool-probe.ts';

/** `networkctl` (systemd-networkd): renew and reconfigure a link, reload, list. */
function networkctl(lab: SimLab, vmid: number, args: string[]): ToolAnswer {
  const [verb = 'list', ...links] = args.filter((a) => !a.startsWith('-'));
  const net = lab.netState.guests.get(vmid);
  if (!net) return { stderr: 'Failed to connect to system bus: No such file or directory\n', code: 1 };
  if (verb === 'reload') return { code: 0 };
  if (verb === 'list') {
    const rows = net.nics.map((n, i) => `${String(i + 2).padStart(3)} ${n.name.padEnd(7)} ether    ${guestAttachments(lab, vmid).some((a) => a.dev === n.name) ? 'routable   ' : 'no-carrier '} ${n.dhcp4 || n.addresses.length ? 'configured' : 'unmanaged'}\n`);
    return { stdout: `IDX LINK    TYPE     OPERATIONAL SETUP\n  1 lo      loopback carrier     unmanaged\n${rows.join('')}\n${rows.length + 1} links listed.\n`, code: 0 };
  }
  if (verb !== 'renew' && verb !== 'reconfigure') return { stderr: `Unknown command verb '${verb}'.\n`, code: 1 };
  if (links.length === 0) return { stderr: `Interface name or index required.\n`, code: 1 };
  for (const link of links) {
    const done = verb === 'renew' ? renew(lab, vmid, link) : reconfigure(lab, vmid, link);
    if (!done) return { stderr: `Failed to resolve interface "${link}": No such device\n`, code: 1 };
  }
  return { code: 0 };
}

/** `netplan apply` regenerates networkd's configuration from /etc/netplan and reconfigures the links. */
function netplan(lab: SimLab, vmid: number, args: string[]): ToolAnswer {
  if (args[0] === 'generate') return { code: 0 };
  if (args[0] !== 'apply') return { stderr: `netplan: the simulator answers 'netplan apply' and 'netplan generate' only\n`, code: 1 };
  netplanApply(lab, vmid, lab.guestSystem.netplan(vmid));
  return { code: 0 };
}

export function runTool(lab: SimLab, asker: Asker, tool: string, args: string[]): ToolAnswer {
  const host: HostRef = asker.kind === 'node' ? { kind: 'node' } : { kind: 'guest', vmid: asker.vmid };
  refreshAll(lab);
  const haos = asker.kind === 'guest' && lab.vms.get(asker.vmid)?.boot?.os === 'haos';
  switch (tool) {
    case 'pve-firewall':
      return asker.kind === 'node' ? pveFirewallCli(lab.firewall, args) : notFound(tool);
    case 'ip':
      return asker.kind === 'guest' ? ipTool(lab, asker.vmid, args) : { stderr: 'ip: the simulator answers ip in guests only, not on the node\n', code: 1 };
    case 'networkctl':
      return asker.kind === 'guest' && !haos ? networkctl(lab, asker.vmid, args) : notFound(tool);
    case 'netplan':
      return asker.kind === 'guest' && !haos ? netplan(lab, asker.vmid, args) : notFound(tool);
    case 'ping':
      return pingTool(lab, host, args);
    case 'nc':
      return ncTool(lab, host, args);
    case 'getent':
      return getentHosts(lab, host, args[0] ?? 'hosts', args.slice(1));
    case 'jarvis-net-check':
      return netCheck(lab, host, args);
    default:
      return notFound(tool);
  }
}
