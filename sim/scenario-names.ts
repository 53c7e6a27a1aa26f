// The simulator's starting labs by name, apart from their builders (scenarios.ts), so a command line can list and
// check them without loading the simulator.
export const SCENARIOS = ['fresh', 'phase0', 'phase1', 'phase2-router-pending', 'phase2', 'drifted', 'backup-failures', 'lived-in', 'large'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
