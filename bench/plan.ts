// Benchmark of the planner: `plan phase2` against the simulator at 20 ms injected latency (median wall, dependent
// round trips on the critical path), buildPlan CPU time over a synthetic lab of 1,000 managed VMs, and Proxmox
// requests per plan against the `large` scenario (1,000 unmanaged VMs) vs the plain phase-0 lab. Run directly to
// print JSON.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { createProxmoxClient } from '../infra/proxmox/client.ts';
import { createAgentShell } from '../infra/proxmox/agent-shell.ts';
import { createTailnetClient } from '../infra/tailscale/client.ts';
import { FACT_READERS } from '../infra/facts/readers.ts';
import { Secret } from '../lib/secret.ts';
import { buildPlan, instrumentApi, scanLab, type ScanPorts } from '../planner/index.ts';
import { loadSpec } from '../planner/spec/load.ts';
import type { Spec } from '../planner/spec/schema.ts';
import { known, unknown, type LiveState, type LiveVm } from '../planner/state.ts';
import { startSim, type SimOptions } from '../sim/server.ts';
import { simHostShell } from '../app/sim-shells.ts';
import { SIM_SITE_FILE } from '../sim/server.ts';

export interface PlanBenchResult {
  /** Scan + plan as `jarvis plan phase2 --sim phase1` does it: inventory, guest probes and host probe in parallel. */
  planPhase2WallMs: number;
  /** Dependent Proxmox round trips of the inventory reads (resources, configs, firewall, storage…). */
  planPhase2CriticalRoundTrips: number;
  /** The guest-agent lane: exec plus exec-status polls (the agent shell's polling, in parallel with the inventory). */
  planPhase2AgentRoundTrips: number;
  /** The same plan with the in-guest/host probes left out (facts unknown): the API part alone. */
  planPhase2ApiOnlyWallMs: number;
  planPhase2Requests: number;
  plan1000VmsCpuMs: number;
  plan1000VmsActions: number;
  requestsPerPlanLarge1000: number;
  requestsPerPlanPhase0: number;
  runs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const specUrl = new URL('../specs/jarvis-homelab.desired.yaml', import.meta.url).pathname;

/** One scan + plan against a fresh simulator; returns wall time and the instrumented request figures. */
async function planOnce(
  spec: Spec,
  sha: string,
  phase: 'phase0' | 'phase2',
  sim: SimOptions,
  withShells = true,
): Promise<{ wallMs: number; requests: number; roundTrips: number; agentRoundTrips: number }> {
  const lab = await startSim(sim);
  const client = createProxmoxClient({ url: lab.url, node: lab.node, tokenId: lab.tokenId, tokenSecret: new Secret(lab.tokenSecret), fingerprint: lab.fingerprint });
  const tailnet = createTailnetClient({ baseUrl: lab.tailscaleUrl, tailnet: '-', apiKey: new Secret(lab.tailscaleApiKey) });
  // As `jarvis plan --sim`: guests and the node run their probes for real, so in-guest and host facts are read.
  const hostShell = withShells ? simHostShell(lab) : undefined;
  try {
    // Warm the TLS and SSH connections so the figure is the planner's, not the handshakes'.
    await client.version();
    await hostShell?.exec('true');
    const { api, stats } = instrumentApi(client);
    const names = new Map(spec.vms.map((vm) => [vm.vmid, vm.name]));
    const ports: ScanPorts = {
      pve: api,
      tailnet,
      ...(hostShell
        ? {
            hostShell,
            facts: FACT_READERS,
            guestShell: (vmid: number) => (names.has(vmid) ? createAgentShell(api, vmid, names.get(vmid)!) : undefined),
          }
        : {}),
    };
    const started = performance.now();
    const state = await scanLab(ports, spec, phase === 'phase0' ? 0 : 2);
    buildPlan({ spec, specPath: 'specs/jarvis-homelab.desired.yaml', specSha256: sha, phase, state, requestedBy: 'bench', now: new Date(0).toISOString(), id: 'bench' });
    const wallMs = performance.now() - started;
    const s = stats();
    return { wallMs, requests: s.requests, roundTrips: s.inventoryRoundTrips, agentRoundTrips: s.agentRoundTrips };
  } finally {
    await hostShell?.close();
    await client.close();
    await tailnet.close();
    await lab.close();
  }
}

/** A spec with `count` app-host-like VMs and a live state where every tenth one drifted (memory). */
function syntheticLab(base: Spec, count: number): { spec: Spec; state: LiveState } {
  const template = base.vms.find((vm) => vm.vmid === 300)!;
  const vms = Array.from({ length: count }, (_, i) => ({ ...structuredClone(template), vmid: 1000 + i, name: `app-${i}`, provision: undefined, overrides: undefined }));
  const spec: Spec = { ...structuredClone(base), vms, migrations: [], backups: { jobs: [] }, firewall: undefined, network: { bridges: [] }, storage: undefined };
  const liveVms: Record<number, LiveVm> = {};
  for (const vm of vms) {
    liveVms[vm.vmid] = {
      vmid: vm.vmid,
      node: 'proxmox',
      status: 'running',
      digest: `d${vm.vmid}`,
      config: {
        name: vm.name,
        cores: vm.cores,
        sockets: 1,
        memory: String(vm.vmid % 10 === 0 ? vm.memory / 2 : vm.memory),
        scsihw: vm.scsihw,
        ostype: 'l26',
        agent: '1',
        onboot: 1,
        description: vm.description ?? '',
        tags: [...vm.tags].reverse().join(';'),
        scsi0: `local-lvm:vm-${vm.vmid}-disk-0,cache=none,discard=on,iothread=1,size=128G,ssd=1`,
        net0: `virtio=BC:24:11:00:${String(vm.vmid % 100).padStart(2, '0')}:00,bridge=vmbr0,firewall=1`,
      },
    };
  }
  const state: LiveState = {
    node: 'proxmox',
    resources: known({ vms: [], storages: [] }),
    vms: liveVms,
    network: known([]),
    storages: known([{ storage: 'local-lvm', type: 'lvmthin', content: ['images'], disable: false }]),
    disks: known([]),
    zfsPools: known([]),
    zfsDatasets: unknown('bench'),
    snapshotPolicies: unknown('bench'),
    dirMappings: known([]),
    firewall: known({ cluster: { options: {}, rules: [], groups: [], ipsets: [], aliases: [] }, node: { options: {}, rules: [] }, vms: {} }),
    backupJobs: known([]),
    tailnet: known({ devices: [], funnelTargets: [] }),
    guests: {},
  };
  return { spec, state };
}

export async function benchPlan(runs = 5): Promise<PlanBenchResult> {
  const { spec, source } = await loadSpec(specUrl, { site: SIM_SITE_FILE });
  const phase2 = [];
  const apiOnly = [];
  for (let i = 0; i < runs; i++) {
    phase2.push(await planOnce(spec, source.sha256, 'phase2', { scenario: 'phase1', latencyMs: 20 }));
    apiOnly.push(await planOnce(spec, source.sha256, 'phase2', { scenario: 'phase1', latencyMs: 20 }, false));
  }

  const synthetic = syntheticLab(spec, 1000);
  const cpu: number[] = [];
  let actions = 0;
  for (let i = 0; i < runs; i++) {
    const before = process.cpuUsage();
    const plan = buildPlan({ spec: synthetic.spec, specPath: 'synthetic', specSha256: 'synthetic', phase: 'phase0', state: synthetic.state, requestedBy: 'bench', now: new Date(0).toISOString(), id: 'bench' });
    const used = process.cpuUsage(before);
    cpu.push((used.user + used.system) / 1000);
    actions = plan.actions.length;
  }

  // Request counts without the agent lane, whose status polls depend on timing rather than on the lab.
  const large = await planOnce(spec, source.sha256, 'phase0', { scenario: 'large', largeCount: 1000 }, false);
  const small = await planOnce(spec, source.sha256, 'phase0', { scenario: 'phase0' }, false);
  return {
    planPhase2WallMs: Math.round(median(phase2.map((r) => r.wallMs))),
    planPhase2CriticalRoundTrips: Math.max(...phase2.map((r) => r.roundTrips)),
    planPhase2AgentRoundTrips: Math.max(...phase2.map((r) => r.agentRoundTrips)),
    planPhase2ApiOnlyWallMs: Math.round(median(apiOnly.map((r) => r.wallMs))),
    planPhase2Requests: median(phase2.map((r) => r.requests)),
    plan1000VmsCpuMs: Math.round(median(cpu)),
    plan1000VmsActions: actions,
    requestsPerPlanLarge1000: large.requests,
    requestsPerPlanPhase0: small.requests,
    runs,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${JSON.stringify(await benchPlan(), null, 2)}\n`);
}
