// `jarvis sim`: serves the simulated Proxmox node (and its tailnet) on loopback and prints the environment a Jarvis
// process needs to use it, as lines a shell can source. Runs until SIGINT/SIGTERM.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT, InputError } from '../../lib/errors.ts';
import { SCENARIOS, type ScenarioName } from '../../sim/scenarios.ts';
import { startSim, type SimOptions } from '../../sim/server.ts';
import type { CliCommand } from '../io.ts';

const USAGE = `usage: jarvis sim [--listen HOST:PORT] [--scenario NAME] [--large-count N] [--latency-ms N]
                  [--task-seconds S] [--fault SPEC]... [--request-log FILE] [--token USER@REALM!ID=SECRET]
                  [--seed N] [--allow-non-loopback]

  --scenario      ${SCENARIOS.join(' | ')} (default fresh)
  --fault         5xx:RATE | timeout:PATH_GLOB | 596:PATH_GLOB | task-fail:TYPE (repeatable)
  --listen        default 127.0.0.1:0 (a free port); another address needs --allow-non-loopback
`;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

function number(flag: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (value === undefined || !Number.isFinite(n) || n < min) throw new InputError(`${flag}: expected a number ≥ ${min}, got "${value ?? ''}"`);
  return n;
}

/** Parses the command line into startSim options. */
export function parseSimArgs(args: string[]): { options: SimOptions; help: boolean } {
  const options: SimOptions = { faults: [] };
  let allowNonLoopback = false;
  let listen: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    const value = (): string => {
      const next = args[++i];
      if (next === undefined) throw new InputError(`${flag}: missing value`);
      return next;
    };
    switch (flag) {
      case '--help':
      case '-h':
        return { options, help: true };
      case '--listen':
        listen = value();
        break;
      case '--scenario': {
        const name = value();
        if (!(SCENARIOS as readonly string[]).includes(name)) throw new InputError(`--scenario: unknown scenario "${name}" (one of ${SCENARIOS.join(', ')})`);
        options.scenario = name as ScenarioName;
        break;
      }
      case '--large-count':
        options.largeCount = number(flag, value(), 0);
        break;
      case '--latency-ms':
        options.latencyMs = number(flag, value(), 0);
        break;
      case '--task-seconds':
        options.taskSeconds = number(flag, value(), 0);
        break;
      case '--seed':
        options.seed = number(flag, value(), 0);
        break;
      case '--fault':
        options.faults!.push(value());
        break;
      case '--request-log':
        options.requestLogFile = value();
        break;
      case '--token': {
        const spec = value();
        const match = /^([^\s@!=]+@[A-Za-z][\w.-]*![A-Za-z][\w.-]*)=(\S+)$/.exec(spec);
        if (!match) throw new InputError('--token: expected USER@REALM!TOKENID=SECRET');
        options.tokens = [{ tokenId: match[1]!, secret: match[2]!, privileges: 'admin' }];
        break;
      }
      case '--allow-non-loopback':
        allowNonLoopback = true;
        break;
      default:
        throw new InputError(`unknown option "${flag}"\n\n${USAGE}`);
    }
  }
  if (listen !== undefined) {
    const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(listen);
    if (!match) throw new InputError(`--listen: expected HOST:PORT, got "${listen}"`);
    const host = match[1]!.replace(/^\[|\]$/g, '');
    if (!LOOPBACK.has(host) && !allowNonLoopback) {
      throw new InputError(`--listen ${listen}: the simulator binds loopback only; add --allow-non-loopback to serve on ${host}`);
    }
    options.host = host === 'localhost' ? '127.0.0.1' : host;
    options.port = number('--listen port', match[2], 0);
  }
  return { options, help: false };
}

const quote = (value: string | number): string => `'${String(value).replace(/'/g, `'\\''`)}'`;

export const run: CliCommand = async (args, io) => {
  const { options, help } = parseSimArgs(args);
  if (help) {
    io.stdout(USAGE);
    return EXIT.ok;
  }
  const sim = await startSim(options);
  const host = new URL(sim.url).hostname;
  // The simulated tailnet's auth key, in a file as on a real edge-gateway, so guests can join during an apply.
  const scratch = mkdtempSync(join(tmpdir(), 'jarvis-sim-'));
  const authKeyFile = join(scratch, 'tailscale-authkey');
  writeFileSync(authKeyFile, `tskey-auth-sim-${randomBytes(12).toString('hex')}\n`, { mode: 0o600 });
  const env: Array<[string, string | number]> = [
    ['PROXMOX_URL', sim.url],
    ['PROXMOX_FINGERPRINT', sim.fingerprint],
    ['PROXMOX_TOKEN_ID', sim.tokenId],
    ['PROXMOX_TOKEN_SECRET', sim.tokenSecret],
    ['PROXMOX_NODE', sim.node],
    ['TAILSCALE_API_URL', sim.tailscaleUrl],
    ['TAILSCALE_API_KEY', sim.tailscaleApiKey],
    ['TAILSCALE_TAILNET', '-'],
    ['TAILSCALE_AUTHKEY_FILE', authKeyFile],
    ['SSH_HOSTS', `${sim.node}=${host}:${sim.mgmtSshPort}`],
    ['SSH_HOST_PINS', `${sim.node}=${sim.mgmtSshFingerprint}`],
    ['SSH_KEY_PATH', sim.mgmtSshKeyPath],
    ['SSH_USER', 'root'],
    ['JARVIS_MGMT_HOST', host],
    ['JARVIS_MGMT_SSH_PORT', sim.mgmtSshPort],
  ];
  // Listen for the stop signals before printing: a caller may stop the simulator as soon as it has the variables.
  const stopped = new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  io.stdout(env.map(([name, value]) => `${name}=${quote(value)}\n`).join(''));
  io.stderr(`jarvis sim: scenario ${options.scenario ?? 'fresh'} on ${sim.url} (Ctrl-C to stop)\n`);
  await stopped;
  await sim.close();
  rmSync(scratch, { recursive: true, force: true });
  io.stderr('jarvis sim: stopped\n');
  return EXIT.ok;
};
