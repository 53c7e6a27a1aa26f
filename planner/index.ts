// The planner's public surface (TEAM.md contract).
export { resolvePhase, phaseNumberOf, type DesiredState, type PhaseNumber } from './resolve.ts';
export { scanLab, scanDesired, type ScanPorts, type FactReaders } from './scan/index.ts';
export { readTargets, type TargetReading } from './scan/targets.ts';
export { instrumentApi, type RequestStats } from './scan/instrument.ts';
export { buildPlan, computePlanHash, type BuildPlanInput } from './artifact.ts';
export { renderPlanText, renderPlanMarkdown } from './render.ts';
export { DependencyCycleError } from './order.ts';
