// Shared helpers for the spec tests: the canonical specs as text, YAML edits that keep comments, and a one-call check.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { checkSpec, type Finding } from '../../planner/spec/guardrails.ts';
import { parseSpecBytes } from '../../planner/spec/load.ts';
import { SIM_SITE } from '../support/site.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (name: string) => readFileSync(`${ROOT}/specs/${name}`, 'utf8');
export const REFERENCE = read('jarvis-homelab.desired.yaml');
export const NAS = read('nas.desired.yaml');
export const FIREWALL = read('preprod.firewall.desired.yaml');

export type Edit = [path: Array<string | number>, value: unknown];

/** Applies edits through the YAML document model (undefined deletes), so comments and layout stay. */
export function edit(text: string, edits: Edit[]): string {
  const doc = parseDocument(text);
  for (const [path, value] of edits) {
    if (value === undefined) doc.deleteIn(path);
    else doc.setIn(path, doc.createNode(value));
  }
  return doc.toString();
}

/** Loads and checks spec text; throws with the input errors when it does not even load. */
export function findingsOf(text: string, file = 'spec.yaml'): Finding[] {
  const result = parseSpecBytes(Buffer.from(text), file, SIM_SITE);
  if (!result.ok) throw new Error(`spec does not load:\n${result.errors.map((e) => `${e.ruleId} ${e.path} ${e.message}`).join('\n')}`);
  return checkSpec(result.loaded);
}

/** 1-based line of the first line containing `needle`. */
export function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(needle));
  if (index < 0) throw new Error(`"${needle}" not found`);
  return index + 1;
}
