// Writes a plan artifact: JSON and its Markdown twin, `<dir>/<id>.json` and `<dir>/<id>.md`.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Plan } from '../planner/plan.ts';
import { renderPlanMarkdown } from '../planner/render.ts';
import { scrubSecrets } from '../lib/secret.ts';

export async function writePlanFiles(dir: string, plan: Plan): Promise<{ json: string; markdown: string }> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, `${plan.id}.json`);
  const markdown = join(dir, `${plan.id}.md`);
  // Plans never hold secrets by construction; the scrub is the last-chance check on what leaves the process.
  await writeFile(json, scrubSecrets(`${JSON.stringify(plan, null, 2)}\n`), { flag: 'wx' });
  await writeFile(markdown, scrubSecrets(renderPlanMarkdown(plan)), { flag: 'wx' });
  return { json, markdown };
}
