// Structured logs (pino) to standard error, so `--json` output on standard out stays clean. Secrets are kept out by
// construction (Secret renders as [redacted]); pino's redact covers the known paths, and every line is scrubbed for
// registered secret values as a last line of defence.
import pino, { type Logger } from 'pino';
import { scrubSecrets } from './secret.ts';

export type { Logger };

const REDACT_PATHS = [
  'tokenSecret',
  'token',
  'authKey',
  'password',
  'passphrase',
  'headers.authorization',
  'headers.cookie',
  '*.tokenSecret',
  '*.token',
  '*.authKey',
  '*.password',
  '*.headers.authorization',
  'err.request.headers.authorization',
];

export function createLogger(level = 'info', write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  return pino(
    { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: undefined },
    { write: (line: string) => write(scrubSecrets(line)) },
  );
}
