// Runs one in-guest network check (lib/net-checks.ts) through the QEMU guest agent: the argv is spawned by qemu-ga
// without a shell, and the answer is what the tool printed and its exit status. A tool that fails, or that the guest
// does not have, is a failed check with the tool's own words; only a lab that stops answering is an error.
import { UnreachableError } from '../../lib/errors.ts';
import { describeProbe, probeArgv, type NetProbe } from '../../lib/net-checks.ts';
import { agentRun } from '../proxmox/agent-shell.ts';
import type { ProxmoxApi } from '../proxmox/api.ts';

export interface ProbeOutcome {
  probe: NetProbe;
  ok: boolean;
  /** What happened, in words (`ping 10.10.20.1: 100% packet loss`). */
  detail: string;
  stdout: string;
}

/** ping waits 2 s, nc 3 s, getent a resolver timeout (5 s × attempts): the exit report comes well within this. */
const PROBE_LIMIT_MS = 30_000;

const lastLine = (text: string): string => text.trim().split('\n').filter(Boolean).at(-1) ?? '';

export async function runNetProbe(api: Pick<ProxmoxApi, 'agentExec' | 'agentExecStatus'>, vmid: number, probe: NetProbe): Promise<ProbeOutcome> {
  const what = describeProbe(probe);
  try {
    const result = await agentRun(api, vmid, probeArgv(probe), { limitMs: PROBE_LIMIT_MS, what });
    if (result.code === 0) return { probe, ok: true, detail: what, stdout: result.stdout };
    const said = lastLine(result.stderr) || lastLine(result.stdout);
    return { probe, ok: false, detail: `${what}: exit ${result.code}${said ? ` (${said})` : ''}`, stdout: result.stdout };
  } catch (error) {
    if (error instanceof UnreachableError) throw error;
    return { probe, ok: false, detail: `${what}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, stdout: '' };
  }
}
