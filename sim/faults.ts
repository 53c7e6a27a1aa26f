// Fault injection (--fault): `5xx:RATE` (seeded share of requests answered 500), `timeout:PATH_GLOB` (never answered),
// `596:PATH_GLOB` (pveproxy's "no route to the node" status), `task-fail:TYPE` (every task of that type fails),
// `router:no-routing` (OPNsense is installed and answers on its interfaces but forwards nothing between them),
// `router:no-dhcp:BRIDGE` (no DHCP server answers on that segment, e.g. vmbr2).
import { InputError } from '../lib/errors.ts';
import type { Random } from './random.ts';

export interface Faults {
  errorRate: number;
  timeouts: RegExp[];
  proxyErrors: RegExp[];
  failingTaskTypes: Set<string>;
  network: { routerNotRouting: boolean; noDhcpOn: Set<string> };
}

/** `*` stays inside a path segment, `**` crosses segments. */
function globToRegex(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '\u0000').replace(/\*/g, '[^/]*').replace(/\u0000/g, '.*');
  return new RegExp(`^${escaped}$`);
}

export function parseFaults(specs: string[]): Faults {
  const faults: Faults = { errorRate: 0, timeouts: [], proxyErrors: [], failingTaskTypes: new Set(), network: { routerNotRouting: false, noDhcpOn: new Set() } };
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
    else if (kind === 'router' && arg === 'no-routing') faults.network.routerNotRouting = true;
    else if (kind === 'router' && /^no-dhcp:[A-Za-z][\w.-]*$/.test(arg)) faults.network.noDhcpOn.add(arg.slice('no-dhcp:'.length));
    else throw new InputError(`--fault ${spec}: expected 5xx:RATE, timeout:PATH_GLOB, 596:PATH_GLOB, task-fail:TYPE, router:no-routing or router:no-dhcp:BRIDGE`);
  }
  return faults;
}

export type FaultDecision = { kind: 'none' } | { kind: 'timeout' } | { kind: 'status'; status: number; message: string };

export function decideFault(faults: Faults, path: string, random: Random): FaultDecision {
  if (faults.timeouts.some((re) => re.test(path))) return { kind: 'timeout' };
  if (faults.proxyErrors.some((re) => re.test(path))) return { kind: 'status', status: 596, message: 'Connection timed out' };
  if (faults.errorRate > 0 && random() < faults.errorRate) return { kind: 'status', status: 500, message: 'simulated server error (fault injection)' };
  return { kind: 'none' };
}
