// The provisioning-step contract shared with apply (deploy/) and the planner: a step checks "is it already so?" and
// applies idempotently through a RemoteShell, so the same definition runs over SSH, the guest agent or the simulator.
import type { Secret } from '../../lib/secret.ts';
import type { RemoteShell } from '../../infra/shell.ts';

/** Where secrets come from at apply time; names are environment-variable stems (`TAILSCALE_AUTHKEY` → NAME or NAME_FILE). */
export interface SecretSource {
  get(name: string): Secret;
}

export interface StepContext {
  secrets: SecretSource;
  onOutput?: (line: string) => void;
}

export interface StepCheck {
  done: boolean;
  detail: string;
}

export interface Step {
  id: string;
  where: 'host' | 'guest';
  /** Secrets the apply reads (SecretSource names); apply checks they are there before its first write. */
  secrets?: readonly string[];
  check(shell: RemoteShell, args: Record<string, unknown>): Promise<StepCheck>;
  apply(shell: RemoteShell, args: Record<string, unknown>, ctx: StepContext): Promise<void>;
}
