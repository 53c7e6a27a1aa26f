// A secret value that cannot be rendered by accident: String(), JSON, util.inspect and template literals all give
// `[redacted]`. The only way to the value is `reveal()`, called where it is sent (an HTTP header, ssh, stdin).
import { inspect } from 'node:util';

const REDACTED = '[redacted]';

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}

/** Every secret value known to the process, for the last-chance scan of outgoing text (lib/redact.ts). */
const registry = new Set<string>();

export function registerSecret(secret: Secret): Secret {
  const value = secret.reveal();
  // Very short values would match ordinary text; they are still never rendered through Secret.
  if (value.length >= 6) registry.add(value);
  return secret;
}

export function knownSecretValues(): ReadonlySet<string> {
  return registry;
}

/** Replaces any registered secret value in text with `[redacted]`. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const value of registry) {
    if (out.includes(value)) out = out.split(value).join(REDACTED);
  }
  return out;
}
