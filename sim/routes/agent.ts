// QEMU guest agent calls. They reach a guest only when its booted OS runs qemu-ga on the agent port (sim/boot.ts);
// otherwise PVE's answers from qemu-server Agent.pm assert_agent_available. `exec` runs through the lab's guestExec
// hook (the shell runner) and `exec-status` reports its result.
import { fail, str, type Params } from '../http.ts';
import type { SimLab, SimVm } from '../lab.ts';
import { refreshAll } from '../net/guest-net.ts';
import { guestAttachments, vmNics } from '../net/segments.ts';
import { agentAnswers } from '../boot.ts';
import { checkNode } from './cluster.ts';
import type { RouteContext, RouteTable } from './types.ts';

/** qemu-server PVE/QemuServer/Agent.pm assert_agent_available, in its order. */
function agentVm(ctx: RouteContext): SimVm {
  checkNode(ctx.path.node, ctx.lab);
  const vm = ctx.lab.vm(ctx.path.vmid ?? '');
  if (vm.config.agent === undefined) fail('No QEMU guest agent configured');
  if (vm.status !== 'running') fail(`VM ${vm.vmid} is not running`);
  if (!agentAnswers(ctx.lab, vm)) fail('QEMU guest agent is not running');
  return vm;
}

// qemu-ga guest-get-osinfo reads the guest's os-release (HAOS: operating-system buildroot-external/scripts/post-build.sh).
const DEBIAN_OSINFO = { id: 'debian', name: 'Debian GNU/Linux', 'pretty-name': 'Debian GNU/Linux 13 (trixie)', version: '13 (trixie)', 'version-id': '13', 'kernel-release': '6.12.48+deb13-cloud-amd64', 'kernel-version': '#1 SMP PREEMPT_DYNAMIC Debian 6.12.48-1 (2025-09-20)', machine: 'x86_64' };
const HAOS_OSINFO = { id: 'haos', name: 'Home Assistant OS', 'pretty-name': 'Home Assistant OS 16.3', version: '16.3 (Open Virtual Appliance)', 'version-id': '16.3', variant: 'Home Assistant OS Open Virtual Appliance', 'variant-id': 'ova', 'kernel-release': '6.12.51-haos', 'kernel-version': '#1 SMP PREEMPT_DYNAMIC', machine: 'x86_64' };

function commandOf(params: Params): string[] {
  const command = params.command;
  return Array.isArray(command) ? command : command === undefined ? [] : [command];
}

/** EUI-64 link-local address of a MAC (what every up Linux interface has, RFC 4291 appendix A). */
function linkLocal(mac: string): string {
  const b = mac.toLowerCase().split(':').map((x) => parseInt(x, 16));
  if (b.length !== 6 || b.some((x) => Number.isNaN(x))) return 'fe80::1';
  const words = [((b[0]! ^ 2) << 8) | b[1]!, (b[2]! << 8) | 0xff, 0xfe00 | b[3]!, (b[4]! << 8) | b[5]!];
  return `fe80::${words.map((w) => w.toString(16)).join(':')}`;
}

/** qemu-ga guest-network-get-interfaces: lo, the NICs as the guest names them with their addresses, tailscale0. */
function interfaces(lab: SimLab, vm: SimVm): Array<Record<string, unknown>> {
  const result: Array<Record<string, unknown>> = [
    { name: 'lo', 'hardware-address': '00:00:00:00:00:00', 'ip-addresses': [{ 'ip-address': '127.0.0.1', 'ip-address-type': 'ipv4', prefix: 8 }, { 'ip-address': '::1', 'ip-address-type': 'ipv6', prefix: 128 }] },
  ];
  const net = lab.netState.guests.get(vm.vmid);
  const attachments = guestAttachments(lab, vm.vmid);
  for (const nic of vmNics(vm)) {
    const config = net?.nics.find((c) => c.netKey === nic.netKey);
    const addresses = attachments.filter((a) => a.vmNic?.netKey === nic.netKey).map((a) => ({ 'ip-address': a.ip, 'ip-address-type': 'ipv4', prefix: a.prefix }));
    if (!nic.linkDown) addresses.push({ 'ip-address': linkLocal(nic.mac), 'ip-address-type': 'ipv6', prefix: 64 });
    result.push({ name: config?.name ?? `ens${18 + Number(nic.netKey.slice(3))}`, 'hardware-address': nic.mac.toLowerCase(), 'ip-addresses': addresses });
  }
  const hostname = (lab.guests[vm.vmid]?.facts.tailscale as { hostname?: string } | undefined)?.hostname;
  const device = hostname ? [...lab.tailnet.devices.values()].find((d) => d.hostname === hostname) : undefined;
  if (device) {
    result.push({
      name: 'tailscale0',
      'hardware-address': '00:00:00:00:00:00',
      'ip-addresses': [{ 'ip-address': device.addresses[0], 'ip-address-type': 'ipv4', prefix: 32 }],
    });
  }
  return result;
}

export const agentRoutes: RouteTable = {
  'POST /nodes/{node}/qemu/{vmid}/agent/ping': (ctx) => {
    agentVm(ctx);
    return { result: {} };
  },
  'GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces': (ctx) => {
    const vm = agentVm(ctx);
    refreshAll(ctx.lab);
    return { result: interfaces(ctx.lab, vm) };
  },
  'GET /nodes/{node}/qemu/{vmid}/agent/get-host-name': (ctx) => ({ result: { 'host-name': agentVm(ctx).config.name ?? `vm${ctx.path.vmid}` } }),
  'GET /nodes/{node}/qemu/{vmid}/agent/get-osinfo': (ctx) => {
    const vm = agentVm(ctx);
    return { result: vm.boot?.os === 'haos' ? HAOS_OSINFO : DEBIAN_OSINFO };
  },
  'POST /nodes/{node}/qemu/{vmid}/agent/exec': (ctx) => {
    const vm = agentVm(ctx);
    const argv = commandOf(ctx.params);
    if (argv.length === 0) fail('command must not be empty');
    // qemu-ga spawns the program itself (g_spawn_async_with_pipes with G_SPAWN_SEARCH_PATH), without a shell.
    if (!ctx.lab.guestSystem.hasCommand(vm.vmid, argv[0]!)) fail(`Agent error: Failed to execute child process “${argv[0]}” (No such file or directory)`);
    const pid = ctx.lab.nextExecPid++;
    const record: { exited: boolean; exitcode?: number; out?: string; err?: string } = { exited: false };
    vm.execs.set(pid, record);
    Promise.resolve()
      .then(() => ctx.lab.guestExec(vm.vmid, argv, str(ctx.params, 'input-data')))
      .then((result) => Object.assign(record, { exited: true, exitcode: result.exitcode, out: result.out, err: result.err }))
      .catch((error: unknown) => Object.assign(record, { exited: true, exitcode: 1, out: '', err: error instanceof Error ? error.message : String(error) }));
    return { pid };
  },
  'GET /nodes/{node}/qemu/{vmid}/agent/exec-status': (ctx) => {
    const vm = agentVm(ctx);
    const pid = Number(str(ctx.params, 'pid'));
    const record = vm.execs.get(pid) ?? fail(`Agent error: Invalid parameter 'pid'`);
    if (!record.exited) return { exited: false };
    vm.execs.delete(pid);
    const out: Record<string, unknown> = { exited: true, exitcode: record.exitcode };
    if (record.out) out['out-data'] = record.out;
    if (record.err) out['err-data'] = record.err;
    return out;
  },
};
