// The services over the lived-in simulator (shapes real nodes send): a snapshot whose deletion never finished is
// listed as half made, is not offered for rollback, and a rollback to it is refused with how to clear it.
import { describe, expect, it } from 'vitest';
import type { Lab } from '../../app/lab.ts';
import type { RunningServices } from '../../app/services.ts';
import { snapshotsCommand } from '../../commands/handlers/snapshots.ts';
import type { CommandContext } from '../../commands/context.ts';
import type { Requester } from '../../commands/services.ts';
import { servicesOnSimAroundAll } from '../support/services-on-sim.ts';

const owner: Requester = { platform: 'console', id: 'owner', displayName: 'owner' };

let lab: Lab;
let running: RunningServices;

servicesOnSimAroundAll({ scenario: 'lived-in', taskSeconds: 0.05 }, (opened) => ({ lab, running } = opened));

describe('half-made snapshots through the services', () => {
  it('the list marks it, and the suggested rollback is to a complete snapshot', async () => {
    const pve = lab.ports.pve;
    expect((await pve.waitForTask(await pve.createSnapshot(300, 'complete-one', 'test'))).ok).toBe(true);
    const list = await running.services.snapshots(300);
    if ('code' in list) throw new Error(list.message);
    expect(list.snapshots.find((s) => s.name === 'before-upgrade')).toMatchObject({ incomplete: 'delete' });
    expect(list.snapshots.find((s) => s.name === 'complete-one')).not.toHaveProperty('incomplete');
    const reply = await snapshotsCommand({ name: 'snapshots', vmid: 300 }, { deps: { services: running.services } } as unknown as CommandContext);
    const text = JSON.stringify(reply);
    expect(text).toContain('before-upgrade — ');
    expect(text).toContain('half made (deletion never finished): cannot be rolled back to');
    expect(text).toContain('/jarvis rollback 300 complete-one');
  });

  it('a rollback to it is refused, saying why and how to clear it; nothing is planned', async () => {
    const result = await running.services.planRollback(300, 'before-upgrade', owner);
    expect(result).toMatchObject({ ok: false, code: 'refused' });
    expect(!result.ok && result.message).toBe(
      'snapshot before-upgrade of VM 300 is half made (its deletion never finished); Proxmox cannot roll back to it. If no snapshot task of VM 300 is running, remove it with "qm delsnapshot 300 before-upgrade --force" (and "qm unlock 300" if the VM stays locked)',
    );
  });
});
