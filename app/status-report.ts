// The status snapshot as the generic `Report` of commands/services.ts, for `/jarvis status` through the services
// port: level, headline, then the items that need attention and one section per part of the lab.
import type { Report } from '../commands/services.ts';
import { statusSections } from '../monitor/render-status.ts';
import type { StatusReport } from '../monitor/types.ts';

export function statusToReport(report: StatusReport): Report {
  const attention = report.attention.map((a) => `${a.level === 'critical' ? '✗' : a.level === 'warn' ? '⚠' : '?'} ${a.text}`);
  return {
    level: report.level,
    headline: report.headline,
    sections: [...(attention.length > 0 ? [{ title: 'Needs attention', lines: attention }] : []), ...statusSections(report)],
  };
}
