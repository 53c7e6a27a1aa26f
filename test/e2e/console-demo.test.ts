// The demo as a newcomer runs it: the real bin, the console adapter, an embedded simulated lab, a scripted session
// on standard input (issue 7, "Done when").
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/chat-lab.ts';

const SCRIPT = '/jarvis help\n/jarvis plan phase0\n/jarvis approve\n/jarvis status\n/jarvis plan phase0\n';

function runDemo(input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Only what a fresh shell has: no lab, chat or data settings leak in from the test environment.
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LANG: 'C.UTF-8' };
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/jarvis.js'), 'demo'], { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('printf … | node bin/jarvis.js demo', { timeout: 120_000 }, () => {
  it('shows help, a plan that builds booting VMs, apply waiting for the agents and validation, a status, and only the manual step in the second plan', async () => {
    const { code, stdout, stderr } = await runDemo(SCRIPT);
    expect(code, stderr).toBe(0);
    const planId = /Plan phase0 · (plan-\d{8}-[0-9a-f]{8})/.exec(stdout)?.[1];
    expect(planId, stdout).toBeDefined();
    const milestones = [
      'What you can ask Jarvis',
      `Plan phase0 · ${planId}`,
      'max risk medium',
      '— image.download',
      '↩ destroy VM 100 (edge-gateway)',
      '— manual.step',
      '✋ Settings > Add-ons > Add-on Store: install the official Tailscale add-on',
      `owner approved plan ${planId}`,
      "waiting for VM 100's guest agent (up to 600 s; a first boot installs it with cloud-init)",
      "VM 100's guest agent answers after",
      'tailscale installed; tailscaled enabled and running',
      `Applied and validated — waiting for the owner: plan ${planId}`,
      'Validated: a new scan finds nothing left to do.',
      '⏸️ waiting for the owner — vm/400 (home-assistant)',
      'Storage',
      'Gates',
      '1 to create',
    ];
    const positions = milestones.map((text) => stdout.indexOf(text));
    expect(Object.fromEntries(milestones.map((m, i) => [m, positions[i]! >= 0])), stdout).toEqual(Object.fromEntries(milestones.map((m) => [m, true])));
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    // Risk icons per action and a rollback hint under each one.
    const actionLines = stdout.split('\n').filter((line) => /^ {2}[🟢🟡🟠🔴] [+~-] /u.test(line));
    expect(actionLines.length).toBeGreaterThan(5);
    expect(stdout.split('\n').filter((line) => /^ {5}↩ /.test(line))).toHaveLength(actionLines.length);
    expect(stdout).not.toMatch(/\[error\]|Something went wrong|\n\s+at .+:\d+:\d+/);
    // The second plan lists nothing but VM 400's Tailscale, which only the owner can do.
    const second = stdout.slice(stdout.lastIndexOf('Plan phase0 · '));
    expect(second.split('\n').filter((line) => /^ {2}[🟢🟡🟠🔴] [+~-] /u.test(line))).toEqual(['  🟢 + vm/400 (home-assistant) — by the owner — manual.step']);
  });

  it('answers a typo with a suggestion and exits 0 at the end of input', async () => {
    const { code, stdout } = await runDemo('/jarvis stauts\n');
    expect(code).toBe(0);
    expect(stdout).toContain('did you mean `/jarvis status`?');
  });
});
