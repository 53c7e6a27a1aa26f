// Builders for plans and apply contexts in engine tests.
import { createHash } from 'node:crypto';
import { Journal } from '../../../deploy/journal.ts';
import type { ApplyContext, ApplyEvent, ValidationReport } from '../../../deploy/types.ts';
import type { SecretSource, Step } from '../../../deploy/steps/types.ts';
import { Secret } from '../../../lib/secret.ts';
import type { TargetReading } from '../../../planner/index.ts';
import { PLAN_FORMAT_VERSION, type Plan, type PlanAction, type PveRequest } from '../../../planner/plan.ts';
import type { FakePve } from './fake-pve.ts';

export const NODE = 'proxmox';

export function action(id: string, overrides: Partial<PlanAction> = {}): PlanAction {
  return {
    id,
    type: 'vm.update',
    kind: 'update',
    channel: 'pve',
    target: id,
    targetKey: `key/${id}`,
    risk: 'low',
    preSnapshot: false,
    rollbackHint: `undo ${id} by hand`,
    expectedDowntime: 'none',
    expectedDowntimeSeconds: 0,
    dependsOn: [],
    changes: [],
    params: { channel: 'pve', requests: [] },
    commitConfirm: false,
    ...overrides,
  };
}

export const createVmRequest = (vmid: number, extra: Record<string, string | number> = {}): PveRequest => ({
  method: 'POST',
  path: `/nodes/${NODE}/qemu`,
  params: { vmid, name: `vm${vmid}`, memory: 1024, ...extra },
  async: true,
});

export const startVmRequest = (vmid: number): PveRequest => ({ method: 'POST', path: `/nodes/${NODE}/qemu/${vmid}/status/start`, params: {}, async: true });

export function vmCreateAction(vmid: number, overrides: Partial<PlanAction> = {}): PlanAction {
  return action(`vm.create:${vmid}`, {
    type: 'vm.create',
    kind: 'create',
    target: `vm/${vmid}`,
    targetKey: `vm/${vmid}`,
    params: { channel: 'pve', requests: [createVmRequest(vmid)] },
    ...overrides,
  });
}

export function plan(actions: PlanAction[], overrides: Partial<Plan> = {}): Plan {
  const planHash = createHash('sha256').update(JSON.stringify(actions)).digest('hex');
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    id: `p-${planHash.slice(0, 8)}`,
    createdAt: '2026-11-26T00:00:00.000Z',
    requestedBy: 'cli:tester',
    phase: 'phase0',
    node: NODE,
    spec: { path: 'specs/test.yaml', sha256: 'f'.repeat(64) },
    stateFingerprint: {},
    planHash,
    summary: {
      create: 0,
      update: actions.length,
      delete: 0,
      replace: 0,
      noop: 0,
      byRisk: { low: actions.length, medium: 0, high: 0, critical: 0 },
      maxRisk: 'low',
      expectedDowntime: 'none',
      expectedDowntimeSeconds: 0,
    },
    unknowns: [],
    warnings: [],
    violations: [],
    actions,
    ...overrides,
  };
}

/** Fingerprints over the fake: a VM's config digest (or `absent`), a hash of a firewall level, else a constant. */
export function fakeFingerprint(pve: FakePve): (keys: string[]) => Promise<TargetReading> {
  return async (keys) => {
    const out: Record<string, string> = {};
    for (const key of keys) {
      const vm = /^vm\/(\d+)$/.exec(key);
      if (vm) out[key] = pve.vms.has(Number(vm[1])) ? pve.digest(Number(vm[1])) : 'absent';
      else if (key.startsWith('firewall/')) out[key] = createHash('sha1').update(JSON.stringify([...pve.firewall.entries()])).digest('hex');
      else out[key] = 'same';
    }
    return { fingerprints: out, unreadable: {} };
  };
}

/** The fingerprints a planner would have recorded for `p` against the fake right now. */
export async function withFingerprints(p: Plan, pve: FakePve): Promise<Plan> {
  const keys = [...new Set(p.actions.map((a) => a.targetKey))];
  return { ...p, stateFingerprint: (await fakeFingerprint(pve)(keys)).fingerprints };
}

export const noSecrets: SecretSource = {
  get(name: string): Secret {
    throw new Error(`no secret ${name} in this test`);
  },
};

export interface TestContext extends ApplyContext {
  events: ApplyEvent[];
}

export function context(pve: FakePve, journal: Journal, overrides: Partial<ApplyContext> = {}): TestContext {
  const events: ApplyEvent[] = [];
  const ctx: TestContext = {
    events,
    pve,
    shells: { guest: () => undefined },
    steps: (id: string): Step => {
      throw new Error(`no step ${id} in this test`);
    },
    stepSecrets: noSecrets,
    journal,
    fingerprint: fakeFingerprint(pve),
    validate: async (): Promise<ValidationReport> => ({ remaining: [], probes: [] }),
    // These plans are made by hand, not from a spec: the guardrails find nothing unless a test says otherwise.
    guardrails: async () => [],
    requester: 'cli:tester',
    via: 'cli',
    approved: true,
    dryRun: false,
    onProgress: (event) => events.push(event),
    probeManagement: async () => ({ ok: true, detail: 'reachable' }),
    confirmWindowMs: 300,
    firewallCycleMs: 30,
    snapshotRetention: 3,
    concurrency: 3,
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 20))),
    ...overrides,
  };
  return ctx;
}

export const memoryJournal = (): Journal => Journal.open(':memory:');

const clusterPolicy = (value: string): PveRequest => ({ method: 'PUT', path: '/cluster/firewall/options', params: { enable: 1, policy_in: value }, async: false });

/** A commit-confirmed firewall change that drops every new connection to the node (policy_in DROP), ACCEPT its revert. */
export function firewallLockOutAction(): PlanAction {
  return action('firewall.options:cluster', {
    type: 'firewall.options',
    targetKey: 'firewall/cluster',
    commitConfirm: true,
    rollbackHint: 'set policy_in back to ACCEPT',
    params: { channel: 'pve', requests: [clusterPolicy('DROP')], revert: [clusterPolicy('ACCEPT')] },
  });
}
