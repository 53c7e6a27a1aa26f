// A shell on a host Jarvis manages (the Proxmox node or a guest), reached over SSH (infra/ssh) or the QEMU guest
// agent (infra/proxmox/agent-shell.ts). Provisioning steps and the scan use this interface only.
import type { Secret } from '../lib/secret.ts';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Remote timeout in seconds; the command is killed after it (`timeout --kill-after=5 N …`). */
  timeoutSec?: number;
  /** Run as root through `sudo -n` when the login user is not root. */
  sudo?: boolean;
  /** Sent on standard input (e.g. an auth key); never logged. */
  stdin?: Secret | string;
  onOutput?: (chunk: string) => void;
}

export interface RemoteShell {
  /** The host's name as Jarvis knows it (`proxmox`, `edge-gateway`…). */
  readonly host: string;
  readonly transport: 'ssh' | 'agent';
  exec(command: string, options?: ExecOptions): Promise<CommandResult>;
  close(): Promise<void>;
}
