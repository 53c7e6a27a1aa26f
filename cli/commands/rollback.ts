// `jarvis rollback <VMID> <SNAPSHOT>`: the rollback plan of `/jarvis rollback` (Jarvis snapshots the current state
// first), saved for `jarvis apply`. It is the only way to roll back Jarvis's own VM (JARVIS_SELF_VMID): chat refuses,
// and so does this command when it runs inside that VM (its MAC addresses are the VM's), because the rollback would
// rewind the journal and approvals this very process writes.
import { userInfo } from 'node:os';
import { openConfiguredLab } from '../../app/lab.ts';
import { createServices } from '../../app/services.ts';
import { parseNetProperty } from '../../lib/pve-formats.ts';
import { localMacAddresses } from '../../infra/local-host.ts';
import { loadConfig } from '../../lib/config.ts';
import { EXIT, InputError } from '../../lib/errors.ts';
import { scrubSecrets } from '../../lib/secret.ts';
import { renderPlanText } from '../../planner/index.ts';
import { defineCommand } from '../args.ts';

/** The MACs of the VM's NICs that this machine also has: this process runs inside that VM. */
export function sharedMacs(vmConfig: Record<string, unknown>, local: readonly string[]): string[] {
  const vmMacs = Object.entries(vmConfig)
    .filter(([key, value]) => /^net\d+$/.test(key) && typeof value === 'string')
    .map(([, value]) => (parseNetProperty(value as string).macaddr ?? '').toUpperCase())
    .filter(Boolean);
  return vmMacs.filter((mac) => local.includes(mac));
}

export const command = defineCommand(
  {
    name: 'rollback',
    operands: '<VMID> <SNAPSHOT>',
    positionals: { min: 2, max: 2 },
    options: {},
    description:
      'Plans the rollback of a VM to one of its snapshots (the current state is snapshotted first), as /jarvis rollback does,\n' +
      'and saves it in JARVIS_DATA_DIR/plans for `jarvis apply <id> --yes`. Jarvis\'s own VM (JARVIS_SELF_VMID) is rolled\n' +
      'back only this way, from another machine: its snapshot holds an older copy of Jarvis\'s journal and approvals.',
    environment: 'PROXMOX_*, JARVIS_DATA_DIR, JARVIS_SELF_VMID (see .env.example)',
    exitCodes: [
      [EXIT.ok, 'planned and saved'],
      [EXIT.refused, 'refused (an unknown snapshot, a VM outside the spec, Jarvis\'s own VM from inside it)'],
      [EXIT.invalidInput, 'invalid input'],
      [EXIT.unreachable, 'lab unreachable'],
    ],
  },
  async ({ positionals }, io) => {
    const [vmidText, snapshot] = positionals as [string, string];
    const vmid = Number(vmidText);
    if (!/^\d{3,9}$/.test(vmidText) || vmid < 100) throw new InputError(`"${vmidText}" is not a VM id (100 or more)`);
    const config = loadConfig(io.env);
    const lab = await openConfiguredLab(config, 'or start a simulated lab with `jarvis sim` and load the variables it prints');
    try {
      if (vmid === config.selfVmid) {
        const inside = sharedMacs((await lab.ports.pve.vmConfig(vmid)).config, localMacAddresses());
        if (inside.length > 0) {
          io.stderr(
            `jarvis rollback: this machine is VM ${vmid}, Jarvis's own (it has its NIC ${inside.join(', ')}): the rollback would rewind the journal and ` +
              'approvals this command writes. Run it from another machine with the same configuration (your laptop, or the node).\n',
          );
          return EXIT.refused;
        }
      }
      const running = createServices({ lab, config, cwd: io.cwd, env: io.env });
      try {
        const user = userInfo().username;
        const result = await running.services.planRollback(vmid, snapshot, { platform: 'cli', id: user, displayName: user });
        if (!result.ok) {
          io.stderr(scrubSecrets(`jarvis rollback: ${result.message}\n`));
          return result.code === 'unreachable' ? EXIT.unreachable : result.code === 'invalid' ? EXIT.invalidInput : EXIT.refused;
        }
        io.stdout(scrubSecrets(renderPlanText(result.plan)));
        io.stderr(`saved as ${result.plan.id}; apply it with: jarvis apply ${result.plan.id} --yes\n`);
        return EXIT.ok;
      } finally {
        running.close();
      }
    } finally {
      await lab.close();
    }
  },
);
