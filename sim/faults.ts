// Fault injection (--fault): `5xx:RATE` (seeded share of requests answered 500), `timeout:PATH_GLOB` (never answered),
// `596:PATH_GLOB` (pveproxy's "no route to the node" status), `task-fail:TYPE` (every task of that type fails),
// `task-slow:TYPE:SECONDS` (every task of that type runs that many seconds, unscaled: a VM start with much memory to
// allocate or a device to reset takes long on a real node, and a test can act while it runs),
// `router:no-routing` (OPNsense is installed and answers on its interfaces but forwards nothing between them),
// `router:no-dhcp:BRIDGE` (no DHCP server answers on that segment, e.g. vmbr2).
// 5xx draws are keyed by the request, not by arrival order: the n-th `METHOD path` gets the same answer for a given
// seed however requests to other paths interleave, so a run does not depend on the machine's speed.
import { createHash } from 'node:crypto';
import { InputError } from '../lib/errors.ts';

export interface Faults {
  errorRate: number;
  timeouts: RegExp[];
  proxyErrors: RegExp[];
  failingTaskTypes: Set<string>;
  /** Task type → how long each of its tasks runs, in seconds. */
  slowTaskTypes: Map<string, number>;
  network: { routerNotRouting: boolean; noDhcpOn: Set<string> };
}

/** `*` stays inside a path segment, `**` crosses segments. */
function globToRegex(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '\u0000').replace(/\*/g, '[^/]*').replace(/\u0000/g, '.*');
  return new RegExp(`^${escaped}$`);
}

export function parseFaults(specs: string[]): Faults {
  const faults: Faults = { errorRate: 0, timeouts: [], proxyErrors: [], failingTaskTypes: new Set(), slowTaskTypes: new Map(), network: { routerNotRouting: false, noDhcpOn: new Set() } };
  for (const spec of specs) {
    const colon = spec.indexOf(':');
    const kind = colon < 0 ? spec : spec.slice(0, colon);
    const arg = colon < 0 ? '' : spec.slice(colon + 1);
    if (kind === '5xx') {
      const rate = Number(arg);
      if (!(rate >= 0 && rate <= 1) || arg === '') throw new InputError(`--fault ${spec}: the 5xx rate must be a number from 0 to 1`);
      faults.errorRate = rate;
    } else if (kind === 'timeout' && arg) faults.timeouts.push(globToRegex(arg));
    else if (kind === '596' && arg) faults.proxyErrors.push(globToRegex(arg));
    else if (kind === 'task-fail' && /^[a-z]+$/.test(arg)) faults.failingTaskTypes.add(arg);
    else if (kind === 'task-slow' && /^[a-z]+:\d+(\.\d+)?$/.test(arg)) {
      const [type, seconds] = arg.split(':') as [string, string];
      if (!(Number(seconds) > 0 && Number(seconds) <= 600)) throw new InputError(`--fault ${spec}: the seconds must be more than 0 and at most 600`);
      faults.slowTaskTypes.set(type, Number(seconds));
    }
    else if (kind === 'router' && arg === 'no-routing') faults.network.routerNotRouting = true;
    else if (kind === 'router' && /^no-dhcp:[A-Za-z][\w.-]*$/.test(arg)) faults.network.noDhcpOn.add(arg.slice('no-dhcp:'.length));
    else throw new InputError(`--fault ${spec}: expected 5xx:RATE, timeout:PATH_GLOB, 596:PATH_GLOB, task-fail:TYPE, task-slow:TYPE:SECONDS, router:no-routing or router:no-dhcp:BRIDGE`);
  }
  return faults;
}

export type FaultDecision = { kind: 'none' } | { kind: 'timeout' } | { kind: 'status'; status: number; message: string };

export interface FaultInjector {
  decide(method: string, path: string): FaultDecision;
}

/**
 * A UPID carries the task's pid and start time, which depend on timing; its type and id (`qmstart:150`) do not, so
 * task paths are counted per task kind and guest.
 */
const stableKey = (method: string, path: string): string =>
  `${method} ${path.replace(/UPID:[^/]*/g, (upid) => `UPID(${upid.split(':').slice(5, 7).join(':')})`)}`;

/** A number in [0, 1) from (seed, request key, sequence number): independent draws with no shared stream. */
function draw(seed: number, key: string, sequence: number): number {
  return createHash('sha256').update(`${seed}\u0000${key}\u0000${sequence}`).digest().readUInt32BE(0) / 4294967296;
}

export function createFaultInjector(faults: Faults, seed: number): FaultInjector {
  const sequences = new Map<string, number>();
  return {
    decide(method, path) {
      if (faults.timeouts.some((re) => re.test(path))) return { kind: 'timeout' };
      if (faults.proxyErrors.some((re) => re.test(path))) return { kind: 'status', status: 596, message: 'Connection timed out' };
      if (faults.errorRate > 0) {
        const key = stableKey(method, path);
        const sequence = (sequences.get(key) ?? 0) + 1;
        sequences.set(key, sequence);
        if (draw(seed, key, sequence) < faults.errorRate) return { kind: 'status', status: 500, message: 'simulated server error (fault injection)' };
      }
      return { kind: 'none' };
    },
  };
}
