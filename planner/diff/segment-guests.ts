// In-guest work phase 2 needs beside the provisioning: the LAN guest that checks the router gets routes to SERVICES
// and IOT through the router's LAN address (they also give edge-gateway's advertised Tailscale routes a path), and the
// Debian guests that run connection checks get netcat-openbsd (new guests get it from their vendor data).
import { parseNet } from '../pve-values.ts';
import { canProbe, lanProber } from '../segments.ts';
import { guestFacts, guestStep } from './guest.ts';
import { change, type DiffContext, type DraftAction } from './types.ts';

/** cloud-init names the interface of netN `ethN` (qemu-server Cloudinit.pm, nocloud network config). */
export const cloudInitIface = (netIndex: number): string => `eth${netIndex}`;

export function diffSegmentGuests(ctx: DiffContext): DraftAction[] {
  const seg = ctx.desired.segmentation;
  const router = ctx.desired.vms.find((vm) => vm.role === 'firewall-router');
  if (!seg || !router) return [];
  const out: DraftAction[] = [];
  const lan = seg.segments.find((s) => !s.internal);
  const prober = lanProber(ctx.desired.vms, lan?.bridge);
  if (prober && lan?.router) {
    const routes = seg.segments.filter((s) => s.internal).map((s) => ({ to: s.cidr, via: lan.router! }));
    const facts = guestFacts(ctx, prober);
    if (!facts) {
      ctx.unknowns.push({ what: `routes of VM ${prober.vmid} (${prober.name})`, reason: 'its in-guest state could not be read' });
    } else if (!routes.every((r) => facts.jarvisRoutes?.some((have) => have.to === r.to && have.via === r.via))) {
      out.push(
        guestStep(ctx, prober, {
          type: 'guest.network.routes',
          stepId: 'network.routes',
          args: { iface: cloudInitIface(0), routes },
          changes: routes.map((r) => change(`route ${r.to}`, null, `via ${r.via} (router VM ${router.vmid})`)),
          provides: [`guest-routes:${prober.vmid}`],
          undo: routes.map((r) => r.to).join(', '),
        }),
      );
    }
  }
  for (const vm of ctx.desired.vms) {
    const live = ctx.state.vms[vm.vmid];
    // A VM this plan creates gets netcat from its vendor data; a stopped one is looked at when it runs.
    if (!canProbe(vm) || !live || live.status !== 'running') continue;
    const facts = guestFacts(ctx, vm);
    if (facts?.netcat !== false) continue;
    out.push(
      guestStep(ctx, vm, {
        type: 'guest.packages.install',
        stepId: 'packages.install',
        args: { packages: ['netcat-openbsd'] },
        changes: [change('packages', null, 'netcat-openbsd (for the in-guest connection checks)')],
        provides: [`netcat:${vm.vmid}`],
        undo: 'netcat-openbsd',
      }),
    );
  }
  return out;
}

/** The bridge a live NIC value is on. */
export const liveBridge = (value: unknown): string | undefined => (value === undefined ? undefined : parseNet(String(value)).bridge);
