// "Plan a retry" looks at the target storage first: on a backup storage 99% full (the backup-failures lab, where VM
// 300's backups keep failing with "No space left on device") the retry is refused with what would fix it, instead of
// failing once more after minutes of work; a retry that may not fit is planned with a warning.
import { describe, expect, it } from 'vitest';
import type { RunningServices } from '../../app/services.ts';
import type { CommandContext } from '../../commands/context.ts';
import { retryCommand } from '../../commands/handlers/retry.ts';
import type { Requester } from '../../commands/services.ts';
import { servicesOnSimClosedAfterAll } from '../support/services-on-sim.ts';

const owner: Requester = { platform: 'discord', id: '111111111111111111', displayName: 'owner' };
const openServices = servicesOnSimClosedAfterAll();
const services = async (scenario: string): Promise<RunningServices> => (await openServices({ scenario })).running;

describe('a backup retry and the space on its storage', () => {
  it('is refused when the VM’s last backup is larger than what the storage has free, with a Plan a fix button', async () => {
    const running = await services('backup-failures');
    const result = await running.services.planBackupRetry(300, owner);
    if (result.ok) throw new Error('the retry was planned');
    expect(result.code).toBe('refused');
    expect(result.plan?.violations).toEqual([
      expect.objectContaining({
        ruleId: 'backup.storage-full',
        message: expect.stringMatching(/^local has 2\.8 GiB free and the last backup of VM 300 there was 10\.2 GiB: the backup cannot fit\. Free space on local/),
      }),
    ]);

    const ctx = { deps: { services: running.services, approvals: { register: () => undefined } }, requester: owner, conversation: { channelKey: 'c' } } as unknown as CommandContext;
    const reply = await retryCommand({ name: 'retry', vmid: 300 }, ctx);
    expect(reply.approvalRequest).toBeUndefined();
    expect(reply.buttons).toEqual([expect.objectContaining({ action: 'plan-fix', arg: 'phase0', label: 'Plan a fix' })]);
    expect(reply.sections.flatMap((s) => s.lines).join('\n')).toContain('the backup cannot fit');
  });

  it('is planned with a warning when only the VM’s disks (uncompressed) exceed the free space, and without one when they fit', async () => {
    const running = await services('phase0');
    const big = await running.services.planBackupRetry(300, owner);
    if (!big.ok) throw new Error(big.message);
    expect(big.plan.warnings).toEqual([
      expect.objectContaining({ code: 'backup-space', message: expect.stringMatching(/^local has \d+\.\d GiB free and the disks of VM 300 hold up to 128\.0 GiB before compression: the backup may not fit once compressed$/) }),
    ]);
    const small = await running.services.planBackupRetry(100, owner);
    if (!small.ok) throw new Error(small.message);
    expect(small.plan.warnings).toEqual([]);
  });
});
