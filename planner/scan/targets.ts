// readTargets: re-reads only the targets an apply is about to touch and fingerprints them the same way the plan did
// (apply's stale check), saying which could not be read and why. A full scan is not needed: each key maps to its own
// small set of reads.
import type { LiveState } from '../state.ts';
import { unknown } from '../state.ts';
import { fingerprintState, unreadableReasons } from '../fingerprint.ts';
import { resolvePhase } from '../resolve.ts';
import type { DesiredState } from '../desired-state.ts';
import type { Spec } from '../spec/schema.ts';
import { scanDesired, type ScanPorts } from './index.ts';

/** A desired state that makes the scan read exactly what `keys` name. */
function desiredFor(spec: Spec, keys: string[]): DesiredState {
  const full = resolvePhase(spec, spec.metadata.maxPhase as 0 | 1 | 2);
  const vmids = new Set(keys.flatMap((k) => (/^(?:vm|guest|firewall\/vm)\/(\d+)$/.exec(k) ? [Number(/(\d+)$/.exec(k)![1])] : [])));
  // The tailnet is read when some VM joins it, so `tailnet` keeps those VMs' Tailscale provisioning in view.
  const wanted = (vm: (typeof full.vms)[number]) => vmids.has(vm.vmid) || (keys.includes('tailnet') && vm.provision?.tailscale !== undefined);
  const vms = full.vms
    .filter(wanted)
    .map((vm) => (keys.includes(`guest/${vm.vmid}`) || (keys.includes('tailnet') && vm.provision?.tailscale) ? vm : { ...vm, provision: undefined }));
  return {
    ...full,
    scope: 'full',
    vms,
    bridges: keys.includes('network') ? full.bridges : [],
    zfs: {
      pools: keys.includes('zfs/pools') ? full.zfs.pools : [],
      datasets: keys.includes('zfs/datasets') || keys.includes('zfs/snapshot-policies') ? full.zfs.datasets : [],
      // The apt sources are read when snapshot policies (sanoid from apt) are wanted.
      snapshots: keys.includes('zfs/snapshot-policies') || keys.includes('apt') ? full.zfs.snapshots : [],
    },
    migrations: keys.includes('mappings') ? full.migrations : [],
    firewall: { ...full.firewall, vms: Object.fromEntries(Object.entries(full.firewall.vms).filter(([vmid]) => vmids.has(Number(vmid)))) },
  };
}

export interface TargetReading {
  /** Fingerprint per requested key; `unknown` when it could not be read. */
  fingerprints: Record<string, string>;
  /** Keys whose read failed while the target was there to read, with the cause: reading again may succeed. */
  unreadable: Record<string, string>;
}

export async function readTargets(ports: ScanPorts, keys: string[], spec: Spec): Promise<TargetReading> {
  const desired = desiredFor(spec, keys);
  const state: LiveState = await scanDesired(ports, desired);
  if (!keys.includes('tailnet')) state.tailnet = unknown('not requested');
  const vmids = [...new Set(keys.flatMap((k) => (/(\d+)$/.exec(k) && /^(vm|guest|firewall\/vm)\//.test(k) ? [Number(/(\d+)$/.exec(k)![1])] : [])))];
  const all = fingerprintState(state, vmids);
  const fingerprints = Object.fromEntries(keys.map((k) => [k, all[k] ?? 'unknown']));
  return { fingerprints, unreadable: unreadableReasons(state, fingerprints) };
}
