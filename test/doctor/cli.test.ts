// `jarvis doctor` through the command table: options, help, exit codes.
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import { tempDataDir } from './support.ts';

async function jarvis(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env, cwd: tmpdir() });
  return { code, stdout, stderr };
}

describe('jarvis doctor (command line)', () => {
  it('prints its help with exit 0', async () => {
    const run = await jarvis(['doctor', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: jarvis doctor \[--json\]/);
  });

  it('refuses an unknown option with exit 2 and checks nothing', async () => {
    const run = await jarvis(['doctor', '--fix']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('jarvis doctor: unknown option "--fix"');
    expect(run.stdout).toBe('');
  });

  it('exits 1 with the failing line and its fix when nothing is configured', async () => {
    const run = await jarvis(['doctor'], { JARVIS_DATA_DIR: tempDataDir() });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('✗ configuration: no Proxmox node configured\n    fix: set PROXMOX_URL');
    expect(run.stdout).toContain('! Discord: not configured');
    expect(run.stdout).toContain('✗ chat: no chat adapter configured: `jarvis bot` refuses to start');
    expect(run.stdout).toContain('✗ approvers: JARVIS_APPROVERS is empty: nobody can approve a plan');
    expect(run.stdout).toMatch(/\n3 of \d+ checks failed, \d warnings\n$/);
  });
});
