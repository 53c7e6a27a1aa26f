// Everything apply writes or shows (journal, audit, progress, dry-run) passes through here: values under secret-looking
// keys are replaced, Secret objects render as [redacted] by themselves, and any registered secret value left in the
// text is scrubbed as a last line of defence.
import { Secret, scrubSecrets } from '../lib/secret.ts';

const REDACTED = '[redacted]';
/** Parameter names that carry credentials in PVE, Tailscale and step arguments. */
const SECRET_KEY = /pass(word|wd)?$|secret|token|auth-?key|api-?key|private-?key|^cipassword$/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** A deep copy with secret-keyed values and Secret instances replaced by `[redacted]`. */
export function redactValue(value: unknown): unknown {
  if (value instanceof Secret) return REDACTED;
  if (Array.isArray(value)) return value.map(redactValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      out[key] = isSecretKey(key) && inner !== undefined && inner !== '' ? REDACTED : redactValue(inner);
    }
    return out;
  }
  if (typeof value === 'string') return scrubSecrets(value);
  return value;
}

/** JSON text that is safe to store or print. */
export function safeJson(value: unknown): string {
  return scrubSecrets(JSON.stringify(redactValue(value)) ?? 'null');
}

export function safeText(text: string): string {
  return scrubSecrets(text);
}
