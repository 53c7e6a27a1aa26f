// A firewall rule as one line an approver reads at a glance: direction, action, source → dest, protocol/port (or
// macro), the rest, and the comment (without the owner tag Jarvis keeps at its end: planner/firewall-owner.ts). The
// same words in the plan artifact, the chat plan and the drift summary.
import { withoutOwner } from './firewall-owner.ts';

/** `IN ACCEPT +seg-iot → any tcp/8123 "IOT to Home Assistant"`, from the parameters PVE receives for a rule. */
export function ruleLine(params: Readonly<Record<string, string | number | undefined>>): string {
  const type = String(params.type ?? 'in').toLowerCase();
  const groupComment = params.comment === undefined ? undefined : withoutOwner(String(params.comment));
  if (type === 'group') return `GROUP ${String(params.action ?? '?')}${params.iface ? ` on ${String(params.iface)}` : ''}${groupComment ? ` "${groupComment}"` : ''}`;
  const service = params.macro
    ? `macro ${String(params.macro)}`
    : params.proto
      ? `${String(params.proto)}${params.dport ? `/${String(params.dport)}` : ''}`
      : params.dport
        ? `port ${String(params.dport)}`
        : 'any protocol';
  const extras = [
    params.sport !== undefined && `from port ${String(params.sport)}`,
    params.iface !== undefined && `on ${String(params.iface)}`,
    params.log !== undefined && params.log !== 'nolog' && `log ${String(params.log)}`,
    Number(params.enable ?? 1) === 0 && '(disabled)',
  ].filter(Boolean);
  const text = params.comment === undefined ? undefined : withoutOwner(String(params.comment));
  const comment = text ? ` "${text}"` : '';
  return `${type.toUpperCase()} ${String(params.action ?? '?')} ${String(params.source ?? 'any')} → ${String(params.dest ?? 'any')} ${service}${extras.length ? ` ${extras.join(' ')}` : ''}${comment}`;
}
