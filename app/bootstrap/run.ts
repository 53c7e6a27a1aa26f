// `jarvis bootstrap`: from a bare Proxmox VE 9 node to Jarvis answering in chat, run from the owner's machine (or the
// node) with the CLI. Everything that could refuse is checked before the first change (the settings the gateway will
// run with, the node's pinned TLS certificate and token privileges, the pinned SSH login to the node, the site's
// placeholders, the key that must log in to VM 100, a VM 100 that exists with other settings); then phase 0 is
// planned, approved here and applied; then Jarvis is installed on VM 100 over SSH with the host key read through the
// guest agent (a channel as trustworthy as the pinned Proxmox API). Running it again is safe: it is the upgrade path.
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { shortHash } from '../../commands/plan-labels.ts';
import { createApplyContext } from '../../deploy/context.ts';
import { applyDbPath } from '../../deploy/db.ts';
import { buildRelease, tarOf } from '../../deploy/edge-gateway/release.ts';
import { applyPlan } from '../../deploy/engine.ts';
import { Journal } from '../../deploy/journal.ts';
import { renderEvent, renderReport } from '../../deploy/render.ts';
import { createAgentShell } from '../../infra/proxmox/agent-shell.ts';
import { createSshShell } from '../../infra/ssh/client.ts';
import { sshFingerprint } from '../../infra/ssh/fingerprint.ts';
import { keyBlob, publicKeyOf } from '../../infra/ssh/public-key.ts';
import { loadConfig, type JarvisConfig } from '../../lib/config.ts';
import { EXIT, type ExitCode } from '../../lib/errors.ts';
import { envPlaceholders } from '../../lib/placeholders.ts';
import { scrubSecrets } from '../../lib/secret.ts';
import { renderPlanText } from '../../planner/index.ts';
import type { Plan } from '../../planner/plan.ts';
import { checkPrivileges, checkProxmoxReachable } from '../doctor/proxmox-checks.ts';
import { checkSshHosts } from '../doctor/ssh-check.ts';
import { openConfiguredLab, type Lab } from '../lab.ts';
import { writePlanFiles } from '../plan-files.ts';
import { makePlan, specPlace } from '../planning.ts';
import { composeGatewayEnv } from './gateway-env.ts';
import { authorizeOnNode, installOnGateway } from './install.ts';

export interface BootstrapIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Progress and the plan, for the person at the keyboard. */
  say: (text: string) => void;
  /** Approves the plan: --yes, or the short hash typed back. */
  approve: (plan: Plan) => Promise<boolean>;
}

class Refused extends Error {
  constructor(
    message: string,
    readonly code: ExitCode = EXIT.refused,
  ) {
    super(message);
  }
}

/** Changes to an existing VM that mean it is not the VM the spec describes: adopted only when there are none. */
const DIFFERENCES = new Set(['vm.update', 'vm.tags', 'vm.nic.reattach', 'vm.disk.add', 'vm.disk.resize', 'vm.virtiofs.attach', 'vm.reboot']);

/** What the gateway will run with, checked before anything changes. */
function checkGatewaySettings(config: JarvisConfig, env: NodeJS.ProcessEnv): void {
  const problems: string[] = [];
  if (!config.proxmox) problems.push('no Proxmox node configured: set PROXMOX_URL, PROXMOX_TOKEN_ID, PROXMOX_TOKEN_SECRET and PROXMOX_FINGERPRINT');
  if (!config.discord && !config.slack) problems.push('no chat adapter configured: set DISCORD_TOKEN + DISCORD_APP_ID, or SLACK_BOT_TOKEN + SLACK_APP_TOKEN (the bot on edge-gateway answers there)');
  if (config.approvers.length === 0 && !env.JARVIS_APPROVER_GROUPS) problems.push('JARVIS_APPROVERS is empty: nobody could approve a plan in chat');
  for (const placeholder of envPlaceholders(env)) problems.push(placeholder.fix);
  if (!config.ssh.keyPath) problems.push('SSH_KEY_PATH is not set: bootstrap logs in to the node and to VM 100 with that key');
  const node = config.proxmox?.node ?? 'proxmox';
  if (!config.ssh.hosts[node]) problems.push(`SSH_HOSTS names no ${node}=ADDRESS: Jarvis reaches the node by SSH (images, vendor data) and bootstrap authorizes the gateway's key there`);
  if (problems.length > 0) throw new Refused(`the settings the gateway would run with are not ready; nothing was changed:\n  - ${problems.join('\n  - ')}`, EXIT.invalidInput);
}

/** The node answers with its pinned certificate, the token holds the JarvisOps privileges, the pinned SSH login works. */
async function checkLab(lab: Lab, config: JarvisConfig): Promise<void> {
  const px = config.proxmox!;
  const reach = await checkProxmoxReachable(lab.ports.pve, px);
  if (reach.status === 'fail') throw new Refused(`${reach.summary}\n  fix: ${reach.fix}\nNothing was changed.`, /unreachable|timed out|ECONNREFUSED/i.test(reach.summary) ? EXIT.unreachable : EXIT.refused);
  const privileges = await checkPrivileges(lab.ports.pve, px.tokenId);
  if (privileges.status === 'fail') throw new Refused(`${privileges.summary}\n  fix: ${privileges.fix}\nNothing was changed.`);
  const node = px.node;
  const [ssh] = await checkSshHosts({ ...config.ssh, hosts: { [node]: config.ssh.hosts[node]! } }, createSshShell);
  if (ssh && ssh.status === 'fail') throw new Refused(`${ssh.summary}\n  fix: ${ssh.fix}\nNothing was changed.`);
}

/** The existing VM's differences from the spec, one line per changed field (none when the plan creates the VM). */
function differences(plan: Plan, vmid: number): string[] {
  if (plan.actions.some((a) => a.type === 'vm.create' && a.targetKey === `vm/${vmid}`)) return [];
  return plan.actions
    .filter((a) => a.targetKey === `vm/${vmid}` && DIFFERENCES.has(a.type))
    .flatMap((a) => (a.changes.length > 0 ? a.changes.map((c) => `${a.target} ${c.path}: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`) : [`${a.target}: ${a.type}`]));
}

/** The first IPv4 address of the guest's own NICs, as its agent reports them. */
async function agentAddress(lab: Lab, vmid: number): Promise<string | undefined> {
  const interfaces = (await lab.ports.pve.agentNetworkInterfaces(vmid)) as Array<{ name?: string; 'ip-addresses'?: Array<{ 'ip-address'?: string; 'ip-address-type'?: string }> }>;
  for (const nic of interfaces) {
    if (!nic.name || nic.name === 'lo' || nic.name.startsWith('tailscale')) continue;
    const v4 = nic['ip-addresses']?.find((a) => a['ip-address-type'] === 'ipv4' && a['ip-address']);
    if (v4?.['ip-address']) return v4['ip-address'];
  }
  return undefined;
}

/** VM 100's SSH host key, read inside the guest through its agent over the pinned Proxmox API. */
async function hostKeyPin(lab: Lab, vmid: number, name: string): Promise<string> {
  const result = await createAgentShell(lab.ports.pve, vmid, name).exec('cat "${JARVIS_ROOT:-}/etc/ssh/ssh_host_ed25519_key.pub"', { timeoutSec: 30 });
  const blob = result.code === 0 ? keyBlob(result.stdout) : undefined;
  if (!blob) throw new Refused(`cannot read VM ${vmid}'s SSH host key through its guest agent (exit ${result.code}: ${result.stderr.trim() || 'no ssh-ed25519 key'}); check that openssh-server runs in it (cloud-init makes the host keys at the first boot)`);
  return sshFingerprint(Buffer.from(blob, 'base64'));
}

/** The owner's specs and site file, staged as the gateway's /etc/jarvis/specs will hold them. */
function ownerSpecs(config: JarvisConfig, cwd: string, site: string | undefined): Buffer {
  const dir = isAbsolute(config.specsDir) ? config.specsDir : resolve(cwd, config.specsDir);
  const staged = mkdtempSync(join(tmpdir(), 'jarvis-specs-'));
  try {
    const names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n));
    for (const name of names) copyFileSync(join(dir, name), join(staged, name));
    if (site) copyFileSync(isAbsolute(site) ? site : resolve(cwd, site), join(staged, 'site.yaml'));
    return tarOf(staged, [...new Set([...names, ...(site ? ['site.yaml'] : [])])]);
  } finally {
    rmSync(staged, { recursive: true, force: true });
  }
}

async function applyPhase0(plan: Plan, lab: Lab, config: JarvisConfig, io: BootstrapIo, loaded: Awaited<ReturnType<typeof makePlan>>['loaded']): Promise<void> {
  const dataDir = isAbsolute(config.dataDir) ? config.dataDir : resolve(io.cwd, config.dataDir);
  await writePlanFiles(join(dataDir, 'plans'), plan);
  const journal = Journal.open(applyDbPath(dataDir));
  try {
    const ctx = createApplyContext({
      plan,
      spec: loaded,
      lab: lab.ports,
      mgmt: lab.mgmt,
      journal,
      env: io.env,
      requester: `cli:${userInfo().username}`,
      via: 'cli',
      approved: true,
      dryRun: false,
      onProgress: (event) => io.say(scrubSecrets(`${renderEvent(event)}\n`)),
      snapshotRetention: config.snapshotRetention,
      confirmWindowMs: (config.apply.confirmWindowSeconds ?? loaded.spec.safetyGuards.confirmWindowSeconds) * 1000,
      backupStorage: config.apply.backupStorage,
    });
    const report = await applyPlan(plan, ctx);
    if (report.status !== 'applied' && report.status !== 'waiting-for-owner') {
      throw new Refused(`${scrubSecrets(renderReport(report))}\nphase 0 did not complete: fix what the report names and run jarvis bootstrap again (finished actions are skipped)`, report.status === 'unreachable' ? EXIT.unreachable : report.status === 'refused' ? EXIT.refused : EXIT.failed);
    }
  } finally {
    journal.close();
  }
}

export async function bootstrap(io: BootstrapIo): Promise<ExitCode> {
  try {
    return await run(io);
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    io.say(`jarvis bootstrap: ${scrubSecrets(error.message)}\n`);
    return error.code;
  }
}

async function run(io: BootstrapIo): Promise<ExitCode> {
  const config = loadConfig(io.env);
  checkGatewaySettings(config, io.env);
  const lab = await openConfiguredLab(config);
  try {
    await checkLab(lab, config);
    const place = specPlace(config, lab);
    const made = await makePlan({ phase: 'phase0', cwd: io.cwd, place, selfVmid: config.selfVmid, ports: lab.ports, labName: lab.describe, requestedBy: `cli:${userInfo().username}`, onProgress: (line) => io.say(`${line}\n`) });
    const { plan, loaded } = made;
    const self = loaded.spec.vms.find((vm) => vm.vmid === config.selfVmid);
    if (!self || self.os !== 'debian-13') throw new Refused(`${made.specPath} must describe VM ${config.selfVmid} (JARVIS_SELF_VMID) booting os: debian-13: Jarvis is installed in it`);
    const ours = keyBlob(publicKeyOf(config.ssh.keyPath!, config.ssh.keyPassphrase));
    if (!(self.cloudInit?.sshKeys ?? []).some((key) => keyBlob(key) === ours)) {
      throw new Refused(`the key of SSH_KEY_PATH cannot log in to VM ${config.selfVmid}: it is not among its cloud-init sshKeys. Add this line to sshKeys in your site file, then run bootstrap again:\n  ${publicKeyOf(config.ssh.keyPath!, config.ssh.keyPassphrase)} jarvis-bootstrap`);
    }
    if (plan.violations.length > 0) throw new Refused(`phase 0 is refused by the guardrails; nothing was changed:\n${plan.violations.map((v) => `  - [${v.ruleId}] ${v.location ? `${v.location}: ` : ''}${v.message}`).join('\n')}`);
    const differ = differences(plan, config.selfVmid);
    if (differ.length > 0) {
      throw new Refused(`VM ${config.selfVmid} exists with other settings than ${made.specPath} gives it; bootstrap adopts it only as it is and never destroys it. Make the spec describe it, or change it by hand:\n  - ${differ.join('\n  - ')}`);
    }
    if (plan.actions.some((a) => a.channel !== 'owner')) {
      io.say(renderPlanText(plan));
      if (!(await io.approve(plan))) throw new Refused(`plan ${plan.id} not approved (type its short hash ${shortHash(plan.planHash)}, or pass --yes); nothing was changed`);
      await applyPhase0(plan, lab, config, io, loaded);
    } else {
      io.say(`phase 0 is built: nothing to apply${plan.actions.length ? ` (the owner's manual steps remain: ${plan.actions.map((a) => a.target).join(', ')})` : ''}\n`);
    }

    const name = self.name;
    const agent = await agentAddress(lab, config.selfVmid);
    const address = config.gatewayAddress ?? (agent ? { host: agent, port: 22 } : undefined);
    if (!address) throw new Refused(`VM ${config.selfVmid}'s guest agent reports no IPv4 address; set JARVIS_GATEWAY_ADDRESS=HOST[:PORT] to reach it`);
    const pin = await hostKeyPin(lab, config.selfVmid, name);
    const pinned = config.ssh.pins[name];
    if (pinned && pinned !== pin) {
      throw new Refused(`VM ${config.selfVmid}'s host key is ${pin} (read through its guest agent), but SSH_HOST_PINS pins ${name}=${pinned}: if the VM was rebuilt, replace the pin; otherwise do not connect. Nothing was installed.`);
    }
    io.say(`edge-gateway: VM ${config.selfVmid} at ${address.host}:${address.port}, host key ${pin} (read through its guest agent)\n`);
    const gateway = createSshShell({
      host: name,
      address: address.host,
      port: address.port,
      username: self.cloudInit?.user ?? 'debian',
      fingerprint: pin,
      auth: { kind: 'key', privateKeyPath: config.ssh.keyPath!, ...(config.ssh.keyPassphrase ? { passphrase: config.ssh.keyPassphrase } : {}) },
    });
    try {
      const installed = await installOnGateway(gateway, {
        release: buildRelease(),
        specs: ownerSpecs(config, io.cwd, place.site),
        env: composeGatewayEnv(io.env, config),
        onOutput: (text) => io.say(text),
      });
      const added = await authorizeOnNode(lab.ports.hostShell!, config.ssh.user, installed.publicKey);
      io.say(
        [
          '',
          `Jarvis is installed on ${name} (VM ${config.selfVmid}); the service is ${installed.active ? 'running' : 'NOT running: sudo jarvis doctor on the gateway says why'}.`,
          installed.envKept ? '/etc/jarvis/jarvis.env was there already and was kept (edit it there).' : '/etc/jarvis/jarvis.env was written from the settings this command ran with.',
          `Jarvis's own key ${added ? 'is now authorized' : 'was already authorized'} on the node for ${config.ssh.user}.`,
          `Pin it for later runs: SSH_HOST_PINS=...,${name}=${pin}`,
          'Next, in chat: /jarvis status',
          '',
        ].join('\n'),
      );
      return installed.active ? EXIT.ok : EXIT.failed;
    } finally {
      await gateway.close();
    }
  } finally {
    await lab.close();
  }
}
