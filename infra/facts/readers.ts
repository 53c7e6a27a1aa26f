// The fact readers the scan uses (planner/scan FactReaders), in one place for planning, apply and validation.
import type { FactReaders } from '../../planner/scan/index.ts';
import { readAptSources } from './apt.ts';
import { readGuestFacts } from './guest.ts';
import { readHostFacts } from './host.ts';
import { readPublishedSums } from './published-sums.ts';

export const FACT_READERS: FactReaders = {
  guest: (shell) => readGuestFacts(shell),
  host: readHostFacts,
  publishedSums: readPublishedSums,
  aptSources: readAptSources,
};
