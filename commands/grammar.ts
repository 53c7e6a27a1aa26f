// The `/jarvis` grammar shared by chat, console and CLI. Parsing gives a command, an immediate reply (usage
// error, did-you-mean) or nothing (text not addressed to Jarvis), Atlantis style. No I/O here.
import { PLAN_ID_PATTERN, type PlanPhase } from '../planner/plan.ts';
import { errorReply, type Reply } from './reply.ts';
import { didYouMean } from './suggest.ts';

export const PHASES: readonly PlanPhase[] = ['phase0', 'phase1', 'phase2', 'firewall'];

type Bare<N extends string> = N extends string ? { name: N } : never;
type WithPlan<N extends string> = N extends string ? { name: N; planId: string } : never;
type MaybePlan<N extends string> = N extends string ? { name: N; planId?: string } : never;
type WithReason<N extends string> = N extends string ? { name: N; reason?: string } : never;

export type ParsedCommand =
  | { name: 'plan'; phase: PlanPhase }
  | WithPlan<'apply' | 'dry-run' | 'details'>
  | MaybePlan<'approve' | 'reject'>
  | { name: 'confirm'; hash: string; planId?: string }
  | { name: 'snapshots'; vmid: number }
  | { name: 'rollback'; vmid: number; snapshot: string }
  | { name: 'retry'; vmid: number }
  | { name: 'log'; upid: string }
  | { name: 'snooze'; key: string; hours: number }
  | WithReason<'lock' | 'freeze'>
  | { name: 'history'; limit: number }
  | { name: 'help'; topic?: CommandName }
  | { name: 'unlock'; force: boolean }
  | Bare<'status' | 'backups' | 'check' | 'drift' | 'unfreeze' | 'alerts-test'>;

export type CommandName = ParsedCommand['name'];

/** viewer: anyone who can talk to Jarvis; approver: someone in JARVIS_APPROVERS (or an approver group). */
export type Role = 'viewer' | 'approver';

export interface CommandSpec {
  name: CommandName;
  /** How it is typed after `/jarvis`. */
  usage: string;
  summary: string;
  role: Role;
  /** Words after the command name → the command, or a usage error message. */
  build: (args: string[]) => ParsedCommand | { error: string; suggestion?: string };
}

const SNAPSHOT = /^[A-Za-z][A-Za-z0-9_-]{0,39}$/;
const HASH = /^[0-9a-f]{4,64}$/i;
/** `UPID:node:pid:pstart:starttime:type:id:user:` as Proxmox writes task ids. */
const UPID = /^UPID:[A-Za-z0-9][A-Za-z0-9.-]*:[0-9A-Fa-f]{8}:[0-9A-Fa-f]{8}:[0-9A-Fa-f]{8}:[^:\s]*:[^:\s]*:[^:\s]+:$/;
/** Alert keys as the watchers make them: `drift`, `backup-missing:300`, `backup-failed:UPID:…:`, `storage-full:local`. */
const ALERT_KEY = /^[A-Za-z][A-Za-z0-9._:@!\/-]{0,199}$/;
const MAX_SNOOZE_HOURS = 24 * 30;

type BuildResult = ReturnType<CommandSpec['build']>;
const tooMany = (extra: string[]): BuildResult => ({ error: `unexpected argument "${extra[0]}"` });

function planIdArg(value: string | undefined, what = 'a plan id'): string | { error: string } {
  if (value === undefined) return { error: `needs ${what}` };
  return PLAN_ID_PATTERN.test(value) ? value : { error: `"${value.slice(0, 80)}" is not a plan id (letters, digits, _ and -)` };
}

function vmidArg(value: string | undefined): number | { error: string } {
  if (value === undefined) return { error: 'needs a VM id' };
  const vmid = Number(value);
  return /^\d+$/.test(value) && vmid >= 100 && vmid <= 999_999_999
    ? vmid
    : { error: `"${value}" is not a VM id (a number from 100 to 999999999)` };
}

const noArgs =
  (name: 'status' | 'backups' | 'check' | 'drift' | 'unfreeze') =>
  (args: string[]): BuildResult =>
    args.length ? tooMany(args) : { name };

const withReason =
  (name: 'lock' | 'freeze') =>
  (args: string[]): BuildResult =>
    args.length ? { name, reason: args.join(' ').slice(0, 200) } : { name };

const optionalPlan =
  (name: 'approve' | 'reject') =>
  (args: string[]): BuildResult => {
    if (args.length > 1) return tooMany(args.slice(1));
    if (!args[0]) return { name };
    const planId = planIdArg(args[0]);
    return typeof planId === 'string' ? { name, planId } : planId;
  };

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'plan',
    usage: 'plan <phase0|phase1|phase2|firewall>',
    summary: 'scan the lab and show what a phase would change',
    role: 'viewer',
    build: ([phase, ...rest]) => {
      if (rest.length) return tooMany(rest);
      if (!phase) return { error: `needs a phase: ${PHASES.join(', ')}` };
      const wanted = phase.toLowerCase();
      if ((PHASES as readonly string[]).includes(wanted)) return { name: 'plan', phase: wanted as PlanPhase };
      const suggestion = didYouMean(wanted, PHASES);
      return { error: `unknown phase "${phase}" (phases: ${PHASES.join(', ')})`, ...(suggestion && { suggestion: `plan ${suggestion}` }) };
    },
  },
  {
    name: 'apply',
    usage: 'apply <planId>',
    summary: 'apply a plan (asks for approval first)',
    role: 'approver',
    build: ([id, ...rest]) => {
      if (rest.length) return tooMany(rest);
      const planId = planIdArg(id);
      return typeof planId === 'string' ? { name: 'apply', planId } : planId;
    },
  },
  { name: 'approve', usage: 'approve [planId]', summary: 'approve a plan (same as ✅; default: the latest here)', role: 'approver', build: optionalPlan('approve') },
  { name: 'reject', usage: 'reject [planId]', summary: 'reject a plan (same as ❌; default: the latest here)', role: 'approver', build: optionalPlan('reject') },
  {
    name: 'confirm',
    usage: 'confirm <shortHash> [planId]',
    summary: 'type the hash of an approved critical plan to let it run',
    role: 'approver',
    build: ([hash, id, ...rest]) => {
      if (rest.length) return tooMany(rest);
      if (!hash) return { error: 'needs the short plan hash shown on the plan' };
      if (!HASH.test(hash)) return { error: `"${hash}" is not a plan hash (hex digits)` };
      if (id === undefined) return { name: 'confirm', hash: hash.toLowerCase() };
      const planId = planIdArg(id);
      return typeof planId === 'string' ? { name: 'confirm', hash: hash.toLowerCase(), planId } : planId;
    },
  },
  {
    name: 'dry-run',
    usage: 'dry-run <planId>',
    summary: 'check every request of a plan against Proxmox without writing',
    role: 'viewer',
    build: ([id, ...rest]) => {
      if (rest.length) return tooMany(rest);
      const planId = planIdArg(id);
      return typeof planId === 'string' ? { name: 'dry-run', planId } : planId;
    },
  },
  {
    name: 'details',
    usage: 'details <planId>',
    summary: 'the whole plan, every action in full, as a Markdown file',
    role: 'viewer',
    build: ([id, ...rest]) => {
      if (rest.length) return tooMany(rest);
      const planId = planIdArg(id);
      return typeof planId === 'string' ? { name: 'details', planId } : planId;
    },
  },
  { name: 'status', usage: 'status', summary: 'how the lab is, headline first', role: 'viewer', build: noArgs('status') },
  { name: 'backups', usage: 'backups', summary: 'backup jobs and their last runs', role: 'viewer', build: noArgs('backups') },
  { name: 'check', usage: 'check', summary: 'validate the specs (schema + guardrails)', role: 'viewer', build: noArgs('check') },
  { name: 'drift', usage: 'drift', summary: 'what changed in the lab outside Jarvis', role: 'viewer', build: noArgs('drift') },
  {
    name: 'snapshots',
    usage: 'snapshots <vmid>',
    summary: 'list the snapshots of a VM',
    role: 'viewer',
    build: ([id, ...rest]) => {
      if (rest.length) return tooMany(rest);
      const vmid = vmidArg(id);
      return typeof vmid === 'number' ? { name: 'snapshots', vmid } : vmid;
    },
  },
  {
    name: 'rollback',
    usage: 'rollback <vmid> <snapshot>',
    summary: 'plan a rollback of a VM to a snapshot (approved like any plan)',
    role: 'approver',
    build: ([id, snapshot, ...rest]) => {
      if (rest.length) return tooMany(rest);
      const vmid = vmidArg(id);
      if (typeof vmid !== 'number') return vmid;
      if (!snapshot) return { error: `needs a snapshot name (see /jarvis snapshots ${vmid})` };
      if (!SNAPSHOT.test(snapshot)) return { error: `"${snapshot}" is not a snapshot name` };
      return { name: 'rollback', vmid, snapshot };
    },
  },
  {
    name: 'retry',
    usage: 'retry <vmid>',
    summary: 'plan a backup of a VM now, as its backup job would (approved like any plan)',
    role: 'approver',
    build: ([id, ...rest]) => {
      if (rest.length) return tooMany(rest);
      const vmid = vmidArg(id);
      return typeof vmid === 'number' ? { name: 'retry', vmid } : vmid;
    },
  },
  {
    name: 'log',
    usage: 'log <UPID>',
    summary: "show the end of a Proxmox task's log (the task id is on the alert)",
    role: 'viewer',
    build: ([upid, ...rest]) => {
      if (rest.length) return tooMany(rest);
      if (!upid) return { error: 'needs a task id (UPID:…)' };
      return UPID.test(upid) ? { name: 'log', upid } : { error: `"${upid.slice(0, 80)}" is not a Proxmox task id (UPID:node:…:)` };
    },
  },
  {
    name: 'snooze',
    usage: 'snooze <alertKey> [hours]',
    summary: 'no alert for this key for a while (default 24 h)',
    role: 'approver',
    build: ([key, hours, ...rest]) => {
      if (rest.length) return tooMany(rest);
      if (!key) return { error: 'needs the alert key (on the alert, e.g. drift or backup-missing:300)' };
      if (!ALERT_KEY.test(key)) return { error: `"${key.slice(0, 80)}" is not an alert key` };
      if (hours === undefined) return { name: 'snooze', key, hours: 24 };
      const count = Number(hours);
      return /^\d+$/.test(hours) && count >= 1 && count <= MAX_SNOOZE_HOURS
        ? { name: 'snooze', key, hours: count }
        : { error: `"${hours}" is not a number of hours from 1 to ${MAX_SNOOZE_HOURS}` };
    },
  },
  { name: 'lock', usage: 'lock [reason]', summary: 'hold the lab: only you may apply until unlock', role: 'approver', build: withReason('lock') },
  {
    name: 'unlock',
    usage: 'unlock [force]',
    summary: "release the lab lock (force: override another approver's lock; audited)",
    role: 'approver',
    build: ([word, ...rest]) => {
      if (rest.length) return tooMany(rest);
      if (word === undefined) return { name: 'unlock', force: false };
      if (word.toLowerCase() === 'force') return { name: 'unlock', force: true };
      return { error: `unexpected argument "${word}" (only "force")`, suggestion: 'unlock force' };
    },
  },
  { name: 'freeze', usage: 'freeze [reason]', summary: 'stop all applies until unfreeze', role: 'approver', build: withReason('freeze') },
  { name: 'unfreeze', usage: 'unfreeze', summary: 'allow applies again', role: 'approver', build: noArgs('unfreeze') },
  {
    name: 'history',
    usage: 'history [count]',
    summary: 'recent plans and what became of them',
    role: 'viewer',
    build: ([count, ...rest]) => {
      if (rest.length) return tooMany(rest);
      if (count === undefined) return { name: 'history', limit: 10 };
      const limit = Number(count);
      return /^\d+$/.test(count) && limit >= 1 && limit <= 50 ? { name: 'history', limit } : { error: `"${count}" is not a count from 1 to 50` };
    },
  },
  {
    name: 'alerts-test',
    usage: 'alerts test',
    summary: 'send a test alert to the alert channel',
    role: 'approver',
    build: (args) => (args.length ? tooMany(args) : { name: 'alerts-test' }),
  },
  {
    name: 'help',
    usage: 'help [command]',
    summary: 'what you may ask Jarvis',
    role: 'viewer',
    build: ([topic, ...rest]) => {
      if (rest.length) return tooMany(rest);
      if (topic === undefined) return { name: 'help' };
      const spec = findSpec(topic);
      if (spec) return { name: 'help', topic: spec.name };
      const suggestion = didYouMean(topic, typedNames());
      return { error: `no command "${topic}"`, ...(suggestion && { suggestion: `help ${suggestion}` }) };
    },
  },
];

/** The words people type for each command (`alerts test` is two words). */
const typedName = (spec: CommandSpec): string => (spec.name === 'alerts-test' ? 'alerts' : spec.name);
const typedNames = (): string[] => COMMANDS.map(typedName);

export function findSpec(word: string): CommandSpec | undefined {
  const lowered = word.toLowerCase();
  return COMMANDS.find((spec) => spec.name === lowered || typedName(spec) === lowered);
}

export type ParseResult =
  | { kind: 'command'; command: ParsedCommand; spec: CommandSpec }
  | { kind: 'reply'; reply: Reply }
  | { kind: 'ignore' };

const PREFIX = /^\/jarvis(?:\s+|$)/i;

/**
 * Parses one line. With `prefixed` (console, chat messages) only lines starting with `/jarvis` are addressed to
 * Jarvis; slash-command payloads (Slack `text`, Discord options) come without the prefix.
 */
export function parseCommand(text: string, options: { prefixed: boolean }): ParseResult {
  let body = text.trim();
  if (options.prefixed) {
    if (!PREFIX.test(body)) return { kind: 'ignore' };
    body = body.replace(PREFIX, '');
  }
  const words = body.split(/\s+/).filter(Boolean);
  const [first, ...args] = words;
  if (!first) return build(COMMANDS.find((spec) => spec.name === 'help') as CommandSpec, []);
  if (first.toLowerCase() === 'alerts') {
    const [sub, ...rest] = args;
    if (sub?.toLowerCase() === 'test') return build(findSpec('alerts-test') as CommandSpec, rest);
    return usageError('alerts', sub ? `unknown alerts command "${sub}"` : 'needs a subcommand', 'alerts test');
  }
  const spec = findSpec(first);
  if (!spec) {
    const suggestion = didYouMean(first, typedNames());
    const fix = suggestion ? findSpec(suggestion)?.usage : undefined;
    return usageError(first, `unknown command "${first}"`, fix);
  }
  return build(spec, args);
}

function build(spec: CommandSpec, args: string[]): ParseResult {
  const result = spec.build(args);
  if ('error' in result) return usageError(spec.usage, result.error, result.suggestion, spec.usage);
  return { kind: 'command', command: result, spec };
}

function usageError(subject: string, message: string, suggestion?: string, usage?: string): ParseResult {
  const lines = [message];
  if (suggestion) lines.push(`did you mean \`/jarvis ${suggestion}\`?`);
  if (usage && usage !== suggestion) lines.push(`usage: \`/jarvis ${usage}\``);
  const next = suggestion ? `/jarvis ${suggestion}` : '/jarvis help';
  return { kind: 'reply', reply: errorReply(`Cannot run /jarvis ${subject.split(' ')[0]}`, lines, next) };
}
