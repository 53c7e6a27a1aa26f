// A watcher's alert as a platform-neutral chat reply (bot/ renders it per platform).
import type { Reply } from '../commands/reply.ts';
import type { Alert } from '../monitor/types.ts';

const LEVEL = { info: 'info', warning: 'medium', critical: 'critical' } as const;

export function alertToReply(alert: Alert): Reply {
  const sections: Reply['sections'] = [{ lines: alert.lines }];
  if (alert.logTail && alert.logTail.length > 0) sections.push({ title: 'Log tail', lines: alert.logTail });
  const next = alert.kind === 'drift' ? '/jarvis drift' : alert.kind.startsWith('backup') ? '/jarvis backups' : '/jarvis status';
  return { level: LEVEL[alert.severity], title: alert.title, sections, next };
}
