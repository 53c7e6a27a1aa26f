// What every use case behind the services port (commands/services.ts) works with: one lab, the configuration and
// the apply store of a running Jarvis. app/services.ts builds it once and hands it to each use case.
import type { ServiceRefusal } from '../../commands/services.ts';
import type { Journal } from '../../deploy/journal.ts';
import type { JarvisConfig } from '../../lib/config.ts';
import { InputError, JarvisError, UnreachableError } from '../../lib/errors.ts';
import type { Lab } from '../lab.ts';
import type { ManualLock } from './gates.ts';

export interface UseCaseContext {
  lab: Lab;
  config: JarvisConfig;
  /** The repository (specs/ lives here). */
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Narration of long work (scans) for logs. */
  log?: (line: string) => void;
  /** config.dataDir made absolute. */
  dataDir: string;
  /** Where plans are saved (`<dataDir>/plans`). */
  plansDir: string;
  /** The apply store: journal, lock, freeze and the audit trail. */
  journal: Journal;
  /** `/jarvis lock`: held across applies of its holder. */
  manualLock: ManualLock;
}

/** An expected failure (bad input, unreachable lab, a refusal) as the port's ServiceRefusal; anything else throws. */
export function refusal(error: unknown): ServiceRefusal {
  if (error instanceof InputError) return { ok: false, code: 'invalid', message: error.message };
  if (error instanceof UnreachableError) return { ok: false, code: 'unreachable', message: error.message };
  if (error instanceof JarvisError) return { ok: false, code: 'refused', message: error.message };
  throw error;
}
