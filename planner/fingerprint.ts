// Per-target fingerprints of the live state: VM config digests (with run state), and SHA-256 of the normalised facts
// for everything else. Volatile values (usage, uptime, last-seen) are left out, so an idle lab keeps its fingerprint.
import { hashOf } from './hash.ts';
import type { Fact, LiveState } from './state.ts';

const short = (value: unknown) => hashOf(value).slice(0, 16);
const ofFact = <T>(fact: Fact<T>, f: (v: T) => unknown = (v) => v): string => (fact.known ? short(f(fact.value)) : 'unknown');

/** Every fingerprint key a state has, with its value. */
export function fingerprintState(state: LiveState, vmids: number[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const vmid of vmids) {
    const vm = state.vms[vmid];
    out[`vm/${vmid}`] = vm ? `digest=${vm.digest};status=${vm.status}` : state.vmReadFailures?.[vmid] ? 'unknown' : 'absent';
    const guest = state.guests[vmid];
    if (guest) out[`guest/${vmid}`] = ofFact(guest);
  }
  out.network = ofFact(state.network, (list) => list.map((b) => ({ ...b, active: undefined })));
  out.storage = ofFact(state.storages, (list) => list.map((s) => ({ ...s, used: undefined, total: undefined })));
  out['zfs/pools'] = ofFact(state.zfsPools, (list) => list.map((p) => ({ name: p.name, devices: p.devices, raidlevel: p.raidlevel })));
  out['zfs/datasets'] = ofFact(state.zfsDatasets, (list) => list.map((d) => ({ name: d.name, properties: d.properties, mountpoint: d.mountpoint })));
  out['zfs/snapshot-policies'] = ofFact(state.snapshotPolicies);
  out.mappings = ofFact(state.dirMappings);
  out.backup = ofFact(state.backupJobs);
  if (state.aptSources) out.apt = ofFact(state.aptSources);
  out.tailnet = ofFact(state.tailnet, (t) => ({
    devices: t.devices.map((d) => ({ hostname: d.hostname, authorized: d.authorized, advertisedRoutes: d.advertisedRoutes, enabledRoutes: d.enabledRoutes })),
    funnelTargets: t.funnelTargets,
  }));
  if (state.firewall.known) {
    const fw = state.firewall.value;
    out['firewall/cluster'] = short({ ...fw.cluster, digest: undefined });
    out['firewall/node'] = short(fw.node);
    for (const [vmid, vmFw] of Object.entries(fw.vms)) out[`firewall/vm/${vmid}`] = short(vmFw);
  } else {
    out['firewall/cluster'] = 'unknown';
  }
  return out;
}

const VMID_KEY = /^(vm|guest|firewall\/vm)\/(\d+)$/;

/**
 * Why each `unknown` fingerprint could not be read, for the keys whose read failed while the target was there to
 * read (an error answer, a timeout, a guest agent that did not answer): reading again may succeed. A guest whose VM
 * is absent or not running is left out: that is the VM's state, not a failed read.
 */
export function unreadableReasons(state: LiveState, fingerprints: Record<string, string>): Record<string, string> {
  const running = (vmid: number) => state.resources.known && state.resources.value.vms.some((vm) => vm.vmid === vmid && vm.status === 'running');
  const exists = (vmid: number) => state.resources.known && state.resources.value.vms.some((vm) => vm.vmid === vmid);
  const reasonOf = (fact: Fact<unknown>): string | undefined => (fact.known ? undefined : fact.reason);
  const facts: Record<string, Fact<unknown>> = {
    network: state.network,
    storage: state.storages,
    'zfs/pools': state.zfsPools,
    'zfs/datasets': state.zfsDatasets,
    'zfs/snapshot-policies': state.snapshotPolicies,
    mappings: state.dirMappings,
    backup: state.backupJobs,
    tailnet: state.tailnet,
    'firewall/cluster': state.firewall,
    'firewall/node': state.firewall,
  };
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(fingerprints)) {
    if (value !== 'unknown') continue;
    const byVmid = VMID_KEY.exec(key);
    let reason: string | undefined;
    if (!byVmid) reason = facts[key] ? reasonOf(facts[key]) : undefined;
    else {
      const vmid = Number(byVmid[2]);
      const guest = state.guests[vmid];
      if (byVmid[1] === 'vm') reason = state.vmReadFailures?.[vmid];
      else if (byVmid[1] === 'guest') reason = guest && running(vmid) ? reasonOf(guest) : undefined;
      else reason = reasonOf(state.firewall) ?? (exists(vmid) ? `the firewall of VM ${vmid} could not be read` : undefined);
    }
    if (reason !== undefined) out[key] = reason;
  }
  return out;
}
