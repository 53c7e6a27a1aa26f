// Manual steps: what only the owner can do, listed in the plan as its own kind of action (channel `owner`). Jarvis
// never runs them and never takes a typed "done": a step is satisfied by what Jarvis can observe (the device online in
// the tailnet, the guest agent answering), and the next plan no longer lists it.
import { describeProbe } from '../../lib/net-checks.ts';
import type { ManualObservation, RouterSetup } from '../plan.ts';
import type { DesiredVm } from '../desired-state.ts';
import { routerInstructions, routerProbes, routerSetup, vmSegment } from '../router.ts';
import { lanProber } from '../segments.ts';
import { parseNet } from '../pve-values.ts';
import type { LiveTailnetDevice } from '../state.ts';
import { change, draft, type DiffContext, type DraftAction } from './types.ts';

/** A device is the one a spec names when its OS hostname or its tailnet machine name is that name. */
export const deviceMatches = (device: Pick<LiveTailnetDevice, 'hostname' | 'name'>, hostname: string): boolean =>
  device.hostname.toLowerCase() === hostname.toLowerCase() || device.name.split('.')[0]!.toLowerCase() === hostname.toLowerCase();

const observedText = (observe: ManualObservation): string => {
  switch (observe.kind) {
    case 'tailnet-device-online':
      return `${observe.hostname} online in the tailnet`;
    case 'guest-agent-answers':
      return 'guest agent answers';
    case 'router-routes':
      return `routes: checked from VM ${observe.fromVmid} (${observe.probes.map(describeProbe).join(', ')})`;
  }
};

function manualStep(vm: DesiredVm, what: string, instructions: string[], undo: string, observe: ManualObservation, targetKey: string, provides: string[], requires: string[], router?: RouterSetup): DraftAction {
  return draft({
    id: `manual.step:${vm.vmid}:${what}`,
    type: 'manual.step',
    kind: 'create',
    channel: 'owner',
    target: `vm/${vm.vmid} (${vm.name}) — by the owner`,
    targetKey,
    changes: [change(what, null, observedText(observe))],
    params: { channel: 'owner', instructions, observe, ...(router ? { router } : {}) },
    facts: { vmid: vm.vmid, vmName: vm.name, undo },
    provides,
    requires,
    note: 'a manual step: Jarvis does not do it; it checks for the result and stops listing the step once it sees it',
  });
}

/** Home Assistant OS has no package manager: in-guest Tailscale is the official add-on, installed by the owner. */
export function haosTailscaleStep(ctx: DiffContext, vm: DesiredVm): DraftAction[] {
  const hostname = vm.provision?.tailscale?.hostname;
  if (!hostname) return [];
  const tailnet = ctx.state.tailnet;
  if (tailnet.known && tailnet.value.devices.some((d) => d.online && deviceMatches(d, hostname))) return [];
  if (!tailnet.known) ctx.warnings.push({ code: 'manual-step-unobservable', message: `the tailnet cannot be read (${tailnet.reason}), so Jarvis cannot see whether ${hostname} is online; the manual step stays listed` });
  const instructions = [
    `When Home Assistant runs on VM ${vm.vmid}, open it (http://<VM ${vm.vmid} address>:8123) and finish onboarding if not done yet.`,
    `Settings > System > Network: set the host name to ${hostname} (the Tailscale add-on registers the device under it).`,
    'Settings > Add-ons > Add-on Store: install the official Tailscale add-on, start it and open its Web UI to log the device in to your tailnet.',
    `Jarvis sees it done when ${hostname} is online in the tailnet; the next plan no longer lists this step.`,
  ];
  const undo = `uninstall the Tailscale add-on in Home Assistant and remove ${hostname} from the tailnet (admin console)`;
  return [manualStep(vm, 'tailscale', instructions, undo, { kind: 'tailnet-device-online', hostname }, 'tailnet', [`tailnet-device:${hostname}`], [`vm-running:${vm.vmid}`])];
}

/** `os: none`: the owner installs the system (with its guest agent); guest steps wait until the agent answers. */
export function ownInstallStep(ctx: DiffContext, vm: DesiredVm): DraftAction[] {
  // Without the agent enabled there is nothing to observe; the spec guardrail vm.guest-agent warns about it.
  if (!vm.agent) return [];
  const exists = ctx.state.vms[vm.vmid] !== undefined;
  const answers = ctx.state.agentAnswers?.[vm.vmid];
  if (exists && answers?.known && answers.value) return [];
  const instructions = [
    `Install the system on VM ${vm.vmid} from its console (Proxmox UI > VM ${vm.vmid} > Console; attach the installer ISO as a CD-ROM).`,
    `Install and enable the QEMU guest agent in it (Debian: apt install qemu-guest-agent; OPNsense: the os-qemu-guest-agent plugin).`,
    `Jarvis sees it done when VM ${vm.vmid}'s guest agent answers; in-guest steps for this VM wait for that.`,
  ];
  const undo = `whatever you installed stays yours: reinstall, or destroy VM ${vm.vmid} (qm destroy ${vm.vmid} --purge)`;
  return [manualStep(vm, 'install-os', instructions, undo, { kind: 'guest-agent-answers', vmid: vm.vmid }, `vm/${vm.vmid}`, [`os-installed:${vm.vmid}`], [`vm-running:${vm.vmid}`])];
}

/**
 * The router gate: installing and configuring the router is the owner's; Jarvis derives every setting from the spec
 * and sees the step done when a Debian guest on the LAN reaches the router and, through it, each internal segment's
 * gateway. Every NIC move into a segment and every route advertised into one waits for it.
 */
export function routerStep(ctx: DiffContext, vm: DesiredVm, installer: string | undefined): DraftAction[] {
  const seg = ctx.desired.segmentation;
  if (!seg) return ownInstallStep(ctx, vm);
  const live = ctx.state.vms[vm.vmid];
  const gate = ctx.state.routerGate;
  if (live && gate?.known && gate.value.ready) return [];
  const lan = seg.segments.find((s) => !s.internal);
  const prober = lanProber(ctx.desired.vms, lan?.bridge);
  // Without a LAN guest to look from the gate can never open; the spec guardrail segmentation.router refuses that.
  if (!prober) return [];
  if (live && gate && !gate.known) ctx.warnings.push({ code: 'manual-step-unobservable', message: `the router cannot be checked from VM ${prober.vmid} (${gate.reason}); its manual step stays listed and the NIC moves wait` });
  const setup = routerSetup(seg, ctx.desired.vms, vm, live);
  const probes = routerProbes(seg);
  const moving = ctx.desired.vms.filter((other) => {
    const target = vmSegment(seg, other);
    const liveNet = ctx.state.vms[other.vmid]?.config.net0;
    return other.vmid !== vm.vmid && target?.internal === true && liveNet !== undefined && parseNet(String(liveNet)).bridge !== target.bridge;
  });
  const waiting = moving.map((other) => `the move of VM ${other.vmid} (${other.name})`);
  const instructions = routerInstructions(setup, vm, installer, prober, probes, waiting);
  const undo = `reinstall or reconfigure the router by hand; Jarvis moves no guest behind it until it routes again`;
  const observe: ManualObservation = { kind: 'router-routes', routerVmid: vm.vmid, fromVmid: prober.vmid, probes };
  return [manualStep(vm, 'router', instructions, undo, observe, `vm/${vm.vmid}`, [`router-ready:${vm.vmid}`], [`vm-running:${vm.vmid}`, `guest-routes:${prober.vmid}`], setup)];
}
