// A Reply as a Discord message within Discord's limits: one embed, summary first (colour by risk), sections as
// fields, buttons as one action row. Nothing is cut silently: when a line is left out (6,000 characters of embeds)
// or shortened (1,024 a field, 4,096 the summary, 256 the title), the whole reply is attached as a file and a field
// says so.
import { replyAsMarkdown, type Reply, type ReplyButton, type ReplyLevel } from '../../commands/reply.ts';
import { RISK_COLOUR } from '../../commands/plan-labels.ts';

export const DISCORD_LIMITS = {
  content: 2000,
  embeds: 10,
  embedTotal: 6000,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
} as const;

export interface DiscordEmbed {
  title: string;
  color: number;
  description: string;
  fields: Array<{ name: string; value: string }>;
  footer: { text: string };
}

export interface DiscordButton {
  type: 2;
  style: 1 | 2 | 3 | 4;
  label: string;
  custom_id: string;
}

export interface DiscordMessage {
  embeds: DiscordEmbed[];
  components: Array<{ type: 1; components: DiscordButton[] }>;
  files: Array<{ name: string; data: Buffer }>;
}

const COLOUR: Record<ReplyLevel, number> = {
  info: 0x5865f2,
  ok: RISK_COLOUR.low,
  low: RISK_COLOUR.low,
  medium: RISK_COLOUR.medium,
  high: RISK_COLOUR.high,
  critical: RISK_COLOUR.critical,
  error: 0x99aab5,
};

const STYLE: Record<ReplyButton['style'], DiscordButton['style']> = { primary: 1, danger: 4, secondary: 2 };
/** Approve is green on Discord (success), the other primaries blurple. */
const styleOf = (button: ReplyButton): DiscordButton['style'] => (button.action === 'approve' ? 3 : STYLE[button.style]);

/** Discord: 100 characters a custom id, 5 buttons a row, 5 rows a message, 80 characters a label. */
export const DISCORD_COMPONENT_LIMITS = { customId: 100, buttonsPerRow: 5, rows: 5, label: 80 } as const;

/** Characters an argument may carry in a custom id as is; anything else goes through a token. */
const PLAIN_ARG = /^[A-Za-z0-9._:@!-]+$/;
const ID = /^jarvis:(approve|reject|dry-run|details|show-log|plan-retry|plan-fix|snooze|report):(~?[A-Za-z0-9._:@!-]{1,90})$/;

/**
 * `jarvis:<action>:<arg>`: what a click means. An argument that does not fit the 100 characters (a long UPID or alert
 * key) is replaced by `~<token>` from `shorten` (the approval store keeps the mapping); without one it returns
 * undefined and the button is left out.
 */
export function buttonId(button: Pick<ReplyButton, 'action' | 'arg'>, shorten?: (value: string) => string): string | undefined {
  const plain = `jarvis:${button.action}:${button.arg}`;
  if (plain.length <= DISCORD_COMPONENT_LIMITS.customId && PLAIN_ARG.test(button.arg)) return plain;
  return shorten ? `jarvis:${button.action}:~${shorten(button.arg)}` : undefined;
}

/** The action and the argument (or `~token`) of a custom id of Jarvis's; undefined for anything else. */
export function parseButtonId(customId: string): Pick<ReplyButton, 'action' | 'arg'> | undefined {
  const match = ID.exec(customId);
  if (!match) return undefined;
  const action = match[1] as ReplyButton['action'];
  const arg = match[2] as string;
  // Plan ids never contain ':' or a token: keep the old, strict form for plan buttons.
  if ((action === 'approve' || action === 'reject' || action === 'dry-run' || action === 'details') && !/^[A-Za-z0-9._-]{1,64}$/.test(arg)) return undefined;
  return { action, arg };
}

const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** Room kept for the "… in the attached file" field when the plan is cut. */
const CUT_NOTE_ROOM = 200;

export interface DiscordRenderOptions {
  /** Stores a long button argument and returns its token (Dispatcher.buttonArgs.shorten). */
  shortenArg?: (value: string) => string;
}

export function renderDiscord(reply: Reply, options: DiscordRenderOptions = {}): DiscordMessage {
  const [summary, ...rest] = reply.sections;
  let shortened = 0;
  const fit = (text: string, max: number): string => {
    if (text.length > max) shortened++;
    return clip(text, max);
  };
  const embed: DiscordEmbed = {
    title: fit(reply.title, DISCORD_LIMITS.title),
    color: COLOUR[reply.level],
    description: fit([summary?.title ? `**${summary.title}**` : '', ...(summary?.lines ?? [])].filter(Boolean).join('\n') || '\u200b', DISCORD_LIMITS.description),
    fields: [],
    footer: { text: fit(`next: ${reply.next}`, DISCORD_LIMITS.footer) },
  };
  let used = embed.title.length + embed.description.length + embed.footer.text.length;
  const budget = DISCORD_LIMITS.embedTotal - CUT_NOTE_ROOM;
  let omitted = 0;

  for (const section of rest) {
    let name = section.title ?? '\u200b';
    let value = '';
    const flush = (): void => {
      if (!value) return;
      embed.fields.push({ name: clip(name, DISCORD_LIMITS.fieldName), value });
      used += name.length + value.length;
      name = `${section.title ?? ''} (cont.)`;
      value = '';
    };
    for (const raw of section.lines) {
      const line = fit(raw, DISCORD_LIMITS.fieldValue);
      const grown = value ? `${value}\n${line}` : line;
      const fits = used + name.length + grown.length <= budget && embed.fields.length < DISCORD_LIMITS.fields - 1;
      if (omitted || !fits) {
        omitted++;
        continue;
      }
      if (grown.length > DISCORD_LIMITS.fieldValue) {
        flush();
        if (used + name.length + line.length > budget || embed.fields.length >= DISCORD_LIMITS.fields - 1) {
          omitted++;
          continue;
        }
        value = line;
      } else {
        value = grown;
      }
    }
    flush();
  }

  const files = (reply.attachments ?? []).map((file) => ({ name: file.filename, data: Buffer.from(file.content) }));
  if (omitted || shortened) {
    const planFile = reply.approvalRequest ? `plan-${reply.approvalRequest.plan.id}.md` : 'reply.md';
    const what = [omitted && `${omitted} more line(s) did not fit`, shortened && `${shortened} line(s) were shortened`].filter(Boolean).join(', ');
    embed.fields.push({ name: 'Full text attached', value: `${what}: see ${planFile}` });
    if (!files.some((f) => f.name === planFile)) files.push({ name: planFile, data: Buffer.from(reply.approvalRequest?.markdown || replyAsMarkdown(reply)) });
  }

  const buttons = (reply.buttons ?? []).flatMap((button): DiscordButton[] => {
    const id = buttonId(button, options.shortenArg);
    return id ? [{ type: 2, style: styleOf(button), label: clip(button.label, DISCORD_COMPONENT_LIMITS.label), custom_id: id }] : [];
  });
  const rows: DiscordMessage['components'] = [];
  const { buttonsPerRow, rows: maxRows } = DISCORD_COMPONENT_LIMITS;
  for (let i = 0; i < buttons.length && rows.length < maxRows; i += buttonsPerRow) rows.push({ type: 1, components: buttons.slice(i, i + buttonsPerRow) });
  return { embeds: [embed], components: rows, files };
}
