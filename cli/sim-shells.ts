// `--sim` only: runs the simulated guests' and node's commands for real in sandboxes (sim/guest/runner.ts), so the
// scan reads in-guest and host facts the way it does on a real lab (guest agent, SSH) instead of reporting them unknown.
import type { RunningSim } from '../sim/server.ts';
import type { CommandResult, ExecOptions, RemoteShell } from '../infra/shell.ts';
import { wrapRemoteCommand } from '../infra/ssh/command.ts';

export async function attachSimShells(sim: RunningSim): Promise<{ hostShell: RemoteShell; close: () => Promise<void> }> {
  const { createSimShellRunner } = await import('../sim/guest/runner.ts');
  const runner = createSimShellRunner(sim.lab);
  sim.lab.guestExec = (vmid, argv, input) => runner.guestExec(vmid, argv, input);
  const hostShell: RemoteShell = {
    host: sim.node,
    transport: 'ssh',
    async exec(command: string, options: ExecOptions = {}): Promise<CommandResult> {
      let stdout = '';
      let stderr = '';
      const stdin = typeof options.stdin === 'string' ? options.stdin : options.stdin?.reveal();
      // The same wrapping as the SSH shell (sudo is a no-op stand-in in the sandbox).
      const line = options.timeoutSec ? wrapRemoteCommand(command, { timeoutSec: options.timeoutSec, sudo: false }) : command;
      const code = await runner.hostExec(line, {
        ...(stdin !== undefined ? { stdin } : {}),
        onStdout: (chunk) => {
          stdout += chunk.toString();
          options.onOutput?.(chunk.toString());
        },
        onStderr: (chunk) => {
          stderr += chunk.toString();
        },
      });
      return { code, stdout, stderr };
    },
    close: async () => {},
  };
  return { hostShell, close: () => runner.close() };
}
