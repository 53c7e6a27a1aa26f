// `npm start` / `jarvis demo`: the console chat over an embedded simulated lab (scenario `fresh`), no configuration.
// Commands are read from standard input, one per line, so a session can be scripted:
//   printf '/jarvis plan phase0\n/jarvis approve\n/jarvis status\n' | npm start
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { openSimLab } from '../../app/lab.ts';
import { approvalAuditor, createServices } from '../../app/services.ts';
import { runConsole } from '../../bot/console/adapter.ts';
import { loadConfig } from '../../lib/config.ts';
import { EXIT, InputError } from '../../lib/errors.ts';
import { SCENARIOS } from '../../sim/scenario-names.ts';
import { defineCommand } from '../args.ts';

/** `--task-seconds S`: a number ≥ 0. */
function seconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InputError(`option --task-seconds: expected a number ≥ 0, got "${value}"`);
  return n;
}

export const command = defineCommand(
  {
    name: 'demo',
    positionals: { min: 0, max: 0 },
    options: {
      scenario: { type: 'string', value: 'NAME', choices: SCENARIOS, description: 'the simulated lab to start from (default fresh)' },
      'task-seconds': { type: 'string', value: 'S', description: 'how long each simulated Proxmox task takes (default 0.5)' },
    },
    description:
      'The console chat over a simulated Proxmox lab (what `npm start` runs). Type /jarvis help; commands are read from\n' +
      'standard input, one per line, so a session can be scripted. Plans and the journal go to a temporary directory\n' +
      'unless JARVIS_DATA_DIR is set; settings of a real lab (PROXMOX_*, DISCORD_*, SLACK_*, SSH_*) are ignored.',
    exitCodes: [
      [EXIT.ok, 'the input ended'],
      [EXIT.invalidInput, 'invalid input'],
    ],
  },
  async ({ values }, io) => {
    const scenario = values.scenario ?? 'fresh';
    const taskSeconds = values['task-seconds'] === undefined ? 0.5 : seconds(values['task-seconds']);
    // The demo owns its sandbox: a temporary data dir and a demo tailnet auth key (the simulated guests check its form).
    const scratch = mkdtempSync(join(tmpdir(), 'jarvis-demo-'));
    const authKeyFile = join(scratch, 'tailscale-authkey');
    writeFileSync(authKeyFile, `tskey-auth-demo-${randomBytes(12).toString('hex')}\n`, { mode: 0o600 });
    const env: NodeJS.ProcessEnv = {
      ...io.env,
      JARVIS_DATA_DIR: io.env.JARVIS_DATA_DIR || join(scratch, 'data'),
      TAILSCALE_AUTHKEY_FILE: authKeyFile,
    };
    // A real lab's settings are ignored here: the demo never reaches anything but its own simulator.
    for (const key of Object.keys(env)) if (/^(PROXMOX_|DISCORD_|SLACK_|SSH_)/.test(key)) delete env[key];
    const config = loadConfig(env);

    io.stderr(`Starting the simulated lab (scenario ${scenario})…\n`);
    const lab = await openSimLab({ scenario, taskSeconds });
    const running = createServices({ lab, config, cwd: io.cwd, env });
    try {
      io.stdout(
        [
          `Jarvis is ready — demo over a simulated Proxmox VE node "proxmox" (${lab.describe}, ${lab.sim!.url}).`,
          'Try: /jarvis help · /jarvis plan phase0 · /jarvis approve · /jarvis status   (Ctrl-D to quit)',
          '',
        ].join('\n'),
      );
      await runConsole({
        input: (io.stdin ?? process.stdin) as Readable,
        output: new Writable({
          write(chunk: Buffer, _encoding, done) {
            io.stdout(chunk.toString());
            done();
          },
        }),
        services: running.services,
        audit: approvalAuditor(running.journal),
      });
      return EXIT.ok;
    } finally {
      running.close();
      await lab.close();
      rmSync(scratch, { recursive: true, force: true });
    }
  },
);
