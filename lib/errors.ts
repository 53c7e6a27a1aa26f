// Errors keep a code, a message for the user and the cause apart. Expected outcomes (stale, locked, unauthorized)
// are results, not exceptions; these classes are for the unexpected or for input that stops a command.

/** Exit codes of the CLI (each command's --help and the README's CLI table list its own). */
export const EXIT = {
  ok: 0,
  refused: 1,
  invalidInput: 2,
  failed: 3,
  unreachable: 4,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class JarvisError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: ExitCode = EXIT.failed,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'JarvisError';
  }
}

/** Bad input from the user: a spec, a command, an environment variable. */
export class InputError extends JarvisError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'invalid-input', message, EXIT.invalidInput, options);
    this.name = 'InputError';
  }
}

/** The lab (Proxmox, SSH host, tailnet) could not be reached or refused to talk. */
export class UnreachableError extends JarvisError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'unreachable', message, EXIT.unreachable, options);
    this.name = 'UnreachableError';
  }
}
