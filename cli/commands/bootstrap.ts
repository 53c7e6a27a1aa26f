// `jarvis bootstrap`: from a bare Proxmox node to Jarvis answering in chat (app/bootstrap/run.ts). The CLI's approval
// is --yes or the plan's short hash typed back on standard input.
import { createInterface } from 'node:readline/promises';
import { bootstrap } from '../../app/bootstrap/run.ts';
import { shortHash } from '../../commands/plan-labels.ts';
import { EXIT } from '../../lib/errors.ts';
import { defineCommand } from '../args.ts';

export const command = defineCommand(
  {
    name: 'bootstrap',
    positionals: { min: 0, max: 0 },
    options: {
      yes: { type: 'boolean', short: 'y', description: 'approve the phase-0 plan without typing its short hash' },
    },
    description:
      'From a bare Proxmox VE 9 node to Jarvis in chat: checks the settings the gateway will run with, the node (pinned\n' +
      'certificate, token privileges, pinned SSH login) and the site file; plans phase 0 and applies it once approved; then\n' +
      'installs Jarvis on VM 100 (JARVIS_SELF_VMID) over SSH, pinned to the host key read through its guest agent: the\n' +
      'code (a release of this checkout), Node from Debian 13, the env file (this command\'s settings, with the gateway\'s\n' +
      'paths) and your specs, the unit, and starts it. Run it again to upgrade: it keeps the gateway\'s env file and specs.',
    environment: 'every setting of .env.example (README: Install), JARVIS_GATEWAY_ADDRESS to reach VM 100 another way',
    exitCodes: [
      [EXIT.ok, 'installed and running'],
      [EXIT.refused, 'refused before any change (a check failed, the plan was not approved)'],
      [EXIT.invalidInput, 'invalid or incomplete settings'],
      [EXIT.failed, 'failed part-way (run it again: finished steps are skipped)'],
      [EXIT.unreachable, 'the node is unreachable'],
    ],
  },
  async ({ values }, io) =>
    bootstrap({
      env: io.env,
      cwd: io.cwd,
      say: (text) => io.stderr(text),
      approve: async (plan) => {
        if (values.yes) return true;
        if (!io.stdin) return false;
        const prompt = createInterface({ input: io.stdin, terminal: false });
        try {
          io.stderr(`Apply plan ${plan.id}? Type its short hash ${shortHash(plan.planHash)} to approve: `);
          const answer = await prompt.question('');
          return answer.trim().toLowerCase() === shortHash(plan.planHash);
        } finally {
          prompt.close();
        }
      },
    }),
);
