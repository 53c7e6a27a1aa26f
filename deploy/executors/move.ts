// Connectivity commit-confirm of a NIC move. Before the move: the guest's address, and which of the services the spec
// says it serves answer (from the guest the matrix lets reach them). The move itself is the plan's config write
// (qemu-server hot-plugs the bridge change and flaps the link). Then the guest takes an address in the new segment:
// Debian renews its DHCP lease with systemd-networkd (`networkctl renew`); Home Assistant OS, whose NetworkManager keeps
// its lease across a short link flap, is rebooted. Within the confirm window it must hold an address in the segment,
// route through the segment's gateway, reach that gateway and resolve a name, and every service that answered before
// must answer at the new address; and the guest must reach the internet through the router (a router that answers on
// its own addresses but forwards nothing would pass every other check). Otherwise the NIC goes back (the plan's revert), the guest takes its old network
// again, and the report says what failed. The check is always the guest's own network, never the agent ping alone.
import { runNetProbe } from '../../infra/facts/net-probe.ts';
import { parseAddresses, parseDefaultRoute, parseResolved, type NetProbe } from '../../lib/net-checks.ts';
import { cidrContains } from '../../lib/pve-formats.ts';
import type { MoveCheck, PlanAction } from '../../planner/plan.ts';
import { awaitAgent } from './agent-wait.ts';
import { sendRequests } from './pve.ts';
import { ActionFailure, type ActionRun, type ExecutorResult } from './run.ts';

type PveParams = Extract<PlanAction['params'], { channel: 'pve' }>;

const POLL_MS = 1_000;
/** How long the guest keeps its first DHCP attempt before Jarvis asks networkd to renew. */
const RENEW_AFTER_MS = 3_000;

const probe = (run: ActionRun, vmid: number, p: NetProbe) => runNetProbe(run.ctx.pve, vmid, p);

/** The guest's IPv4 address in `cidr`, if it holds one (loopback and other networks aside). */
async function addressIn(run: ActionRun, vmid: number, cidr: string | undefined): Promise<{ address?: string; detail: string }> {
  const result = await probe(run, vmid, { kind: 'addresses' });
  if (!result.ok) return { detail: result.detail };
  let addresses;
  try {
    addresses = parseAddresses(result.stdout);
  } catch (error) {
    return { detail: `ip -j addr show: ${error instanceof Error ? error.message : String(error)}` };
  }
  const all = addresses.filter((i) => i.ifname !== 'lo').flatMap((i) => i.ipv4.map((a) => a.address));
  const address = cidr === undefined ? all[0] : all.find((a) => cidrContains(cidr, a));
  return address ? { address, detail: `address ${address}` } : { detail: `no address in ${cidr ?? 'any network'} (has ${all.join(', ') || 'none'})` };
}

/** Which services answer at `address`, each asked from its checker. */
async function answering(run: ActionRun, check: MoveCheck, address: string): Promise<Array<{ port: number; ok: boolean; detail: string }>> {
  const out = [];
  for (const service of check.services) {
    const result = await probe(run, service.fromVmid, { kind: 'connect', address, port: service.port });
    out.push({ port: service.port, ok: result.ok, detail: `${service.what} ${address}:${service.port} from VM ${service.fromVmid}: ${result.ok ? 'answers' : result.detail}` });
  }
  return out;
}

/** Reboots the guest through PVE and waits for its agent (Home Assistant OS takes a new lease only at boot). */
async function reboot(run: ActionRun, check: MoveCheck, step: string): Promise<void> {
  const path = `/nodes/${run.ctx.pve.node}/qemu/${check.vmid}/status/reboot`;
  await sendRequests(run, [{ method: 'POST', path, params: {}, async: true }], step);
  await awaitAgent(run, { vmid: check.vmid, seconds: check.agentWaitSeconds, os: check.os });
}

/** The guest on its new network: every failure of the last round, or none. */
async function newNetworkProblems(run: ActionRun, check: MoveCheck, listening: number[]): Promise<{ problems: string[]; address?: string }> {
  const held = await addressIn(run, check.vmid, check.to.cidr);
  if (!held.address) return { problems: [`VM ${check.vmid} has ${held.detail}`] };
  const problems: string[] = [];
  const route = await probe(run, check.vmid, { kind: 'default-route' });
  const gateway = route.ok ? parseDefaultRoute(route.stdout)?.gateway : undefined;
  if (gateway !== check.to.gateway) problems.push(route.ok ? `its default route is ${gateway ? `via ${gateway}` : 'missing'}, not via ${check.to.gateway}` : route.detail);
  const ping = await probe(run, check.vmid, { kind: 'ping', address: check.to.gateway });
  if (!ping.ok) problems.push(ping.detail);
  const resolved = await probe(run, check.vmid, { kind: 'resolve', name: check.to.dnsName });
  if (!resolved.ok) problems.push(resolved.detail);
  // The router answering on its own addresses is not enough: it must forward (and NAT) to the internet too.
  const internet = resolved.ok ? parseResolved(resolved.stdout)[0] : undefined;
  if (internet) {
    const out = await probe(run, check.vmid, check.os === 'haos' ? { kind: 'ping', address: internet } : { kind: 'connect', address: internet, port: 80 });
    if (!out.ok) problems.push(`it does not reach the internet through the router (${check.to.dnsName}): ${out.detail}`);
  }
  for (const service of (await answering(run, check, held.address)).filter((s) => listening.includes(s.port) && !s.ok)) problems.push(service.detail);
  return { problems, address: held.address };
}

/** The journaled baseline of a resumed run; an unreadable one holds no service against the move (said in its detail). */
function readBaseline(detail: string): { address?: string; listening: number[] } {
  try {
    const value = JSON.parse(detail) as { address?: unknown; listening?: unknown };
    const listening = Array.isArray(value.listening) ? value.listening.filter((p): p is number => typeof p === 'number') : [];
    return { ...(typeof value.address === 'string' ? { address: value.address } : {}), listening };
  } catch {
    return { listening: [] };
  }
}

export async function executeMove(run: ActionRun, params: PveParams, check: MoveCheck): Promise<ExecutorResult> {
  const { ctx } = run;
  const status = await ctx.pve.vmStatus(check.vmid);
  if (status.status !== 'running') {
    const { sent } = await sendRequests(run, params.requests, 'request');
    return { detail: `${sent} request(s) sent; VM ${check.vmid} is ${status.status}: moved without checks, it takes its new network at its next start` };
  }
  // What the guest had before the move, kept in the journal for a resumed run.
  const before = run.previous.get('before');
  let baseline: { address?: string; listening: number[] };
  if (before?.phase === 'done') baseline = readBaseline(before.detail);
  else {
    run.intent('before', { vmid: check.vmid });
    const held = await addressIn(run, check.vmid, check.from.cidr);
    const services = held.address ? await answering(run, check, held.address) : [];
    baseline = { ...(held.address ? { address: held.address } : {}), listening: services.filter((s) => s.ok).map((s) => s.port) };
    run.outcome('before', 'done', JSON.stringify(baseline));
  }
  const { sent } = await sendRequests(run, params.requests, 'request');
  if (run.previous.get('confirm')?.phase === 'done') return { detail: `${sent} request(s) sent; the guest's new network was confirmed in an earlier run` };
  run.intent('confirm', { to: check.to, listening: baseline.listening });
  if (check.os === 'haos') await reboot(run, check, 'reboot');
  const started = ctx.now();
  const deadline = started + ctx.confirmWindowMs;
  let renewed = check.os !== 'debian-13' || !check.iface;
  let last: { problems: string[]; address?: string } = { problems: ['not checked'] };
  for (;;) {
    last = await newNetworkProblems(run, check, baseline.listening);
    run.emit({ type: 'confirm.probe', actionId: run.action.id, ok: last.problems.length === 0, detail: last.problems.length === 0 ? `VM ${check.vmid} on ${check.to.segment}: ${last.address}` : last.problems.join('; ') });
    if (last.problems.length === 0) break;
    if (ctx.now() >= deadline) return revertMove(run, params, check, baseline, last.problems);
    if (!renewed && ctx.now() >= started + RENEW_AFTER_MS) {
      await probe(run, check.vmid, { kind: 'renew', iface: check.iface! });
      renewed = true;
    }
    await run.sleep(Math.min(POLL_MS, Math.max(0, deadline - ctx.now())));
  }
  const services = baseline.listening.length ? `; ${baseline.listening.join(', ')} answer there` : '';
  const unchecked = check.services.filter((s) => !baseline.listening.includes(s.port)).map((s) => s.port);
  const note = unchecked.length ? `; not answering before the move, so not held against it: ${unchecked.join(', ')}` : '';
  const detail = `${sent} request(s) sent; VM ${check.vmid} is on ${check.to.segment} with ${last.address}, reaches ${check.to.gateway}, resolves ${check.to.dnsName} and reaches it through the router${services}${note}`;
  run.outcome('confirm', 'done', detail);
  return { detail };
}

async function revertMove(run: ActionRun, params: PveParams, check: MoveCheck, baseline: { address?: string }, problems: string[]): Promise<never> {
  const why = problems.join('; ');
  const seconds = Math.round(run.ctx.confirmWindowMs / 1000);
  if (!params.revert?.length) {
    run.outcome('confirm', 'failed', why);
    throw new ActionFailure(`VM ${check.vmid} did not come up on ${check.to.segment} within ${seconds} s (${why}) and the plan holds no way back; restore by hand: ${run.action.rollbackHint}`, 'failed');
  }
  try {
    await sendRequests(run, params.revert, 'revert');
    if (check.os === 'haos') await reboot(run, check, 'revert-reboot');
    else if (check.iface) await probe(run, check.vmid, { kind: 'renew', iface: check.iface });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    run.outcome('confirm', 'failed', `revert failed: ${message}`);
    throw new ActionFailure(`VM ${check.vmid} did not come up on ${check.to.segment} (${why}) and moving it back failed: ${message}; restore by hand: ${run.action.rollbackHint}`, 'failed');
  }
  // The guest takes its old network again: its old address (DHCP gives the same lease back) or at least one there.
  const deadline = run.ctx.now() + run.ctx.confirmWindowMs;
  let back = await addressIn(run, check.vmid, check.from.cidr);
  while (!back.address && run.ctx.now() < deadline) {
    await run.sleep(POLL_MS);
    back = await addressIn(run, check.vmid, check.from.cidr);
  }
  run.outcome('confirm', 'failed', `moved back: ${why}`);
  const state = back.address
    ? back.address === baseline.address
      ? `VM ${check.vmid} is back on ${check.from.bridge} with its old address ${back.address}`
      : `VM ${check.vmid} is back on ${check.from.bridge} with ${back.address} (it had ${baseline.address ?? 'none'})`
    : `VM ${check.vmid} is back on ${check.from.bridge} but has no address there yet (${back.detail}); look at its console`;
  throw new ActionFailure(`moved back: VM ${check.vmid} did not come up on ${check.to.segment} within ${seconds} s: ${why}; ${state}`, 'reverted');
}
