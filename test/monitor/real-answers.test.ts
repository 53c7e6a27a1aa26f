// Issue 19, defect 2, on task logs as PVE writes them (test/fixtures/pve-real/vzdump-prestart-failures.derived.json,
// derived from pve-manager PVE/VZDump.pm): a guest whose backup fails before its "Starting Backup" line is reported
// as failed by the per-VM status, the headline and the alert, instead of vanishing behind its last good backup.
import { describe, expect, it } from 'vitest';
import type { TaskLogLine, TaskSummary } from '../../infra/proxmox/api.ts';
import * as S from '../../infra/proxmox/schemas.ts';
import { backupFailureAlerts } from '../../monitor/alerts.ts';
import { buildStatus } from '../../monitor/status.ts';
import { outcomesOfTask } from '../../monitor/vzdump-log.ts';
import { known } from '../../planner/state.ts';
import { loadFixture, type VzdumpAnswer } from '../support/pve-real.ts';
import { collected, THRESHOLDS } from './fixtures.ts';

const answer = loadFixture('vzdump-prestart-failures.derived.json').answer as VzdumpAnswer;
const tasks: TaskSummary[] = S.tasks.parse(answer.tasks.data);
const logs: Record<string, TaskLogLine[]> = Object.fromEntries(Object.entries(answer.logs).map(([upid, log]) => [upid, S.taskLog.parse(log.data)]));
const [job, limitRun, haRun] = tasks as [TaskSummary, TaskSummary, TaskSummary];

describe('2. guests that fail before their backup starts', () => {
  it('the nightly job: each guest gets its outcome, those that failed before starting included', () => {
    expect(outcomesOfTask(job, logs[job.upid]).map((o) => [o.vmid, o.ok, o.error])).toEqual([
      [100, true, undefined],
      [300, false, "unable to create temporary directory '/tank/backups/dump/vzdump-qemu-300-2026_05_04-02_30_43.tmp'"],
      [400, true, undefined],
      [999, false, "unable to find VM '999'"],
    ]);
  });

  it('single-guest runs refused before starting name their reason (max-backup limit, HA stop mode)', () => {
    expect(outcomesOfTask(limitRun, logs[limitRun.upid])).toEqual([expect.objectContaining({ vmid: 300, ok: false, error: expect.stringMatching(/^There is a max backup limit of 3 enforced/) })]);
    expect(outcomesOfTask(haRun, logs[haRun.upid])).toEqual([expect.objectContaining({ vmid: 400, ok: false, error: expect.stringMatching(/^Cannot execute a backup with stop mode on a HA managed/) })]);
  });

  it('status and alerts report VM 300 as failed by the job, not as backed up', () => {
    const now = (job.endtime! + 3 * 3600) * 1000;
    const c = collected({ tasks: known([job]), taskLogs: { [job.upid]: known(logs[job.upid]!) }, tasksSince: job.starttime - 7 * 24 * 3600 });
    const report = buildStatus(c, { now, thresholds: THRESHOLDS });
    if (!report.backups.known) throw new Error(report.backups.reason);
    expect(report.backups.value.perVm.find((vm) => vm.vmid === 300)).toMatchObject({
      level: 'critical',
      last: { ok: false, upid: job.upid },
      note: "last backup failed: unable to create temporary directory '/tank/backups/dump/vzdump-qemu-300-2026_05_04-02_30_43.tmp'",
    });
    expect(report.backups.value.failedTasks).toEqual([expect.objectContaining({ upid: job.upid, vmids: [300, 999] })]);
    expect(report.headline).toContain('backup of VM 300 (app-host)');
    const [alert] = backupFailureAlerts(c, now);
    expect(alert).toMatchObject({ key: `backup-failed:${job.upid}`, title: 'Backup failed: VM 300 (app-host), 999' });
    expect(alert!.actions.map((a) => a.id)).toEqual([`show-log:${job.upid}`, 'plan-retry:300', 'plan-retry:999']);
  });
});
