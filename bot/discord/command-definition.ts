// The `/jarvis` application command: one subcommand per grammar command, so Discord shows choices and checks
// types; the adapter turns the chosen options back into the grammar's text, parsed by the same parser as the console.
import { ApplicationCommandOptionType } from 'discord.js';
import { PHASES } from '../../commands/grammar.ts';

type Option = {
  type: ApplicationCommandOptionType;
  name: string;
  description: string;
  required?: boolean;
  choices?: Array<{ name: string; value: string }>;
  min_value?: number;
  options?: Option[];
};

const planId = (required: boolean): Option => ({ type: ApplicationCommandOptionType.String, name: 'plan', description: 'plan id (shown on the plan)', required });
const reason: Option = { type: ApplicationCommandOptionType.String, name: 'reason', description: 'why (shown to others)', required: false };
const sub = (name: string, description: string, options: Option[] = []): Option => ({ type: ApplicationCommandOptionType.Subcommand, name, description, options });

/** The JSON body for PUT /applications/{app}/guilds/{guild}/commands. */
export const JARVIS_COMMAND = {
  name: 'jarvis',
  description: 'Plan, approve and apply changes to the homelab',
  type: 1,
  options: [
    sub('plan', 'scan the lab and show what a phase would change', [
      { type: ApplicationCommandOptionType.String, name: 'phase', description: 'which phase', required: true, choices: PHASES.map((p) => ({ name: p, value: p })) },
    ]),
    sub('apply', 'apply a plan (asks for approval first)', [planId(true)]),
    sub('approve', 'approve a plan (same as ✅)', [planId(false)]),
    sub('reject', 'reject a plan (same as ❌)', [planId(false)]),
    sub('confirm', 'type the short hash of an approved critical plan', [
      { type: ApplicationCommandOptionType.String, name: 'hash', description: 'short plan hash', required: true },
      planId(false),
    ]),
    sub('dry-run', 'check a plan against Proxmox without writing', [planId(true)]),
    sub('details', 'the whole plan as a Markdown file', [planId(true)]),
    sub('status', 'how the lab is, headline first'),
    sub('backups', 'backup jobs and their last runs'),
    sub('check', 'validate the specs'),
    sub('drift', 'what changed outside Jarvis'),
    sub('snapshots', 'list the snapshots of a VM', [{ type: ApplicationCommandOptionType.Integer, name: 'vmid', description: 'VM id', required: true, min_value: 100 }]),
    sub('rollback', 'plan a rollback of a VM to a snapshot', [
      { type: ApplicationCommandOptionType.Integer, name: 'vmid', description: 'VM id', required: true, min_value: 100 },
      { type: ApplicationCommandOptionType.String, name: 'snapshot', description: 'snapshot name', required: true },
    ]),
    sub('retry', 'plan a backup of a VM now, as its backup job would', [{ type: ApplicationCommandOptionType.Integer, name: 'vmid', description: 'VM id', required: true, min_value: 100 }]),
    sub('log', "show the end of a Proxmox task's log", [{ type: ApplicationCommandOptionType.String, name: 'upid', description: 'task id (UPID:…, on the alert)', required: true }]),
    sub('snooze', 'no alert for this key for a while', [
      { type: ApplicationCommandOptionType.String, name: 'key', description: 'alert key (on the alert, e.g. drift)', required: true },
      { type: ApplicationCommandOptionType.Integer, name: 'hours', description: 'how long (default 24)', required: false, min_value: 1 },
    ]),
    sub('lock', 'hold the lab: only you may apply', [reason]),
    sub('unlock', 'release the lab lock', [
      { type: ApplicationCommandOptionType.Boolean, name: 'force', description: "override another approver's lock (audited)", required: false },
    ]),
    sub('freeze', 'stop all applies until unfreeze', [reason]),
    sub('unfreeze', 'allow applies again'),
    sub('history', 'recent plans and their outcome', [{ type: ApplicationCommandOptionType.Integer, name: 'count', description: 'how many (1-50)', required: false, min_value: 1 }]),
    { type: ApplicationCommandOptionType.SubcommandGroup, name: 'alerts', description: 'alert channel', options: [sub('test', 'send a test alert')] },
    sub('help', 'what you may ask Jarvis'),
  ],
} as const;

/** Option order per subcommand, so the text is what a user would type: `rollback 100 snap`. */
const ARG_ORDER: Record<string, string[]> = {
  plan: ['phase'],
  apply: ['plan'],
  approve: ['plan'],
  reject: ['plan'],
  confirm: ['hash', 'plan'],
  'dry-run': ['plan'],
  details: ['plan'],
  snapshots: ['vmid'],
  rollback: ['vmid', 'snapshot'],
  retry: ['vmid'],
  log: ['upid'],
  snooze: ['key', 'hours'],
  lock: ['reason'],
  unlock: ['force'],
  freeze: ['reason'],
  history: ['count'],
};

/** Interaction options (raw API shape) → the grammar's text, e.g. `rollback 100 jarvis-pre-p7`. */
export function optionsToText(options: ReadonlyArray<{ name: string; type: number; value?: unknown; options?: ReadonlyArray<unknown> }>): string {
  const [first] = options;
  if (!first) return 'help';
  if (first.type === ApplicationCommandOptionType.SubcommandGroup) {
    const inner = (first.options ?? []) as typeof options;
    return `${first.name} ${optionsToText(inner)}`.trim();
  }
  const values = new Map(((first.options ?? []) as typeof options).map((o) => [o.name, o.value]));
  // A boolean option is a word of the grammar: `force: true` → `force`, `force: false` → nothing.
  const args = (ARG_ORDER[first.name] ?? [])
    .filter((name) => values.has(name) && values.get(name) !== false)
    .map((name) => (values.get(name) === true ? name : String(values.get(name))));
  return [first.name, ...args].join(' ');
}
