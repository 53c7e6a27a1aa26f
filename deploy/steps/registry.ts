// Step lookup for apply (H6) and the planner's catalogue: ids are the contract in planner/plan.ts ActionParams.
import { InputError } from '../../lib/errors.ts';
import { dockerInstall, naasLayout, stackScaffold } from './docker.ts';
import { haosImage } from './haos.ts';
import { networkRoutes, packagesInstall } from './network.ts';
import { aptNoSubscription, cloudInitVendor } from './node-files.ts';
import { migrationData, virtiofsMount } from './storage.ts';
import { tailscaleInstall, tailscaleJoin, tailscaleRoutes } from './tailscale.ts';
import type { Step } from './types.ts';
import { zfsDataset, zfsSnapshotPolicy } from './zfs.ts';

export type { SecretSource, Step, StepCheck, StepContext } from './types.ts';

const STEPS: ReadonlyMap<string, Step> = new Map(
  [
    zfsDataset,
    zfsSnapshotPolicy,
    migrationData,
    haosImage,
    cloudInitVendor,
    aptNoSubscription,
    tailscaleInstall,
    tailscaleJoin,
    tailscaleRoutes,
    dockerInstall,
    naasLayout,
    stackScaffold,
    virtiofsMount,
    networkRoutes,
    packagesInstall,
  ].map(
    (s) => [s.id, s],
  ),
);

export const STEP_IDS: readonly string[] = [...STEPS.keys()];

export function getStep(id: string): Step {
  const step = STEPS.get(id);
  if (!step) throw new InputError(`unknown provisioning step ${id}; known: ${STEP_IDS.join(', ')}`);
  return step;
}
