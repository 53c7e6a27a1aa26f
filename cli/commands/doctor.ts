// `jarvis doctor [--json]`: checks the configuration and everything it points at, one line per check with the fix.
// Exit 0 when every check passes (warnings allowed), 1 when any fails.
import { runDoctor } from '../../app/doctor/run.ts';
import { doctorExitCode, renderDoctorJson, renderDoctorText } from '../../app/doctor/result.ts';
import { EXIT, InputError } from '../../lib/errors.ts';
import type { CliCommand } from '../io.ts';

const USAGE = `usage: jarvis doctor [--json]

Checks, each on one line (✓ pass, ✗ fail, ! warning) with the fix: the configuration; the Proxmox node (reachable,
TLS pin, the token's privileges against the JarvisOps role, clock); SSH host pins and logins; Tailscale credentials
and the auth key file; Discord and Slack tokens, the /jarvis command, Socket Mode; the data directory.

  --json   print one JSON document on stdout ({ ok, checks: [{ id, status, summary, fix }] })
  --help   show this help

exit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 invalid arguments
`;

export const run: CliCommand = async (args, io) => {
  let json = false;
  for (const arg of args) {
    if (arg === '--help' || arg === '-h') {
      io.stdout(USAGE);
      return EXIT.ok;
    }
    if (arg === '--json') json = true;
    else throw new InputError(`unknown option "${arg}"\n\n${USAGE}`);
  }
  const results = await runDoctor(io.env, io.cwd);
  io.stdout(json ? renderDoctorJson(results) : renderDoctorText(results));
  return doctorExitCode(results);
};
