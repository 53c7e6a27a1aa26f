// Validation of phase 2 from inside the guests (through their agents): every guest that now lives on SERVICES or IOT
// must reach its gateway, resolve a name and reach the internet through the router (what must succeed), and a Debian guest of a segment the matrix keeps away
// from Proxmox management must not open a connection to the node's 22 and 8006 (what must fail: those ports do listen,
// so a refused or silent connection is the firewall's doing, not an idle port).
import { runNetProbe } from '../infra/facts/net-probe.ts';
import type { ProxmoxApi } from '../infra/proxmox/api.ts';
import { describeProbe, parseAddresses, parseResolved, type NetProbe } from '../lib/net-checks.ts';
import { cidrContains } from '../lib/pve-formats.ts';
import type { DesiredState } from '../planner/desired-state.ts';
import { parseNet } from '../planner/pve-values.ts';
import { canProbe, segmentOfBridge } from '../planner/segments.ts';
import type { LiveState } from '../planner/state.ts';
import type { ValidationProbe } from './types.ts';

const MANAGEMENT_PORTS = [22, 8006] as const;

export async function segmentProbes(pve: Pick<ProxmoxApi, 'agentExec' | 'agentExecStatus'>, desired: DesiredState, state: LiveState): Promise<ValidationProbe[]> {
  const seg = desired.segmentation;
  if (!seg) return [];
  const probes: ValidationProbe[] = [];
  for (const vm of desired.vms) {
    const live = state.vms[vm.vmid];
    if (vm.role === 'firewall-router' || !vm.agent || live?.status !== 'running' || live.config.net0 === undefined) continue;
    const segment = segmentOfBridge(seg.segments, parseNet(String(live.config.net0)).bridge ?? '');
    if (!segment?.internal || !segment.gateway || (vm.os !== 'debian-13' && vm.os !== 'haos')) continue;
    const targetKey = `vm/${vm.vmid}`;
    const must = async (name: string, probe: NetProbe, succeed: boolean) => {
      const result = await runNetProbe(pve, vm.vmid, probe);
      const ok = result.ok === succeed;
      probes.push({ name: `vm/${vm.vmid} in ${segment.name.toUpperCase()}: ${name}`, targetKey, ok, detail: ok ? (succeed ? 'succeeds' : `fails, as it must (${result.detail})`) : succeed ? result.detail : `${describeProbe(probe)} succeeded: the segment can reach what the matrix denies` });
    };
    if (vm.os === 'haos') {
      // Home Assistant OS has iproute2 and busybox ping, but no netcat.
      const held = await runNetProbe(pve, vm.vmid, { kind: 'addresses' });
      const addresses = held.ok ? parseAddresses(held.stdout).flatMap((i) => i.ipv4.map((a) => a.address)) : [];
      const inSegment = addresses.find((a) => cidrContains(segment.cidr, a));
      probes.push({ name: `vm/${vm.vmid} in ${segment.name.toUpperCase()}: an address in ${segment.cidr}`, targetKey, ok: inSegment !== undefined, detail: inSegment ?? (held.ok ? `has ${addresses.join(', ') || 'none'}` : held.detail) });
      await must(`reaches its gateway ${segment.gateway}`, { kind: 'ping', address: segment.gateway }, true);
      continue;
    }
    if (!canProbe(vm)) continue;
    await must(`reaches its gateway ${segment.gateway}`, { kind: 'ping', address: segment.gateway }, true);
    await must(`resolves ${seg.dnsCheckName}`, { kind: 'resolve', name: seg.dnsCheckName }, true);
    const resolved = await runNetProbe(pve, vm.vmid, { kind: 'resolve', name: seg.dnsCheckName });
    const internet = resolved.ok ? parseResolved(resolved.stdout)[0] : undefined;
    if (internet) await must(`reaches the internet (${seg.dnsCheckName} ${internet}:80)`, { kind: 'connect', address: internet, port: 80 }, true);
    if (seg.nodeAddress && seg.blockManagementFrom.includes(segment.name)) {
      for (const port of MANAGEMENT_PORTS) await must(`cannot reach Proxmox ${seg.nodeAddress}:${port}`, { kind: 'connect', address: seg.nodeAddress, port }, false);
    }
  }
  return probes;
}
