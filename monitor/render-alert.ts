// An alert as text for the console and `jarvis watch`: severity and title, the facts, the log tail, the buttons.
import type { Alert } from './types.ts';

const MARK = { info: 'ℹ', warning: '⚠', critical: '✗' } as const;

export function renderAlertText(alert: Alert): string {
  const lines = [`${MARK[alert.severity]} ${alert.severity.toUpperCase()}  ${alert.title}`, ...alert.lines.map((l) => `  ${l}`)];
  if (alert.logTail && alert.logTail.length > 0) lines.push('  log tail:', ...alert.logTail.map((l) => `    | ${l}`));
  if (alert.actions.length > 0) lines.push(`  actions: ${alert.actions.map((a) => `[${a.label}] ${a.id}`).join('  ')}`);
  lines.push(`  key: ${alert.key}`);
  return `${lines.join('\n')}\n`;
}
