// What every guardrail check gets: the validated spec, a way to report a located finding, and phase helpers.
import type { SpecDiagnostic, Severity, SpecPath } from './diagnostic.ts';
import { formatPath } from './diagnostic.ts';
import type { LoadedSpec } from './load.ts';
import type { NicSpec, Spec, VmSpec } from './schema.ts';

export interface GuardrailContext {
  spec: Spec;
  /** Reports a finding at `path`; the severity defaults to the rule's own. */
  report(ruleId: string, path: SpecPath, message: string, fix: string, severity?: Severity): void;
}

export function createContext(loaded: LoadedSpec, severityOf: (ruleId: string) => Severity, out: SpecDiagnostic[]): GuardrailContext {
  return {
    spec: loaded.spec,
    report(ruleId, path, message, fix, severity) {
      out.push({
        severity: severity ?? severityOf(ruleId),
        ruleId,
        file: loaded.source.path,
        ...loaded.source.locate(path),
        path: formatPath(path),
        message,
        fix,
      });
    },
  };
}

export const PHASE_NUMBERS = [0, 1, 2] as const;

/** Phases from `from` to the spec's maxPhase: the phases in which an item exists. */
export function phasesFrom(spec: Spec, from: number): number[] {
  return PHASE_NUMBERS.filter((p) => p >= from && p <= spec.metadata.maxPhase);
}

export interface EffectiveVm {
  net: NicSpec[];
  /** Path of the `net` list in force (the base list or an override's). */
  netPath: SpecPath;
  tags: string[];
  tagsPath: SpecPath;
  cores: number;
  memory: number;
}

/** A VM as it is in `phase`: its base fields with the overrides of every phase up to `phase` applied. */
export function vmAtPhase(vm: VmSpec, index: number, phase: number): EffectiveVm {
  const result: EffectiveVm = {
    net: vm.net,
    netPath: ['vms', index, 'net'],
    tags: vm.tags,
    tagsPath: ['vms', index, 'tags'],
    cores: vm.cores,
    memory: vm.memory,
  };
  for (const key of ['phase1', 'phase2'] as const) {
    const override = vm.overrides?.[key];
    if (!override || Number(key.slice(5)) > phase) continue;
    if (override.net) Object.assign(result, { net: override.net, netPath: ['vms', index, 'overrides', key, 'net'] });
    if (override.tags) Object.assign(result, { tags: override.tags, tagsPath: ['vms', index, 'overrides', key, 'tags'] });
    if (override.cores !== undefined) result.cores = override.cores;
    if (override.memory !== undefined) result.memory = override.memory;
  }
  return result;
}
