// The change gates for the status snapshot: the apply lock and the freeze, read from the apply store in the data dir
// (deploy/lock.ts). Reading never creates the store: no store yet means no lock and no freeze.
import { existsSync } from 'node:fs';
import { applyDbPath } from '../deploy/db.ts';
import { Journal } from '../deploy/journal.ts';
import { freezeState, readLockHolder } from '../deploy/lock.ts';
import type { GateSummary } from './types.ts';

export function readGates(dataDir: string): Omit<GateSummary, 'pendingPlans'> {
  const path = applyDbPath(dataDir);
  if (!existsSync(path)) return {};
  const journal = Journal.open(path);
  try {
    const holder = readLockHolder(journal);
    const frozen = freezeState(journal);
    return {
      lock: holder && { holder: holder.who, since: holder.since, reason: `applying plan ${holder.planId} (pid ${holder.pid} on ${holder.host})` },
      freeze: frozen && { by: frozen.who, since: frozen.since, reason: frozen.why },
    };
  } finally {
    journal.db.close();
  }
}
