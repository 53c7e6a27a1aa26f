// `jarvis sim`: serves the simulated Proxmox node (and its tailnet) on loopback and prints the environment a Jarvis
// process needs to use it, as lines a shell can source. Runs until SIGINT/SIGTERM.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT, InputError } from '../../lib/errors.ts';
import { SCENARIOS, type ScenarioName } from '../../sim/scenario-names.ts';
import { startSim, type SimOptions } from '../../sim/server.ts';
import { defineCommand, type ParsedArgs } from '../args.ts';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

function number(flag: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (value === undefined || !Number.isFinite(n) || n < min) throw new InputError(`${flag}: expected a number ≥ ${min}, got "${value ?? ''}"`);
  return n;
}

/** The startSim options a parsed `jarvis sim` command line asks for. */
export function simOptionsFrom({ values }: ParsedArgs<(typeof command)['spec']['options']>): SimOptions {
  const options: SimOptions = { faults: [...values.fault] };
  if (values.scenario !== undefined) options.scenario = values.scenario as ScenarioName;
  if (values['large-count'] !== undefined) options.largeCount = number('--large-count', values['large-count'], 0);
  if (values['latency-ms'] !== undefined) options.latencyMs = number('--latency-ms', values['latency-ms'], 0);
  if (values['task-seconds'] !== undefined) options.taskSeconds = number('--task-seconds', values['task-seconds'], 0);
  if (values.seed !== undefined) options.seed = number('--seed', values.seed, 0);
  if (values['request-log'] !== undefined) options.requestLogFile = values['request-log'];
  if (values.token !== undefined) {
    const match = /^([^\s@!=]+@[A-Za-z][\w.-]*![A-Za-z][\w.-]*)=(\S+)$/.exec(values.token);
    if (!match) throw new InputError('--token: expected USER@REALM!TOKENID=SECRET');
    options.tokens = [{ tokenId: match[1]!, secret: match[2]!, privileges: 'admin' }];
  }
  const listen = values.listen;
  if (listen !== undefined) {
    const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(listen);
    if (!match) throw new InputError(`--listen: expected HOST:PORT, got "${listen}"`);
    const host = match[1]!.replace(/^\[|\]$/g, '');
    if (!LOOPBACK.has(host) && !values['allow-non-loopback']) {
      throw new InputError(`--listen ${listen}: the simulator binds loopback only; add --allow-non-loopback to serve on ${host}`);
    }
    options.host = host === 'localhost' ? '127.0.0.1' : host;
    options.port = number('--listen port', match[2], 0);
  }
  return options;
}

const quote = (value: string | number): string => `'${String(value).replace(/'/g, `'\\''`)}'`;

export const command = defineCommand(
  {
    name: 'sim',
    positionals: { min: 0, max: 0 },
    options: {
      listen: { type: 'string', value: 'HOST:PORT', description: 'where to serve (default 127.0.0.1:0, a free port); another address needs --allow-non-loopback' },
      scenario: { type: 'string', value: 'NAME', choices: SCENARIOS, description: 'the lab to start from (default fresh)' },
      'large-count': { type: 'string', value: 'N', description: 'extra unmanaged VMs in the large scenario (default 1000)' },
      'latency-ms': { type: 'string', value: 'N', description: 'added before each API answer (default 0)' },
      'task-seconds': { type: 'string', value: 'S', description: 'simulated duration of every task (default 3)' },
      fault: { type: 'string', multiple: true, value: 'SPEC', description: 'inject a fault: 5xx:RATE | timeout:PATH_GLOB | 596:PATH_GLOB | task-fail:TYPE | task-slow:TYPE:SECONDS | router:no-routing | router:no-dhcp:BRIDGE (sim/README.md)' },
      'request-log': { type: 'string', value: 'FILE', description: 'append every API request to this file as JSON lines, secrets redacted' },
      token: { type: 'string', value: 'USER@REALM!ID=SECRET', description: 'the API token to accept (default: root@pam!jarvis with a random secret; printed either way)' },
      seed: { type: 'string', value: 'N', description: 'makes MACs, UUIDs, job ids and 5xx draws reproducible (default 1)' },
      'allow-non-loopback': { type: 'boolean', description: 'allow --listen on an address other than loopback' },
    },
    description:
      'Serves the simulated Proxmox VE node (and its tailnet) and prints the environment a Jarvis process needs to use it,\n' +
      'as lines a shell can source (PROXMOX_*, SSH_*, TAILSCALE_*, JARVIS_MGMT_*, JARVIS_FIREWALL_CYCLE_SECONDS). Runs until SIGINT\n' +
      'or SIGTERM.',
    exitCodes: [
      [EXIT.ok, 'stopped by SIGINT or SIGTERM'],
      [EXIT.invalidInput, 'invalid input'],
    ],
  },
  async (args, io) => {
    const options = simOptionsFrom(args);
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
      // The simulated node's LAN and disks, instead of the placeholders of specs/site.yaml.
      ['JARVIS_SITE_FILE', sim.siteFile],
      // VM 100's sshd, forwarded to loopback (its LAN address is not routable from here), for `jarvis bootstrap`.
      ['JARVIS_GATEWAY_ADDRESS', `${host}:${sim.gatewaySshPort}`],
      ['JARVIS_MGMT_HOST', host],
      ['JARVIS_MGMT_SSH_PORT', sim.mgmtSshPort],
      // pve-firewall's update cycle, scaled like every simulated duration: commit-confirm waits for it.
      ['JARVIS_FIREWALL_CYCLE_SECONDS', sim.lab.firewall.cycleSeconds()],
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
  },
);
