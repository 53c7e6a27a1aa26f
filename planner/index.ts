// The planner's main entry points: resolve a phase of a spec, scan the lab, build and render the plan artifact.
export { resolvePhase, phaseNumberOf } from './resolve.ts';
export type { DesiredState, PhaseNumber } from './desired-state.ts';
export { scanLab, scanDesired, type ScanPorts, type FactReaders } from './scan/index.ts';
export { readTargets, type TargetReading } from './scan/targets.ts';
export { readLiveFirewall } from './scan/live-firewall.ts';
export { changesFirewall, recheckPlan } from './recheck.ts';
export { instrumentApi, type RequestStats } from './scan/instrument.ts';
export { buildPlan, computePlanHash, planContent, planContentHash, sealPlan, type BuildPlanInput } from './artifact.ts';
export { renderPlanText, renderPlanMarkdown } from './render.ts';
export { DependencyCycleError } from './order.ts';
