// `jarvis doctor`: checks the configuration and everything it points at, one line per check with the fix.
// Exit 0 when every check passes (warnings allowed), 1 when any fails.
import { runDoctor } from '../../app/doctor/run.ts';
import { doctorExitCode, renderDoctorJson, renderDoctorText } from '../../app/doctor/result.ts';
import { EXIT } from '../../lib/errors.ts';
import { defineCommand } from '../args.ts';

export const command = defineCommand(
  {
    name: 'doctor',
    positionals: { min: 0, max: 0 },
    options: {
      json: { type: 'boolean', description: 'print one JSON document on stdout ({ ok, checks: [{ id, status, summary, fix }] })' },
    },
    description:
      'Checks, each on one line (✓ pass, ✗ fail, ! warning) with the fix: the configuration; the Proxmox node (reachable,\n' +
      "TLS pin, the token's privileges against the JarvisOps role, clock); SSH host pins and logins; Tailscale credentials\n" +
      'and the auth key file; Discord and Slack tokens, the /jarvis command, Socket Mode; the data directory.',
    environment: 'every setting of .env.example',
    exitCodes: [
      [EXIT.ok, 'every check passed (warnings allowed)'],
      [EXIT.refused, 'a check failed'],
      [EXIT.invalidInput, 'invalid arguments'],
    ],
  },
  async ({ values }, io) => {
    const results = await runDoctor(io.env, io.cwd);
    io.stdout(values.json ? renderDoctorJson(results) : renderDoctorText(results));
    return doctorExitCode(results);
  },
);
