// The probes a guest runs, answering from the simulated path (path.ts) and resolver (dns.ts), with their real output
// and exit codes, and the time a real run takes (scaled like every duration):
// - `ping -c N -W S ADDRESS` (iputils-ping 20240905): 64-byte replies and the statistics block; 100% loss exits 1
//   after the -W wait; an unanswered ARP prints "Destination Host Unreachable"; no route: "connect: Network is
//   unreachable", exit 2; an unknown name "Name or service not known", exit 2.
// - `nc -z [-v] [-w S] HOST PORT` (netcat-openbsd): silent unless -v; exit 0 when the connection opens, 1 otherwise.
// - `getent hosts|ahosts|ahostsv4 NAME` (glibc getent): the address lines, exit 2 when it does not resolve.
// - the network check curl and apt-get make before they fetch (a name to resolve, a TCP port to reach).
import type { SimLab } from '../lab.ts';
import { scaledSeconds } from '../sim-time.ts';
import { resolve, type Resolution } from './dns.ts';
import { isIpv4 } from './ipv4.ts';
import { probe, type ProbeResult } from './path.ts';
import type { HostRef } from './segments.ts';
import type { ToolAnswer } from './tool-answer.ts';

const scaled = (lab: SimLab, seconds: number): number => scaledSeconds(seconds, lab.taskSeconds());

/** Flags that take a value, per tool. */
function options(args: string[], withValue: string[]): { flags: Map<string, string>; operands: string[] } {
  const flags = new Map<string, string>();
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('-') || arg === '-') {
      operands.push(arg);
      continue;
    }
    for (let j = 1; j < arg.length; j++) {
      const flag = arg[j]!;
      if (withValue.includes(flag)) {
        flags.set(flag, arg.slice(j + 1) || args[++i] || '');
        break;
      }
      flags.set(flag, '');
    }
  }
  return { flags, operands };
}

export function pingTool(lab: SimLab, asker: HostRef, args: string[]): ToolAnswer {
  const { flags, operands } = options(args, ['c', 'W', 'w', 'i', 'I', 's', 't']);
  const target = operands[operands.length - 1];
  if (!target) return { stderr: 'ping: usage error: Destination address required\n', code: 2 };
  const count = Number(flags.get('c') ?? 4) || 4;
  const wait = Number(flags.get('W') ?? 10) || 10;
  let address = target;
  if (!isIpv4(target)) {
    const resolved = resolve(lab, asker, target);
    if (resolved.kind !== 'found') return { stderr: `ping: ${target}: ${resolved.kind === 'nxdomain' ? 'Name or service not known' : 'Temporary failure in name resolution'}\n`, code: 2, waitSeconds: resolved.kind === 'timeout' ? scaled(lab, resolved.seconds) : 0 };
    address = resolved.address;
  }
  const result = probe(lab, asker, address, 'icmp');
  if (result.kind === 'net-unreachable') return { stderr: 'ping: connect: Network is unreachable\n', code: 2 };
  const head = `PING ${target} (${address}) 56(84) bytes of data.\n`;
  const elapsed = Math.max(0, count - 1);
  if (result.kind === 'ok') {
    const replies = Array.from({ length: count }, (_, i) => `64 bytes from ${address}: icmp_seq=${i + 1} ttl=64 time=0.${400 + i} ms\n`).join('');
    const stats = `\n--- ${target} ping statistics ---\n${count} packets transmitted, ${count} received, 0% packet loss, time ${elapsed * 1000}ms\nrtt min/avg/max/mdev = 0.400/0.400/0.400/0.000 ms\n`;
    return { stdout: head + replies + stats, code: 0, waitSeconds: scaled(lab, elapsed) };
  }
  if (result.kind === 'host-unreachable' || result.kind === 'refused') {
    const why = result.kind === 'refused' ? 'Destination Port Unreachable' : 'Destination Host Unreachable';
    const lines = Array.from({ length: count }, (_, i) => `From ${result.src} icmp_seq=${i + 1} ${why}\n`).join('');
    return { stdout: `${head}${lines}\n--- ${target} ping statistics ---\n${count} packets transmitted, 0 received, +${count} errors, 100% packet loss, time ${elapsed * 1000}ms\n\n`, code: 1, waitSeconds: scaled(lab, elapsed + 3) };
  }
  return { stdout: `${head}\n--- ${target} ping statistics ---\n${count} packets transmitted, 0 received, 100% packet loss, time ${elapsed * 1000}ms\n\n`, code: 1, waitSeconds: scaled(lab, elapsed + wait) };
}

const FAILURE: Record<Exclude<ProbeResult['kind'], 'ok'>, string> = {
  refused: 'Connection refused',
  timeout: 'Connection timed out',
  'host-unreachable': 'No route to host',
  'net-unreachable': 'Network is unreachable',
};

/** The kernel's TCP connect timeout without -w (6 SYN retries, tcp_syn_retries). */
const CONNECT_TIMEOUT_SECONDS = 127;

export function ncTool(lab: SimLab, asker: HostRef, args: string[]): ToolAnswer {
  const { flags, operands } = options(args, ['w', 'p', 's', 'i', 'X', 'x', 'q', 'I', 'O', 'T', 'V', 'M', 'm']);
  const [host, port] = operands;
  if (!flags.has('z') || !host || !port) return { stderr: 'usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]\n\t  [-m minttl] [-O length] [-P proxy_username] [-p source_port]\n\t  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]\n\t  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]\n\t  [destination] [port]\n', code: 1 };
  const verbose = flags.has('v');
  const udp = flags.has('u');
  let address = host;
  if (!isIpv4(host)) {
    const resolved: Resolution = flags.has('n') ? { kind: 'nxdomain' } : resolve(lab, asker, host);
    if (resolved.kind !== 'found') return { stderr: `nc: getaddrinfo for host "${host}" port ${port}: ${resolved.kind === 'timeout' ? 'Temporary failure in name resolution' : 'Name or service not known'}\n`, code: 1, waitSeconds: resolved.kind === 'timeout' ? scaled(lab, resolved.seconds) : 0 };
    address = resolved.address;
  }
  const result = probe(lab, asker, address, udp ? 'udp' : 'tcp', Number(port));
  if (result.kind === 'ok' || (udp && result.kind === 'timeout')) {
    return { ...(verbose ? { stderr: `Connection to ${host} ${port} port [${udp ? 'udp' : 'tcp'}/*] succeeded!\n` } : {}), code: 0 };
  }
  const timeout = flags.has('w') ? Number(flags.get('w')) || CONNECT_TIMEOUT_SECONDS : CONNECT_TIMEOUT_SECONDS;
  const waitSeconds = result.kind === 'timeout' ? timeout : result.kind === 'host-unreachable' ? Math.min(3, timeout) : 0;
  return { ...(verbose ? { stderr: `nc: connect to ${host} port ${port} (${udp ? 'udp' : 'tcp'}) failed: ${FAILURE[result.kind]}\n` } : {}), code: 1, waitSeconds: scaled(lab, waitSeconds) };
}

export function getentHosts(lab: SimLab, asker: HostRef, database: string, keys: string[]): ToolAnswer {
  let out = '';
  let code = 0;
  let waited = 0;
  for (const key of keys) {
    const resolved = resolve(lab, asker, key);
    if (resolved.kind !== 'found') {
      code = 2;
      if (resolved.kind === 'timeout') waited += resolved.seconds;
      continue;
    }
    const address = resolved.address.padEnd(15);
    if (database === 'hosts') out += `${address} ${key}\n`;
    else out += `${address} STREAM ${key}\n${address} DGRAM  \n${address} RAW    \n`;
  }
  return { ...(out ? { stdout: out } : {}), code, waitSeconds: scaled(lab, waited) };
}

/**
 * Can this machine fetch from HOST:PORT? What curl (exit 6: resolve, 7: connect, 28: timeout) and apt (Temporary
 * failure resolving, Could not connect) run into before any byte moves.
 */
export function netCheck(lab: SimLab, asker: HostRef, args: string[]): ToolAnswer {
  const [host = '', port = '443'] = args;
  const resolved = resolve(lab, asker, host);
  if (resolved.kind !== 'found') return { stdout: `resolve ${resolved.kind}\n`, code: 6, waitSeconds: resolved.kind === 'timeout' ? scaled(lab, resolved.seconds) : 0 };
  const result = probe(lab, asker, resolved.address, 'tcp', Number(port));
  if (result.kind === 'ok') return { stdout: `ok ${resolved.address}\n`, code: 0 };
  return { stdout: `connect ${result.kind} ${resolved.address}\n`, code: result.kind === 'timeout' ? 28 : 7, waitSeconds: result.kind === 'timeout' ? scaled(lab, CONNECT_TIMEOUT_SECONDS) : 0 };
}
