// Running a bash script inside a guest from the Proxmox host shell with `qm guest exec` (QEMU guest agent), for host
// steps that act on both sides (data migrations). qm answers JSON; we parse it instead of trusting its exit status.
import { z } from 'zod';
import { pveObject } from '../../infra/proxmox/schemas.ts';
import { JarvisError } from '../../lib/errors.ts';
import type { RemoteShell } from '../../infra/shell.ts';
import { buildScript, runScript } from './script.ts';

/** What `qm guest exec` prints (qemu-server's agent exec-status answer). */
export const guestExecAnswer = pveObject({
  exitcode: z.number().int().optional(),
  exited: z.union([z.number(), z.boolean()]),
  'out-data': z.string().optional(),
  'err-data': z.string().optional(),
});

export async function guestExecViaHost(
  shell: RemoteShell,
  vmid: number,
  guestScript: string,
  opts: { what: string; timeoutSec: number; onOutput?: (line: string) => void },
): Promise<string> {
  const hostScript = buildScript({ VMID: vmid, LIMIT: opts.timeoutSec, GUEST: guestScript }, `
qm guest exec "$VMID" --timeout "$LIMIT" -- bash -c "$GUEST"
`);
  const raw = await runScript(shell, hostScript, { what: opts.what, timeoutSec: opts.timeoutSec + 30 });
  let answer: z.infer<typeof guestExecAnswer>;
  try {
    answer = guestExecAnswer.parse(JSON.parse(raw));
  } catch {
    throw new JarvisError('step-failed', `${opts.what} on ${shell.host}: qm guest exec ${vmid} gave an unexpected answer`);
  }
  const out = answer['out-data'] ?? '';
  if (opts.onOutput && out) opts.onOutput(out);
  if (!answer.exited || answer.exited === 0) {
    throw new JarvisError('step-timeout', `${opts.what} on ${shell.host}: still running in VM ${vmid} after ${opts.timeoutSec} s`);
  }
  if (answer.exitcode !== 0) {
    const tail = (answer['err-data'] ?? out).trim().split('\n').slice(-5).join(' | ');
    throw new JarvisError('step-failed', `${opts.what} in VM ${vmid} (via ${shell.host}): exit ${answer.exitcode ?? '?'}${tail ? `: ${tail}` : ''}`);
  }
  return out;
}
