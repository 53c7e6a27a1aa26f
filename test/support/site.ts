// The simulated node's site (sim/site.yaml): what tests that plan against the simulator read the specs' `!site`
// values from, as `jarvis sim` and the demo do, instead of the placeholders of specs/site.yaml.
import { readFileSync } from 'node:fs';
import { SIM_SITE_FILE } from '../../sim/server.ts';
import { parseSiteBytes, type LoadedSite } from '../../planner/spec/site.ts';

export { SIM_SITE_FILE };

function load(): LoadedSite {
  const result = parseSiteBytes(readFileSync(SIM_SITE_FILE), 'sim/site.yaml');
  if (!result.ok) throw new Error(`sim/site.yaml does not load: ${result.errors.map((e) => e.message).join('; ')}`);
  return result.loaded;
}

export const SIM_SITE: LoadedSite = load();
