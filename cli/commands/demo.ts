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
import { runConsole } from '../../bot/console/run-console.ts';
import { loadConfig } from '../../lib/config.ts';
import { EXIT, InputError } from '../../lib/errors.ts';
import type { CliCommand } from '../io.ts';

const USAGE = `usage: jarvis demo [--scenario NAME] [--task-seconds S]

The console chat over a simulated Proxmox lab (what \`npm start\` runs). Type /jarvis help.
  --scenario NAME    the simulated lab to start from (default fresh; also phase0, phase1, phase2, drifted,
                     backup-failures, lived-in, large)
  --task-seconds S   how long each simulated Proxmox task takes (default 0.5)
Plans and the journal go to a temporary directory unless JARVIS_DATA_DIR is set.
`;

export const run: CliCommand = async (args, io) => {
  let scenario = 'fresh';
  let taskSeconds = 0.5;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--help' || arg === '-h') {
      io.stdout(USAGE);
      return EXIT.ok;
    }
    const value = args[++i];
    if (arg === '--scenario' && value) scenario = value;
    else if (arg === '--task-seconds' && value && Number(value) >= 0) taskSeconds = Number(value);
    else throw new InputError(`unknown or incomplete option "${arg}"\n\n${USAGE}`);
  }

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
};
