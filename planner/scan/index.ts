// scanLab: the live state through the ports, in as few dependent round trips as the API allows (peer-performance §2).
//  Round 1 (parallel, fixed count): /cluster/resources, /storage, /cluster/backup, the datacenter firewall (options,
//    rules, groups, IP sets, aliases), node network/disks/ZFS/firewall, directory mappings, tailnet devices + policy;
//    in-guest facts start here too (speculatively, for the spec's provisioned VMs) so their own round trips overlap.
//  Round 2 (parallel, one per thing the spec names that exists): VM configs and VM firewalls, group rules, IP set
//    entries, ZFS pool details.
// Scan cost follows the spec, not the lab: nothing is read per unmanaged VM. A read that fails becomes `unknown` with
// its reason; only an unreachable lab aborts the scan.
import type { ProxmoxApi } from '../../infra/proxmox/api.ts';
import type { NetProbe } from '../../lib/net-checks.ts';
import type { RemoteShell } from '../../infra/shell.ts';
import type { TailnetApi } from '../../infra/tailscale/api.ts';
import { UnreachableError } from '../../lib/errors.ts';
import type { Spec } from '../spec/schema.ts';
import { resolvePhase } from '../resolve.ts';
import type { DesiredState, PhaseNumber } from '../desired-state.ts';
import { bootMedia } from '../boot-media.ts';
import { routerProbes } from '../router.ts';
import { canProbe, lanProber } from '../segments.ts';
import {
  known,
  unknown,
  type Fact,
  type GuestFacts,
  type LiveAptSources,
  type LiveDataset,
  type LiveVolume,
  type LiveFirewall,
  type LiveSnapshotPolicy,
  type LiveState,
  type LiveVm,
} from '../state.ts';
import * as N from './normalize.ts';

export interface FactReaders {
  guest: (shell: RemoteShell) => Promise<GuestFacts>;
  host: (shell: RemoteShell) => Promise<{ datasets: LiveDataset[]; snapshotPolicies: LiveSnapshotPolicy[] }>;
  /** A published checksum list (SHA512SUMS) fetched by the node: file name → sum. */
  publishedSums?: (shell: RemoteShell, url: string) => Promise<Record<string, string>>;
  /** The node's apt sources and the repositories apt has credentials for. */
  aptSources?: (shell: RemoteShell) => Promise<LiveAptSources>;
  /** One in-guest network check through the guest agent (infra/facts/net-probe.ts). */
  netProbe?: (pve: ProxmoxApi, vmid: number, probe: NetProbe) => Promise<{ ok: boolean; detail: string }>;
}

export interface ScanPorts {
  pve: ProxmoxApi;
  hostShell?: RemoteShell;
  guestShell?: (vmid: number) => RemoteShell | undefined;
  tailnet?: TailnetApi;
  /** In-guest and host fact readers (infra/facts); without them those facts are unknown. */
  facts?: FactReaders;
}

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 300);

/** Runs a read; a failure becomes `unknown` (an unreachable lab is rethrown: there is nothing to plan against). */
async function attempt<T>(read: () => Promise<T>): Promise<Fact<T>> {
  try {
    return known(await read());
  } catch (error) {
    if (error instanceof UnreachableError) throw error;
    return unknown(reasonOf(error));
  }
}

const NOT_NEEDED = 'not scanned: the spec does not use it in this phase';

/** What the desired state needs read, so the scan stays proportional to the spec. */
function needs(desired: DesiredState) {
  const full = desired.scope === 'full';
  // Home Assistant OS gets no in-guest probe: it has no shell for it (its manual steps are observed in the tailnet).
  const provisioned = desired.vms.filter((vm) => vm.os !== 'haos' && (vm.provision?.tailscale || vm.provision?.docker));
  const migrationVmids = desired.migrations.flatMap((m) => (m.vmid !== undefined && m.via === 'virtiofs' ? [m.vmid] : []));
  // Phase 2 looks into every Debian guest too: its routes and netcat, which the network checks need.
  const checkers = desired.segmentation ? desired.vms.filter(canProbe).map((vm) => vm.vmid) : [];
  const guestVmids = [...new Set([...provisioned.map((vm) => vm.vmid), ...migrationVmids, ...checkers])].sort((a, b) => a - b);
  const router = desired.segmentation ? desired.vms.find((vm) => vm.role === 'firewall-router') : undefined;
  const lan = desired.segmentation?.segments.find((s) => !s.internal);
  const prober = router ? lanProber(desired.vms, lan?.bridge) : undefined;
  return {
    full,
    network: full,
    disks: full && desired.zfs.pools.length > 0,
    zfs: full && (desired.zfs.pools.length > 0 || desired.zfs.datasets.length > 0),
    hostFacts: full && (desired.zfs.datasets.length > 0 || desired.zfs.snapshots.length > 0),
    mappings: full && desired.migrations.some((m) => m.via === 'virtiofs'),
    tailnet: full && desired.vms.some((vm) => vm.provision?.tailscale),
    guestVmids,
    /** Cloud-image VMs: their import volumes and vendor-data snippets on the image storage are read. */
    storageContent: full && desired.vms.some((vm) => vm.os === 'debian-13' || vm.os === 'opnsense'),
    /** Package installs on the node (sanoid) need its apt sources to work. */
    aptSources: full && desired.zfs.snapshots.length > 0,
    ownInstalls: desired.vms.filter((vm) => (vm.os === 'none' || vm.os === 'opnsense') && vm.agent && vm !== router).map((vm) => vm.vmid),
    /** Phase 2: the router gate, checked from this LAN guest. */
    routerGate: router && prober ? { router: router.vmid, prober: prober.vmid, probes: routerProbes(desired.segmentation!) } : undefined,
    vmids: [...new Set([...desired.vms.map((vm) => vm.vmid), ...Object.keys(desired.firewall.vms).map(Number)])].sort((a, b) => a - b),
  };
}

function skipped<T>(): Promise<Fact<T>> {
  return Promise.resolve(unknown<T>(NOT_NEEDED));
}

export async function scanLab(ports: ScanPorts, spec: Spec, phase: PhaseNumber): Promise<LiveState> {
  return scanDesired(ports, resolvePhase(spec, phase));
}

export async function scanDesired(ports: ScanPorts, desired: DesiredState): Promise<LiveState> {
  const { pve } = ports;
  const need = needs(desired);

  // Round 1.
  const guestFacts = startGuestFacts(ports, need.guestVmids);
  const hostFacts = need.hostFacts ? startHostFacts(ports) : undefined;
  const aptSources = need.aptSources ? readWithHost(ports, 'the apt sources', (shell, readers) => readers.aptSources?.(shell)) : undefined;
  const [resources, storageConfigs, backupJobs, fwOptions, fwRules, fwGroups, fwIpsets, fwAliases, network, diskList, zfsList, nodeFwOptions, nodeFwRules, mappings, devices, policy] =
    await Promise.all([
      attempt(() => pve.clusterResources()),
      need.full ? attempt(() => pve.listStorage()) : skipped<Awaited<ReturnType<ProxmoxApi['listStorage']>>>(),
      need.full ? attempt(() => pve.listBackupJobs()) : skipped<Awaited<ReturnType<ProxmoxApi['listBackupJobs']>>>(),
      attempt(() => pve.firewallOptions({ level: 'cluster' })),
      attempt(() => pve.firewallRules({ level: 'cluster' })),
      attempt(() => pve.firewallGroups()),
      attempt(() => pve.firewallIpsets()),
      attempt(() => pve.firewallAliases()),
      need.network ? attempt(() => pve.listNetwork()) : skipped<Awaited<ReturnType<ProxmoxApi['listNetwork']>>>(),
      need.disks ? attempt(() => pve.listDisks()) : skipped<Awaited<ReturnType<ProxmoxApi['listDisks']>>>(),
      need.zfs ? attempt(() => pve.listZfsPools()) : skipped<Awaited<ReturnType<ProxmoxApi['listZfsPools']>>>(),
      attempt(() => pve.firewallOptions({ level: 'node' })),
      attempt(() => pve.firewallRules({ level: 'node' })),
      need.mappings ? attempt(() => pve.listDirMappings()) : skipped<Awaited<ReturnType<ProxmoxApi['listDirMappings']>>>(),
      need.tailnet && ports.tailnet ? attempt(() => ports.tailnet!.listDevices()) : skipped<Awaited<ReturnType<TailnetApi['listDevices']>>>(),
      need.tailnet && ports.tailnet ? attempt(() => ports.tailnet!.getPolicy()) : skipped<Awaited<ReturnType<TailnetApi['getPolicy']>>>(),
    ]);
  if (!resources.known) throw new UnreachableError(`cannot read /cluster/resources: ${resources.reason}`);

  const vmResources = N.vmResources(resources.value);
  const existing = need.vmids.filter((vmid) => vmResources.some((r) => r.vmid === vmid));
  const specPools = desired.zfs.pools.map((p) => p.name);
  const poolsToDetail = zfsList.known ? zfsList.value.filter((p) => specPools.includes(p.name)).map((p) => p.name) : [];

  // Round 2.
  const creating = desired.vms.filter((vm) => !vmResources.some((r) => r.vmid === vm.vmid));
  const [configs, vmFirewalls, groupRules, ipsetEntries, poolDetails, storageContent, publishedSums, agentAnswers, routerGate] = await Promise.all([
    Promise.all(existing.map((vmid) => attempt(() => pve.vmConfig(vmid)))),
    Promise.all(
      existing.map((vmid) =>
        Promise.all([attempt(() => pve.firewallOptions({ level: 'vm', vmid })), attempt(() => pve.firewallRules({ level: 'vm', vmid }))]),
      ),
    ),
    fwGroups.known ? Promise.all(fwGroups.value.map((g) => attempt(() => pve.firewallGroupRules(g.group)))) : Promise.resolve([]),
    fwIpsets.known ? Promise.all(fwIpsets.value.map((s) => attempt(() => pve.firewallIpsetEntries(s.name)))) : Promise.resolve([]),
    Promise.all(poolsToDetail.map((name) => attempt(() => pve.zfsPoolDetail(name)))),
    need.storageContent ? readStorageContent(pve, storageConfigs) : undefined,
    readPublishedSums(ports, creating),
    Promise.all(need.ownInstalls.map((vmid) => agentAnswer(pve, vmid, vmResources.find((r) => r.vmid === vmid)?.status))),
    need.routerGate ? readRouterGate(ports, need.routerGate, vmResources) : undefined,
  ]);

  const vms: Record<number, LiveVm> = {};
  const configFailures: string[] = [];
  existing.forEach((vmid, i) => {
    const res = vmResources.find((r) => r.vmid === vmid)!;
    const config = configs[i]!;
    if (!config.known) {
      configFailures.push(`vm/${vmid}: ${config.reason}`);
      return;
    }
    const { digest: _digest, ...rest } = config.value.config as Record<string, string | number>;
    vms[vmid] = { vmid, node: res.node, status: res.status, ...(res.lock ? { lock: res.lock } : {}), config: rest, digest: config.value.digest };
  });

  const usage = N.storageUsage(resources.value, pve.node);
  const firewall = buildFirewall({ fwOptions, fwRules, fwGroups, fwIpsets, fwAliases, nodeFwOptions, nodeFwRules, groupRules, ipsetEntries }, existing, vmFirewalls);
  const host = hostFacts ? await hostFacts : undefined;
  const guests = await finishGuestFacts(guestFacts, vmResources);

  return {
    node: pve.node,
    resources: known({ vms: vmResources, storages: usage }),
    vms,
    vmReadFailures: Object.fromEntries(configFailures.map((line) => [Number(line.slice(3, line.indexOf(':'))), line.slice(line.indexOf(':') + 2)])),
    network: map(network, N.bridges),
    storages: map(storageConfigs, (list) => N.storages(list, usage)),
    disks: map(diskList, N.disks),
    zfsPools: zfsList.known
      ? known(
          zfsList.value.map((summary) => {
            const index = poolsToDetail.indexOf(summary.name);
            const detail = index >= 0 ? poolDetails[index] : undefined;
            return N.zfsPool(summary, detail?.known ? detail.value : undefined);
          }),
        )
      : unknown(zfsList.reason),
    zfsDatasets: host ? map(host, (h) => h.datasets) : unknown(hostReason(ports, need.hostFacts)),
    snapshotPolicies: host ? map(host, (h) => h.snapshotPolicies) : unknown(hostReason(ports, need.hostFacts)),
    dirMappings: map(mappings, (list) => N.dirMappings(list, pve.node)),
    firewall,
    backupJobs: map(backupJobs, N.backupJobs),
    tailnet:
      devices.known && policy.known
        ? known(N.tailnet(devices.value, policy.value))
        : unknown(!devices.known ? devices.reason : policy.known ? NOT_NEEDED : policy.reason),
    guests,
    ...(storageContent ? { storageContent } : {}),
    publishedSums,
    ...(aptSources ? { aptSources: await aptSources } : {}),
    agentAnswers: Object.fromEntries(need.ownInstalls.flatMap((vmid, i) => (agentAnswers[i] ? [[vmid, agentAnswers[i]]] : []))),
    ...(routerGate ? { routerGate } : {}),
  };
}

/**
 * The router gate as the LAN guest sees it: every probe (the router's LAN address, then each internal gateway through
 * it) must answer. Not ready while the router or the guest does not run; unknown when the guest cannot be asked.
 */
async function readRouterGate(
  ports: ScanPorts,
  gate: { router: number; prober: number; probes: NetProbe[] },
  vmResources: ReturnType<typeof N.vmResources>,
): Promise<Fact<{ ready: boolean; detail: string }>> {
  const status = (vmid: number) => vmResources.find((r) => r.vmid === vmid)?.status;
  if (status(gate.router) !== 'running') return known({ ready: false, detail: `VM ${gate.router} is ${status(gate.router) ?? 'not created yet'}` });
  if (status(gate.prober) !== 'running') return unknown(`VM ${gate.prober}, which checks the router, is ${status(gate.prober) ?? 'not created yet'}`);
  const probe = ports.facts?.netProbe;
  if (!probe) return unknown('no in-guest network check reader');
  return attempt(async () => {
    for (const check of gate.probes) {
      const result = await probe(ports.pve, gate.prober, check);
      if (!result.ok) return { ready: false, detail: `from VM ${gate.prober}: ${result.detail}` };
    }
    return { ready: true, detail: `from VM ${gate.prober}: ${gate.probes.length} check(s) pass` };
  });
}

/** `import`, `snippets` and `iso` volumes of every storage that may hold them (one read each, side by side). */
async function readStorageContent(pve: ProxmoxApi, configs: Fact<Awaited<ReturnType<ProxmoxApi['listStorage']>>>): Promise<Fact<LiveVolume[]>> {
  if (!configs.known) return unknown(configs.reason);
  const holders = configs.value.filter((s) => /(^|,)(import|snippets|iso)(,|$)/.test(s.content ?? ''));
  const lists = await Promise.all(holders.map((s) => attempt(() => pve.storageContent(s.storage))));
  const failed = lists.find((l) => !l.known);
  if (failed && !failed.known) return unknown(failed.reason);
  const kept = new Set(['import', 'snippets', 'iso']);
  return known(lists.flatMap((l) => (l.known ? l.value : [])).filter((v) => kept.has(v.content)).map((v) => ({ volid: v.volid, content: v.content, ...(v.size !== undefined ? { size: v.size } : {}) })));
}

/** The published sums the cloud images of the VMs to create are verified against, read by the node. */
async function readPublishedSums(ports: ScanPorts, creating: DesiredState['vms']): Promise<Record<string, Fact<Record<string, string>>>> {
  const urls = [...new Set(creating.flatMap((vm) => {
    const media = bootMedia(vm);
    return (media.kind === 'cloud-image' || media.kind === 'installer') && media.sums ? [media.sums] : [];
  }))];
  const facts = await Promise.all(urls.map((url) => readWithHost(ports, url, (shell, readers) => readers.publishedSums?.(shell, url))));
  return Object.fromEntries(urls.map((url, i) => [url, facts[i]!]));
}

/** A read through the node's shell; without a shell or a reader it is unknown, with the reason. */
function readWithHost<T>(ports: ScanPorts, what: string, read: (shell: RemoteShell, readers: FactReaders) => Promise<T> | undefined): Promise<Fact<T>> {
  if (!ports.hostShell) return Promise.resolve(unknown(`no shell on the Proxmox host (SSH to the node is not configured) to read ${what}`));
  const pending = ports.facts ? read(ports.hostShell, ports.facts) : undefined;
  if (!pending) return Promise.resolve(unknown(`no reader for ${what}`));
  return attempt(() => pending);
}

/** For an `os: none` VM that runs: does its guest agent answer (the owner's install is done)? */
async function agentAnswer(pve: ProxmoxApi, vmid: number, status: string | undefined): Promise<Fact<boolean> | undefined> {
  if (status !== 'running') return undefined;
  try {
    await pve.agentPing(vmid);
    return known(true);
  } catch (error) {
    if (error instanceof UnreachableError) throw error;
    return known(false);
  }
}

const hostReason = (ports: ScanPorts, needed: boolean): string =>
  !needed ? NOT_NEEDED : !ports.hostShell ? 'no shell on the Proxmox host (SSH to the node is not configured)' : 'no host fact reader';

function map<T, U>(fact: Fact<T>, f: (value: T) => U): Fact<U> {
  return fact.known ? known(f(fact.value)) : unknown(fact.reason);
}

function startHostFacts(ports: ScanPorts): Promise<Fact<{ datasets: LiveDataset[]; snapshotPolicies: LiveSnapshotPolicy[] }>> | undefined {
  if (!ports.hostShell || !ports.facts) return undefined;
  const { hostShell, facts } = ports;
  return attempt(() => facts.host(hostShell));
}

function startGuestFacts(ports: ScanPorts, vmids: number[]): Map<number, Promise<Fact<GuestFacts>> | string> {
  const out = new Map<number, Promise<Fact<GuestFacts>> | string>();
  for (const vmid of vmids) {
    const shell = ports.guestShell?.(vmid);
    if (!shell) out.set(vmid, 'no way into the guest (agent or SSH) is configured');
    else if (!ports.facts) out.set(vmid, 'no guest fact reader');
    else out.set(vmid, attempt(() => ports.facts!.guest(shell)));
  }
  return out;
}

async function finishGuestFacts(
  started: Map<number, Promise<Fact<GuestFacts>> | string>,
  vmResources: ReturnType<typeof N.vmResources>,
): Promise<Record<number, Fact<GuestFacts>>> {
  const out: Record<number, Fact<GuestFacts>> = {};
  for (const [vmid, pending] of started) {
    const res = vmResources.find((r) => r.vmid === vmid);
    const result = typeof pending === 'string' ? unknown<GuestFacts>(pending) : await pending;
    if (!res) out[vmid] = unknown('the VM does not exist yet');
    else if (res.status !== 'running') out[vmid] = unknown(`the VM is ${res.status}`);
    else out[vmid] = result;
  }
  return out;
}

type FwInputs = {
  fwOptions: Fact<Record<string, string | number>>;
  fwRules: Fact<Parameters<typeof N.firewallRules>[0]>;
  fwGroups: Fact<Array<{ group: string; comment?: string }>>;
  fwIpsets: Fact<Array<{ name: string; comment?: string }>>;
  fwAliases: Fact<Array<{ name: string; cidr: string; comment?: string }>>;
  nodeFwOptions: Fact<Record<string, string | number>>;
  nodeFwRules: Fact<Parameters<typeof N.firewallRules>[0]>;
  groupRules: Array<Fact<Parameters<typeof N.firewallRules>[0]>>;
  ipsetEntries: Array<Fact<Array<{ cidr: string; nomatch?: number; comment?: string }>>>;
};

function buildFirewall(
  fw: FwInputs,
  vmids: number[],
  vmFirewalls: Array<[Fact<Record<string, string | number>>, Fact<Parameters<typeof N.firewallRules>[0]>]>,
): Fact<LiveFirewall> {
  const failures = [
    ['cluster options', fw.fwOptions],
    ['cluster rules', fw.fwRules],
    ['security groups', fw.fwGroups],
    ['IP sets', fw.fwIpsets],
    ['aliases', fw.fwAliases],
    ['node options', fw.nodeFwOptions],
    ['node rules', fw.nodeFwRules],
    ...fw.groupRules.map((f, i) => [`group ${fw.fwGroups.known ? fw.fwGroups.value[i]!.group : i} rules`, f] as const),
    ...fw.ipsetEntries.map((f, i) => [`IP set ${fw.fwIpsets.known ? fw.fwIpsets.value[i]!.name : i} entries`, f] as const),
  ].filter(([, f]) => !(f as Fact<unknown>).known) as Array<[string, { known: false; reason: string }]>;
  if (failures.length > 0) return unknown(failures.map(([what, f]) => `${what}: ${f.reason}`).join('; '));
  const value = <T,>(f: Fact<T>): T => (f as { value: T }).value;
  const rulesDigest = value(fw.fwRules).find((r) => r.digest)?.digest;
  const vms: LiveFirewall['vms'] = {};
  vmids.forEach((vmid, i) => {
    const [options, rules] = vmFirewalls[i]!;
    // A VM firewall that cannot be read is left out; the diff reports it as unknown for that VM.
    if (options.known && rules.known) vms[vmid] = { options: options.value, rules: N.firewallRules(rules.value) };
  });
  return known({
    cluster: {
      options: value(fw.fwOptions),
      rules: N.firewallRules(value(fw.fwRules)),
      groups: value(fw.fwGroups).map((g, i) => ({
        group: g.group,
        ...(g.comment ? { comment: g.comment } : {}),
        rules: N.firewallRules(value(fw.groupRules[i]!)),
      })),
      ipsets: value(fw.fwIpsets).map((s, i) => ({
        name: s.name,
        ...(s.comment ? { comment: s.comment } : {}),
        cidrs: value(fw.ipsetEntries[i]!).map((e) => e.cidr).sort(),
      })),
      aliases: value(fw.fwAliases).map((a) => ({ name: a.name, cidr: a.cidr, ...(a.comment ? { comment: a.comment } : {}) })),
      ...(rulesDigest ? { digest: rulesDigest } : {}),
    },
    node: { options: value(fw.nodeFwOptions), rules: N.firewallRules(value(fw.nodeFwRules)) },
    vms,
  });
}
