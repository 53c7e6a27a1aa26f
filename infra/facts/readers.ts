// The fact readers the scan uses (planner/scan FactReaders, matched by shape), in one place for planning, apply and
// validation.
import { readAptSources } from './apt.ts';
import { readGuestFacts } from './guest.ts';
import { readHostFacts } from './host.ts';
import { runNetProbe } from './net-probe.ts';
import { readPublishedSums } from './published-sums.ts';

export const FACT_READERS = {
  guest: (shell: Parameters<typeof readGuestFacts>[0]) => readGuestFacts(shell),
  host: readHostFacts,
  publishedSums: readPublishedSums,
  aptSources: readAptSources,
  netProbe: runNetProbe,
};
