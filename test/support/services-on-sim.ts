// The real services (app/services.ts) over the in-process simulator, as the app and bot tests open them: a fresh
// data directory, the lab of one scenario, the services configured from `JARVIS_DATA_DIR` (plus any extra variables
// a test needs), and one close() that undoes all three.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { openSimLab, type Lab } from '../../app/lab.ts';
import { createServices, type RunningServices } from '../../app/services.ts';
import { loadConfig } from '../../lib/config.ts';

export interface ServicesOnSimOptions {
  scenario: string;
  /** The simulator's task duration; openSimLab's default when absent. */
  taskSeconds?: number;
  /** Variables besides JARVIS_DATA_DIR, given the data directory (which exists by then, empty). */
  env?: (dir: string) => Record<string, string>;
}

export interface ServicesOnSim {
  lab: Lab;
  running: RunningServices;
  /** The data directory (JARVIS_DATA_DIR), removed by close(). */
  dir: string;
  /** The environment the services were configured from. */
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export async function openServicesOnSim(options: ServicesOnSimOptions): Promise<ServicesOnSim> {
  const dir = mkdtempSync(join(tmpdir(), 'jarvis-services-'));
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  let lab: Lab;
  try {
    lab = await openSimLab({ scenario: options.scenario, taskSeconds: options.taskSeconds });
  } catch (error) {
    removeDir();
    throw error;
  }
  const env: NodeJS.ProcessEnv = { JARVIS_DATA_DIR: dir, ...options.env?.(dir) };
  let running: RunningServices;
  try {
    running = createServices({ lab, config: loadConfig(env), cwd: process.cwd(), env });
  } catch (error) {
    await lab.close();
    removeDir();
    throw error;
  }
  return {
    lab,
    running,
    dir,
    env,
    close: async () => {
      running.close();
      await lab.close();
      removeDir();
    },
  };
}

/**
 * Opens the services before the file's (or the enclosing describe's) tests and closes them after them; `use` keeps
 * what the tests read. The afterAll closes them even when a later beforeAll fails (a cleanup returned from beforeAll
 * would then be dropped by vitest).
 */
export function servicesOnSimAroundAll(options: ServicesOnSimOptions, use: (opened: ServicesOnSim) => void, timeoutMs?: number): void {
  let opened: ServicesOnSim | undefined;
  beforeAll(async () => {
    opened = await openServicesOnSim(options);
    use(opened);
  }, timeoutMs);
  afterAll(async () => {
    await opened?.close();
    opened = undefined;
  });
}

/** The same around each test: every test gets a lab, services and data directory of its own. */
export function servicesOnSimAroundEach(options: ServicesOnSimOptions, use: (opened: ServicesOnSim) => void): void {
  let opened: ServicesOnSim | undefined;
  beforeEach(async () => {
    opened = await openServicesOnSim(options);
    use(opened);
  });
  afterEach(async () => {
    await opened?.close();
    opened = undefined;
  });
}

/**
 * For files that open several labs from their tests: an opener whose labs are all closed after the file's (or the
 * enclosing describe's) tests. Call it while the file is collected, not inside a test.
 */
export function servicesOnSimClosedAfterAll(): (options: ServicesOnSimOptions) => Promise<ServicesOnSim> {
  const opened: ServicesOnSim[] = [];
  afterAll(async () => {
    for (const each of opened) await each.close();
  });
  return async (options) => {
    const each = await openServicesOnSim(options);
    opened.push(each);
    return each;
  };
}
