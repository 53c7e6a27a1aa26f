import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyPlan } from '../../deploy/engine.ts';
import { Journal } from '../../deploy/journal.ts';
import type { Step } from '../../deploy/steps/types.ts';
import type { RemoteShell } from '../../infra/shell.ts';
import type { TailnetApi, TailnetDevice } from '../../infra/tailscale/api.ts';
import { registerSecret, Secret } from '../../lib/secret.ts';
import { FakePve } from './support/fake-pve.ts';
import { action, context, firewallLockOutAction, memoryJournal, plan, startVmRequest, withFingerprints } from './support/plans.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const reattach = (vmid: number, bridge: string) =>
  action(`vm.nic.reattach:${vmid}`, {
    type: 'vm.nic.reattach',
    targetKey: `vm/${vmid}`,
    preSnapshot: { vmid, name: 'jarvis-pre-p42' },
    rollbackHint: `qm rollback ${vmid} jarvis-pre-p42`,
    params: { channel: 'pve', requests: [{ method: 'PUT', path: `/nodes/proxmox/qemu/${vmid}/config`, params: { net0: `virtio,bridge=${bridge}` }, async: false }] },
  });

describe('pre-snapshots', () => {
  it('takes the snapshot before the action, journals it and reports it', async () => {
    const pve = new FakePve();
    pve.addVm(300);
    const journal = memoryJournal();
    const p = await withFingerprints(plan([reattach(300, 'vmbr1')]), pve);
    const ctx = context(pve, journal);
    const report = await applyPlan(p, ctx);
    expect(report.status).toBe('applied');
    const order = pve.requests.map((r) => `${r.method} ${r.path}`);
    expect(order.indexOf('POST /nodes/proxmox/qemu/300/snapshot')).toBeLessThan(order.indexOf('PUT /nodes/proxmox/qemu/300/config'));
    expect(pve.vms.get(300)?.snapshots.map((s) => s.name)).toEqual(['jarvis-pre-p42']);
    expect(report.snapshots).toEqual([{ vmid: 300, name: 'jarvis-pre-p42', kind: 'snapshot', actionId: 'vm.nic.reattach:300' }]);
    expect(journal.snapshot(p.planHash, 300, 'jarvis-pre-p42')?.kind).toBe('snapshot');
    expect(ctx.events).toContainEqual(expect.objectContaining({ type: 'snapshot.taken', vmid: 300, name: 'jarvis-pre-p42' }));
  });

  it('falls back to a vzdump backup when the storage cannot snapshot', async () => {
    const pve = new FakePve();
    pve.addVm(400, { canSnapshot: false });
    const p = await withFingerprints(plan([reattach(400, 'vmbr2')]), pve);
    const report = await applyPlan(p, context(pve, memoryJournal(), { backupStorage: 'local' }));
    expect(report.status).toBe('applied');
    expect(pve.requests).toContainEqual({ method: 'POST', path: '/nodes/proxmox/vzdump', params: { vmid: '400', mode: 'snapshot', storage: 'local' } });
    expect(report.snapshots[0]).toMatchObject({ vmid: 400, kind: 'vzdump' });
    expect(report.next.join('\n')).toContain('vzdump');
  });

  it('refuses the action with the reason when the fallback is "refuse"', async () => {
    const pve = new FakePve();
    pve.addVm(400, { canSnapshot: false });
    const p = await withFingerprints(plan([reattach(400, 'vmbr2')]), pve);
    const report = await applyPlan(p, context(pve, memoryJournal(), { snapshotFallback: 'refuse' }));
    expect(report.status).toBe('failed');
    expect(report.actions[0]).toMatchObject({ outcome: 'refused', detail: expect.stringContaining('snapshot feature is not available') });
    expect(pve.requests.some((r) => r.path.endsWith('/config'))).toBe(false);
  });

  it("prunes Jarvis's own old snapshots beyond the retention and leaves the owner's alone", async () => {
    const pve = new FakePve();
    pve.addVm(300, {
      snapshots: [
        { name: 'jarvis-pre-old1', snaptime: 100 },
        { name: 'before-upgrade', snaptime: 150 },
        { name: 'jarvis-pre-old2', snaptime: 200 },
        { name: 'jarvis-pre-old3', snaptime: 300 },
      ],
    });
    const p = await withFingerprints(plan([reattach(300, 'vmbr1')]), pve);
    const ctx = context(pve, memoryJournal(), { snapshotRetention: 2 });
    expect((await applyPlan(p, ctx)).status).toBe('applied');
    expect(pve.vms.get(300)?.snapshots.map((s) => s.name).sort()).toEqual(['before-upgrade', 'jarvis-pre-old3', 'jarvis-pre-p42']);
    expect(ctx.events.filter((e) => e.type === 'snapshot.pruned').map((e) => (e as { name: string }).name).sort()).toEqual(['jarvis-pre-old1', 'jarvis-pre-old2']);
  });
});

describe('commit-confirm', () => {
  /** Management answers unless the cluster firewall drops by default (the fake has no accept rules). */
  const probeOf = (pve: FakePve) => async () => {
    const options = pve.firewall.get('/cluster')?.options ?? {};
    const locked = options.enable === 1 && options.policy_in === 'DROP';
    return { ok: !locked, detail: locked ? '127.0.0.1:8006 ECONNREFUSED' : '127.0.0.1:8006 accepts connections' };
  };

  it('reverts a change that cuts management off within the window and says so', async () => {
    const pve = new FakePve();
    const journal = memoryJournal();
    const p = await withFingerprints(plan([firewallLockOutAction()], { phase: 'firewall' }), pve);
    const ctx = context(pve, journal, { probeManagement: probeOf(pve), confirmWindowMs: 200 });
    const report = await applyPlan(p, ctx);
    expect(report.status).toBe('failed');
    expect(report.actions[0]).toMatchObject({ outcome: 'reverted', detail: expect.stringContaining('management reachable again') });
    expect(pve.firewall.get('/cluster')?.options.policy_in).toBe('ACCEPT');
    const probes = ctx.events.filter((e) => e.type === 'confirm.probe');
    expect(probes.at(0)).toMatchObject({ ok: false });
    expect(probes.at(-1)).toMatchObject({ ok: true });
    expect(ctx.events).toContainEqual(expect.objectContaining({ type: 'action.reverted' }));
    expect(report.next.join('\n')).toContain('cut management off and was reverted');
    // The same plan is not applied again: it would lock the admin out again.
    const again = await applyPlan(p, context(pve, journal, { probeManagement: probeOf(pve) }));
    expect(again.refusal?.code).toBe('reverted-before');
  });

  it('keeps a change when management still answers', async () => {
    const pve = new FakePve();
    const p = await withFingerprints(plan([firewallLockOutAction()], { phase: 'firewall' }), pve);
    const report = await applyPlan(p, context(pve, memoryJournal(), { probeManagement: async () => ({ ok: true, detail: 'reachable' }) }));
    expect(report.status).toBe('applied');
    expect(report.actions[0]?.detail).toContain('management reachable');
    expect(pve.firewall.get('/cluster')?.options.policy_in).toBe('DROP');
  });
});

describe('dry-run', () => {
  it('lists every request with its schema check and sends nothing', async () => {
    const pve = new FakePve();
    pve.addVm(300);
    const canary = registerSecret(new Secret('canary-dryrun-51be07'));
    const p = await withFingerprints(
      plan([
        reattach(300, 'vmbr1'),
        action('vm.update:300', {
          targetKey: 'vm/300',
          dependsOn: ['vm.nic.reattach:300'],
          params: {
            channel: 'pve',
            requests: [
              { method: 'PUT', path: '/nodes/proxmox/qemu/300/config', params: { cipassword: canary.reveal(), memory: 2048 }, async: false },
              { method: 'PUT', path: '/nodes/proxmox/qemu/300/config', params: { memory: 'lots' }, async: false },
            ],
          },
        }),
      ]),
      pve,
    );
    const report = await applyPlan(p, context(pve, memoryJournal(), { dryRun: true, approved: false }));
    expect(report.status).toBe('dry-run');
    expect(pve.requests).toEqual([]);
    const [first, second] = report.dryRun!.actions;
    expect(first?.requests.map((r) => [r.purpose, r.method, r.path, r.schema.ok])).toEqual([
      ['pre-snapshot', 'POST', '/nodes/proxmox/qemu/300/snapshot', true],
      ['action', 'PUT', '/nodes/proxmox/qemu/300/config', true],
    ]);
    expect(second?.requests[0]?.params).toEqual({ cipassword: '[redacted]', memory: 2048 });
    expect(second?.requests[1]?.schema).toMatchObject({ ok: false, status: 400, errors: { memory: expect.any(String) } });
    expect(report.dryRun?.schemaErrors).toBe(1);
    expect(JSON.stringify(report)).not.toContain('canary-dryrun-51be07');
  });
});

describe('provisioning steps and the tailnet', () => {
  const shell = (host: string): RemoteShell => ({ host, transport: 'agent', exec: async () => ({ code: 0, stdout: '', stderr: '' }), close: async () => undefined });

  it('checks before applying, skips a step already in place and fails a step whose check stays false', async () => {
    const installed = new Set<string>();
    const docker: Step = {
      id: 'docker.install',
      where: 'guest',
      check: async (sh) => ({ done: installed.has(sh.host), detail: installed.has(sh.host) ? 'docker 27 present' : 'docker missing' }),
      apply: async (sh, _args, ctx) => {
        ctx.onOutput?.('apt-get install docker-ce');
        if (sh.host !== 'broken') installed.add(sh.host);
      },
    };
    installed.add('edge');
    const pve = new FakePve();
    const p = plan([
      action('guest.docker.install:100', { targetKey: 'guest/100', channel: 'guest', params: { channel: 'guest', vmid: 100, step: 'docker.install', args: {} } }),
      action('guest.docker.install:300', { targetKey: 'guest/300', channel: 'guest', params: { channel: 'guest', vmid: 300, step: 'docker.install', args: {} } }),
      action('guest.docker.install:400', { targetKey: 'guest/400', channel: 'guest', params: { channel: 'guest', vmid: 400, step: 'docker.install', args: {} } }),
    ]);
    const hosts: Record<number, string> = { 100: 'edge', 300: 'app', 400: 'broken' };
    const ctx = context(pve, memoryJournal(), { steps: () => docker, shells: { guest: (vmid) => shell(hosts[vmid]!) }, concurrency: 1 });
    const report = await applyPlan(await withFingerprints(p, pve), ctx);
    expect(report.actions.map((a) => a.outcome)).toEqual(['already-done', 'done', 'failed']);
    expect(report.actions[2]?.detail).toContain('check still says: docker missing');
    expect(ctx.events).toContainEqual({ type: 'task.log', actionId: 'guest.docker.install:300', line: 'apt-get install docker-ce' });
  });

  it('approves advertised routes once the device is there', async () => {
    const device: TailnetDevice = {
      id: 'd1',
      nodeId: 'n1',
      name: 'edge-gateway.tail1234.ts.net',
      hostname: 'edge-gateway',
      addresses: ['100.64.0.1'],
      authorized: true,
      keyExpiryDisabled: true,
      advertisedRoutes: ['10.10.20.0/24'],
      enabledRoutes: [],
    };
    const set: Array<[string, string[]]> = [];
    const tailnet: TailnetApi = {
      listDevices: async () => [device],
      getPolicy: async () => ({}),
      setEnabledRoutes: async (nodeId, routes) => {
        set.push([nodeId, routes]);
        device.enabledRoutes = routes;
      },
    };
    const pve = new FakePve();
    const p = plan([action('tailnet.routes.approve:edge-gateway', { channel: 'tailnet', params: { channel: 'tailnet', op: 'routes.approve', hostname: 'edge-gateway', routes: ['10.10.20.0/24'] } })]);
    const first = await applyPlan(await withFingerprints(p, pve), context(pve, memoryJournal(), { tailnet }));
    expect(first.status).toBe('applied');
    expect(set).toEqual([['n1', ['10.10.20.0/24']]]);
  });
});

describe('secrets', () => {
  it('keeps canary secrets out of the journal, the audit trail and the progress events', async () => {
    const canary = registerSecret(new Secret('canary-apply-93c1d2'));
    const dir = mkdtempSync(join(tmpdir(), 'jarvis-canary-'));
    dirs.push(dir);
    const path = join(dir, 'apply.db');
    const journal = Journal.open(path);
    const pve = new FakePve({ failTask: (r) => (r.path.endsWith('/status/start') ? `bad key ${canary.reveal()}` : undefined) });
    pve.addVm(100);
    const leaky: Step = {
      id: 'tailscale.join',
      where: 'guest',
      check: async () => ({ done: false, detail: `not joined (${canary.reveal()})` }),
      apply: async (_sh, _args, ctx) => ctx.onOutput?.(`tailscale up --authkey ${ctx.secrets.get('TAILSCALE_AUTHKEY').reveal()}`),
    };
    const p = plan([
      action('guest.tailscale.join:100', { channel: 'guest', targetKey: 'guest/100', params: { channel: 'guest', vmid: 100, step: 'tailscale.join', args: { hostname: 'edge' } } }),
      action('vm.start:100', { targetKey: 'vm/100', dependsOn: ['guest.tailscale.join:100'], params: { channel: 'pve', requests: [startVmRequest(100)] } }),
    ]);
    const ctx = context(pve, journal, {
      requester: `cli:${canary.reveal()}`,
      steps: () => leaky,
      stepSecrets: { get: () => canary },
      shells: { guest: () => ({ host: 'edge', transport: 'agent', exec: async () => ({ code: 0, stdout: '', stderr: '' }), close: async () => undefined }) },
      validate: async () => ({ remaining: [], probes: [] }),
    });
    const report = await applyPlan(await withFingerprints(p, pve), ctx);
    expect(report.status).toBe('failed');
    journal.db.pragma('wal_checkpoint(TRUNCATE)');
    journal.close();
    const stored = readFileSync(path).toString('latin1');
    expect(stored.length).toBeGreaterThan(0);
    expect(stored).not.toContain('canary-apply-93c1d2');
    expect(JSON.stringify(ctx.events)).not.toContain('canary-apply-93c1d2');
    expect(JSON.stringify(ctx.events)).toContain('[redacted]');
    expect(JSON.stringify(report)).not.toContain('canary-apply-93c1d2');
  });
});

describe('the plan guardrails, run again right before the first write', () => {
  it('refuses a plan they find a violation in, whatever its file says, and writes nothing', async () => {
    const pve = new FakePve();
    pve.addVm(300);
    const p = await withFingerprints(plan([reattach(300, 'vmbr1')]), pve);
    const guardrails = async () => [{ ruleId: 'firewall.lockout', message: 'management would be unreachable', actionId: 'vm.nic.reattach:300' }];
    const report = await applyPlan({ ...p, violations: [] }, context(pve, memoryJournal(), { guardrails }));
    expect(report).toMatchObject({ status: 'refused', refusal: { code: 'violations', message: expect.stringContaining('firewall.lockout (vm.nic.reattach:300)') } });
    expect(pve.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('stops as "could not read" (exit 4, try again) when what they need cannot be read, and writes nothing', async () => {
    const pve = new FakePve();
    pve.addVm(300);
    const p = await withFingerprints(plan([reattach(300, 'vmbr1')]), pve);
    const guardrails = async () => {
      throw new Error('the firewall could not be read for the lock-out check (500 Internal Server Error)');
    };
    const report = await applyPlan(p, context(pve, memoryJournal(), { guardrails }));
    expect(report).toMatchObject({ status: 'unreachable', refusal: { code: 'unreadable', message: expect.stringContaining('nothing was changed, try again') } });
    expect(report.next).toEqual([`try again: jarvis apply ${p.id} --yes`]);
    expect(pve.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });
});
