// A failed-backup alert as the watchers raise it (monitor/alerts.ts): what the bot's alert tests post and render.
import type { Alert } from '../../../monitor/types.ts';

export const UPID = 'UPID:proxmox:0001A2B3:00C4D5E6:6745A9B0:vzdump::root@pam:';
/** A task started by an API token on a long node name: the custom id would pass Discord's 100 characters. */
export const LONG_UPID = 'UPID:proxmox-homelab-node-01:0001A2B3:00C4D5E6:6745A9B0:vzdump:300:jarvis@pve!jarvis-automation:';

export const failedBackup = (upid: string): Alert => ({
  key: `backup-failed:${upid}`,
  kind: 'backup-failed',
  severity: 'critical',
  title: 'Backup failed: VM 300 (app-host)',
  lines: ['job: jarvis-daily', 'VM: 300 (app-host)', 'error: vma_queue_write: write error - No space left on device', 'started 2026-11-24T02:30:00.000Z, took 6 min 2 s', 'last good backup of 300: 3 d ago', `task: ${upid}`],
  logTail: ['INFO:  71% (90.9 GiB of 128.0 GiB) in 6m 2s', 'ERROR: vma_queue_write: write error - No space left on device', 'ERROR: Backup of VM 300 failed - vma_queue_write: write error - No space left on device'],
  actions: [{ id: `show-log:${upid}`, label: 'Show log' }, { id: 'plan-retry:300', label: 'Plan a retry of VM 300' }],
  raisedAt: '2026-11-26T02:00:00.000Z',
});
