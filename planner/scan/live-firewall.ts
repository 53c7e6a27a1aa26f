// readLiveFirewall: the datacenter and node firewall as the scan reads them, and nothing else (no VM, storage, guest
// or tailnet reads): what apply needs to run the lock-out guardrail again (planner/recheck.ts) right before writing.
import type { DesiredState } from '../desired-state.ts';
import type { Fact, LiveFirewall } from '../state.ts';
import { scanDesired, type ScanPorts } from './index.ts';

export async function readLiveFirewall(ports: ScanPorts, desired: DesiredState): Promise<Fact<LiveFirewall>> {
  const firewallOnly: DesiredState = {
    ...desired,
    scope: 'firewall',
    vms: [],
    bridges: [],
    zfs: { pools: [], datasets: [], snapshots: [] },
    storages: [],
    migrations: [],
    backupJobs: [],
    firewall: { ...desired.firewall, vms: {} },
  };
  return (await scanDesired({ pve: ports.pve }, firewallOnly)).firewall;
}
