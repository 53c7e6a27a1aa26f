// In-guest provisioning (Tailscale, Docker + Compose, /opt/naas layout, stack scaffolds) and tailnet route approval.
// For a VM created by this plan everything is to do; for an existing one the guest's facts decide; when they could
// not be read the plan lists them as unknown and plans nothing for that guest.
import type { DesiredVm } from '../desired-state.ts';
import type { GuestFacts } from '../state.ts';
import type { ActionType, AgentWait } from '../plan.ts';
import { cidrContains } from '../../lib/pve-formats.ts';
import { change, chain, draft, type DiffContext, type DraftAction } from './types.ts';
import { haosTailscaleStep, ownInstallStep, routerStep } from './manual.ts';
import { parseDisk } from '../pve-values.ts';

/** How long a guest step waits for the VM's agent, and what the guest is doing meanwhile (for the messages). */
export const agentWaitOf = (vm: DesiredVm): AgentWait => ({ vmid: vm.vmid, seconds: vm.agentWaitSeconds, os: vm.os ?? 'none' });

/** A start or reboot ends when the agent answers, where one is expected (not on `os: none`/`opnsense`: the owner installs it). */
export const agentWaitAfterBoot = (vm: DesiredVm | undefined): { agentWait?: AgentWait } =>
  vm && vm.agent && (vm.os === 'debian-13' || vm.os === 'haos') ? { agentWait: agentWaitOf(vm) } : {};

const FRESH: GuestFacts = {
  tailscale: { installed: false, joined: false, advertisedRoutes: [], funnel: false },
  docker: { installed: false, compose: false },
  naasLayout: { present: false, stacks: [] },
  mounts: [],
};

/** The guest's facts: known, fresh (VM created by this plan), or undefined (unknown, reported). */
export function guestFacts(ctx: DiffContext, vm: { vmid: number; name: string }): GuestFacts | undefined {
  if (!ctx.state.vms[vm.vmid] && !ctx.state.vmReadFailures?.[vm.vmid]) return FRESH;
  const fact = ctx.state.guests[vm.vmid];
  if (fact?.known) return fact.value;
  return undefined;
}

const sameSet = (a: string[], b: string[]) => [...a].sort().join(',') === [...b].sort().join(',');

export function diffGuests(ctx: DiffContext): DraftAction[] {
  const out: DraftAction[] = [];
  if (ctx.state.tailnet.known && ctx.state.tailnet.value.funnelTargets.length > 0) {
    ctx.warnings.push({
      code: 'tailnet-funnel',
      message: `the tailnet policy grants Funnel (public exposure) to ${ctx.state.tailnet.value.funnelTargets.join(', ')}; remote access must stay Tailscale-only: remove the funnel nodeAttr`,
    });
  }
  for (const vm of ctx.desired.vms) {
    const provision = vm.provision;
    if (vm.os === 'haos') {
      // No shell, no apt: Home Assistant OS gets manual steps, never in-guest scripts.
      out.push(...haosTailscaleStep(ctx, vm));
      continue;
    }
    if (vm.role === 'firewall-router' && ctx.desired.segmentation) {
      out.push(...routerStep(ctx, vm, installerOf(ctx, vm)));
      continue;
    }
    const ownInstall = vm.os === 'none' || vm.os === 'opnsense' ? ownInstallStep(ctx, vm) : [];
    out.push(...ownInstall);
    if (!provision?.tailscale && !provision?.docker) continue;
    if (ownInstall.length > 0) {
      ctx.warnings.push({ code: 'waiting-for-owner', message: `in-guest steps for VM ${vm.vmid} (${vm.name}) are planned once its system is installed and its guest agent answers` });
      continue;
    }
    const facts = guestFacts(ctx, vm);
    if (!facts) {
      const fact = ctx.state.guests[vm.vmid];
      ctx.unknowns.push({ what: `in-guest state of VM ${vm.vmid} (${vm.name})`, reason: fact && !fact.known ? fact.reason : 'not read' });
      continue;
    }
    const step = (type: ActionType, stepId: string, args: Record<string, unknown>, changes: ReturnType<typeof change>[], provides: string[], requires: string[] = [], undo?: string) =>
      out.push(guestStep(ctx, vm, { type, stepId, args, changes, provides, requires, ...(undo !== undefined ? { undo } : {}) }));
    const ts = provision.tailscale;
    if (ts) {
      const live = facts.tailscale ?? FRESH.tailscale!;
      // Routes into SERVICES/IOT are advertised only once the router has been seen routing from this guest's LAN.
      const gate = routesGate(ctx, ts.advertiseRoutes);
      if (!live.installed) step('guest.tailscale.install', 'tailscale.install', {}, [change('tailscale', null, 'installed')], [`tailscale:${vm.vmid}`]);
      if (!live.joined) {
        const now = gate.length ? ts.advertiseRoutes.filter((r) => !gatedRoute(ctx, r)) : ts.advertiseRoutes;
        step('guest.tailscale.join', 'tailscale.join', { hostname: ts.hostname, advertiseRoutes: now, acceptRoutes: ts.acceptRoutes }, [change('tailnet', null, ts.hostname)], [`tailnet-device:${ts.hostname}`], [`tailscale:${vm.vmid}`]);
        if (!sameSet(now, ts.advertiseRoutes)) {
          step('guest.tailscale.routes', 'tailscale.routes', { advertiseRoutes: ts.advertiseRoutes }, [change('advertiseRoutes', now, ts.advertiseRoutes)], [`tailnet-routes:${ts.hostname}`], gate, now.join(','));
        }
      } else if (!sameSet(live.advertisedRoutes, ts.advertiseRoutes)) {
        step('guest.tailscale.routes', 'tailscale.routes', { advertiseRoutes: ts.advertiseRoutes }, [change('advertiseRoutes', live.advertisedRoutes, ts.advertiseRoutes)], [`tailnet-routes:${ts.hostname}`], gate, live.advertisedRoutes.join(','));
      }
      if (ts.approveRoutes && ts.advertiseRoutes.length) out.push(...approveRoutes(ctx, vm, ts.hostname, ts.advertiseRoutes, live.joined));
    }
    const docker = provision.docker;
    if (docker) {
      const live = facts.docker ?? FRESH.docker!;
      if (!live.installed || (docker.compose && !live.compose)) {
        step('guest.docker.install', 'docker.install', { compose: docker.compose }, [change('docker', live.installed ? 'without compose' : null, docker.compose ? 'docker + compose' : 'docker')], [`docker:${vm.vmid}`]);
      }
      const layout = facts.naasLayout ?? FRESH.naasLayout!;
      const names = docker.stacks.map((s) => s.name);
      if (!layout.present) {
        step('guest.naas.layout', 'naas.layout', { root: docker.root, owner: docker.owner, group: docker.group, stacks: names }, [change(docker.root, null, 'stacks/ appdata/ logs/')], [`naas:${vm.vmid}`], [`docker:${vm.vmid}`]);
      }
      for (const stack of docker.stacks) {
        if (layout.stacks.includes(stack.name)) continue;
        step('guest.stack.scaffold', 'stack.scaffold', { root: docker.root, name: stack.name, description: stack.description ?? '', ports: stack.ports }, [change(`${docker.root}/stacks/${stack.name}`, null, 'compose.yaml')], [`stack:${vm.vmid}:${stack.name}`], [`naas:${vm.vmid}`]);
      }
    }
  }
  return out;
}

/** The installer ISO a VM boots: attached by this plan, or on its CD-ROM drive already. */
function installerOf(ctx: DiffContext, vm: DesiredVm): string | undefined {
  const planned = ctx.installers.get(vm.vmid);
  if (planned) return planned;
  const drive = ctx.state.vms[vm.vmid]?.config.ide2;
  const props = drive === undefined ? undefined : parseDisk(String(drive));
  return props?.media === 'cdrom' && props.file && props.file !== 'none' ? props.file : undefined;
}

/** A route into an internal segment (SERVICES/IOT): it leads somewhere only through the router. */
const gatedRoute = (ctx: DiffContext, route: string): boolean =>
  (ctx.desired.segmentation?.segments ?? []).some((s) => s.internal && (cidrContains(s.cidr, route) || cidrContains(route, s.cidr)));

/** What advertising `routes` waits for: the router gate, when one of them goes into an internal segment. */
function routesGate(ctx: DiffContext, routes: string[]): string[] {
  const router = ctx.desired.vms.find((vm) => vm.role === 'firewall-router');
  return router && routes.some((r) => gatedRoute(ctx, r)) ? [`router-ready:${router.vmid}`] : [];
}

export interface GuestStepInput {
  type: ActionType;
  stepId: string;
  args: Record<string, unknown>;
  changes: ReturnType<typeof change>[];
  provides: string[];
  requires?: string[];
  undo?: string;
}

/** One in-guest step, in the guest's sequence, after the VM runs with its applied config. */
export function guestStep(ctx: DiffContext, vm: DesiredVm, input: GuestStepInput): DraftAction {
  const { type, args } = input;
  return chain(
    ctx,
    `guest:${vm.vmid}`,
    draft({
      id: `${type}:${vm.vmid}${type === 'guest.stack.scaffold' ? `:${String(args.name)}` : ''}`,
      type,
      kind: type === 'guest.tailscale.routes' ? 'update' : 'create',
      channel: 'guest',
      target: `vm/${vm.vmid} (${vm.name}) guest`,
      targetKey: `guest/${vm.vmid}`,
      changes: input.changes,
      params: { channel: 'guest', vmid: vm.vmid, step: input.stepId, args, agentWait: agentWaitOf(vm) },
      facts: { vmid: vm.vmid, vmName: vm.name, undo: input.undo ?? String(args.name ?? '') },
      provides: input.provides,
      // After a pending reboot too: in-guest work needs the applied config (agent on, devices attached).
      requires: [`vm-running:${vm.vmid}`, `vm-restarted:${vm.vmid}`, ...(input.requires ?? [])],
    }),
  );
}

function approveRoutes(ctx: DiffContext, vm: DesiredVm, hostname: string, routes: string[], joined: boolean): DraftAction[] {
  let enabled: string[] = [];
  if (joined) {
    if (!ctx.state.tailnet.known) {
      ctx.unknowns.push({ what: `tailnet routes of ${hostname}`, reason: ctx.state.tailnet.reason });
      return [];
    }
    enabled = ctx.state.tailnet.value.devices.find((d) => d.hostname === hostname)?.enabledRoutes ?? [];
  }
  const missing = routes.filter((r) => !enabled.includes(r));
  if (missing.length === 0) return [];
  return [
    draft({
      id: `tailnet.routes.approve:${hostname}`,
      type: 'tailnet.routes.approve',
      kind: 'update',
      channel: 'tailnet',
      target: `tailnet/${hostname}`,
      targetKey: 'tailnet',
      changes: [change('enabledRoutes', enabled, [...new Set([...enabled, ...routes])].sort())],
      params: { channel: 'tailnet', op: 'routes.approve', hostname, routes: [...new Set([...enabled, ...routes])].sort() },
      facts: { vmid: vm.vmid, vmName: vm.name, undo: enabled.join(',') || '(none)' },
      requires: [`tailnet-device:${hostname}`, `tailnet-routes:${hostname}`],
    }),
  ];
}
