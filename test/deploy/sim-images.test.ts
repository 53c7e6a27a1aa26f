// Bad images at apply, against the in-process simulator's node and its internet: a checksum that does not match and
// an image the node cannot reach each fail the download action with the node's own answer; nothing is built from
// them, and what was done before says how to undo it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { simHostShell } from '../../app/sim-shells.ts';
import { createApplyContext } from '../../deploy/context.ts';
import { applyPlan } from '../../deploy/engine.ts';
import { Journal } from '../../deploy/journal.ts';
import { FACT_READERS } from '../../infra/facts/readers.ts';
import { createAgentShell } from '../../infra/proxmox/agent-shell.ts';
import { buildPlan, scanLab } from '../../planner/index.ts';
import { loadSpec } from '../../planner/spec/load.ts';
import { startSim } from '../../sim/server.ts';
import { clientFor, REPO } from './support/processes.ts';
import { SIM_SITE_FILE } from '../support/site.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The bootstrap spec with only VM 100, booting the image given. */
async function specWithImage(image: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'jarvis-images-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const doc = parseDocument(readFileSync(join(REPO, 'specs/nas.desired.yaml'), 'utf8'));
  doc.setIn(['vms', 0, 'image'], doc.createNode(image));
  doc.deleteIn(['vms', 2]);
  doc.deleteIn(['vms', 1]);
  doc.deleteIn(['backups']);
  // No in-guest work: the image is what is under test.
  doc.deleteIn(['vms', 0, 'provision']);
  const file = join(dir, 'spec.yaml');
  writeFileSync(file, doc.toString());
  return loadSpec(file, { site: SIM_SITE_FILE });
}

async function applyPhase0(image: Record<string, string>) {
  const sim = await startSim({ scenario: 'fresh', taskSeconds: 0.05 });
  cleanups.push(() => sim.close());
  const pve = clientFor({ PROXMOX_URL: sim.url, PROXMOX_NODE: sim.node, PROXMOX_TOKEN_ID: sim.tokenId, PROXMOX_TOKEN_SECRET: sim.tokenSecret, PROXMOX_FINGERPRINT: sim.fingerprint });
  cleanups.push(() => pve.close());
  const hostShell = simHostShell(sim);
  cleanups.push(() => hostShell.close());
  const lab = { pve, hostShell, guestShell: (vmid: number) => createAgentShell(pve, vmid, `vm/${vmid}`) };
  const loaded = await specWithImage(image);
  const state = await scanLab({ ...lab, facts: FACT_READERS }, loaded.spec, 0);
  const plan = buildPlan({ spec: loaded.spec, specPath: loaded.source.path, specSha256: loaded.source.sha256, phase: 'phase0', state, requestedBy: 'cli:test', now: new Date().toISOString(), id: 'images' });
  expect(plan.violations).toEqual([]);
  const journal = Journal.open(':memory:');
  cleanups.push(() => journal.close());
  const url = new URL(sim.url);
  const ctx = createApplyContext({
    plan,
    spec: loaded,
    lab,
    mgmt: { host: url.hostname, apiPort: Number(url.port), sshPort: sim.mgmtSshPort },
    journal,
    env: {},
    requester: 'cli:test',
    via: 'cli',
    approved: true,
    dryRun: false,
    onProgress: () => undefined,
    snapshotRetention: 3,
  });
  return { report: await applyPlan(plan, ctx), sim };
}

const DEBIAN = 'https://cloud.debian.org/images/cloud/trixie/latest/debian-13-genericcloud-amd64.qcow2';

describe('bad images at apply', () => {
  it('a checksum mismatch fails the download with PVE\'s answer; no VM is created and the earlier action says how to undo it', async () => {
    const { report, sim } = await applyPhase0({ url: DEBIAN, sha512: 'f'.repeat(128) });
    expect(report.status).toBe('failed');
    const download = report.actions.find((a) => a.actionId.startsWith('image.download:'))!;
    expect(download).toMatchObject({ outcome: 'failed', detail: expect.stringMatching(/checksum mismatch/) });
    expect(report.actions.find((a) => a.actionId === 'vm.create:100')?.outcome).toBe('not-run');
    expect(sim.lab.vms.has(100)).toBe(false);
    expect(report.next.some((line) => line.startsWith('to undo storage.content:local: '))).toBe(true);
  });

  it('an image the node cannot reach fails the download with the node\'s answer', async () => {
    const { report } = await applyPhase0({ url: 'https://images.example.invalid/debian.qcow2', sha512: 'e'.repeat(128) });
    expect(report.status).toBe('failed');
    const download = report.actions.find((a) => a.actionId.startsWith('image.download:'))!;
    expect(download.outcome).toBe('failed');
    expect(download.detail).toMatch(/images\.example\.invalid/);
    expect(report.actions.find((a) => a.actionId === 'vm.create:100')?.outcome).toBe('not-run');
  });
});
