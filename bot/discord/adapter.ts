// The Discord adapter (discord.js 14): `/jarvis` slash commands deferred at once, plan messages with buttons and
// ✅/❌ reactions, progress edited in place, alerts to a configured channel. Outbound connections only.
import {
  Client,
  Events,
  GatewayIntentBits,
  MessageFlags,
  Partials,
  Routes,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type MessageReaction,
  type PartialMessageReaction,
  type PartialUser,
  type User,
} from 'discord.js';
import type { Dispatcher } from '../../commands/dispatcher.ts';
import { parseCommand } from '../../commands/grammar.ts';
import type { Conversation, MessageRef } from '../../commands/context.ts';
import { scrubReply, type Reply } from '../../commands/reply.ts';
import type { Requester } from '../../commands/services.ts';
import type { Secret } from '../../lib/secret.ts';
import { scrubSecrets } from '../../lib/secret.ts';
import { optionsToText } from './command-definition.ts';
import { parseButtonId, renderDiscord, type DiscordMessage } from './render.ts';

export interface DiscordAdapterOptions {
  token: Secret;
  dispatcher: Dispatcher;
  alertChannelId?: string;
  /** Tests only: the fake's REST base (`http://127.0.0.1:P/api`). */
  apiBase?: string;
  log: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

export interface DiscordAdapter {
  client: Client;
  /** Posts an alert to the configured alert channel (no-op without one). */
  alert(reply: Reply): Promise<void>;
  stop(): Promise<void>;
}

const APPROVE = '✅';
const REJECT = '❌';

export async function startDiscord(options: DiscordAdapterOptions): Promise<DiscordAdapter> {
  const client = new Client({
    // Least privilege: slash commands and buttons need no intent; reactions need GuildMessageReactions. Jarvis never
    // reads message content.
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessageReactions],
    partials: [Partials.Message, Partials.Reaction, Partials.User, Partials.Channel],
    rest: {
      // @discordjs/rest sends through undici 6's request() on the process-wide dispatcher, which the undici 7 our
      // Proxmox and Tailscale clients load installs first; undici 7 cannot read undici 6's multipart bodies, so every
      // upload (Details, a plan too long for one message) failed. Node's fetch encodes the body itself.
      makeRequest: (url: string, init: RequestInit) => fetch(url, init),
      ...(options.apiBase && { api: options.apiBase, retries: 0 }),
    },
  });
  const { dispatcher, log } = options;

  const toBody = (message: DiscordMessage) => ({
    body: {
      embeds: message.embeds,
      components: message.components,
      ...(message.files.length && { attachments: message.files.map((file, id) => ({ id, filename: file.name })) }),
    },
    ...(message.files.length && { files: message.files.map((file) => ({ name: file.name, data: file.data })) }),
  });
  const render = (reply: Reply): DiscordMessage => renderDiscord(scrubReply(reply, scrubSecrets), { shortenArg: dispatcher.buttonArgs.shorten });

  const conversationFor = (channelId: string): Conversation => ({
    channelKey: `discord:${channelId}`,
    async post(reply) {
      const message = render(reply);
      const sent = (await client.rest.post(Routes.channelMessages(channelId), toBody(message))) as { id: string };
      const ref: MessageRef = { platform: 'discord', channelId, messageId: sent.id };
      if (reply.approvalRequest) await addDecisionReactions(ref);
      return ref;
    },
    async edit(ref, reply) {
      const message = render(reply);
      await client.rest.patch(Routes.channelMessage(ref.channelId, ref.messageId), toBody({ ...message, files: [] }));
    },
  });

  async function addDecisionReactions(ref: MessageRef): Promise<void> {
    for (const emoji of [APPROVE, REJECT]) {
      await client.rest.put(Routes.channelMessageOwnReaction(ref.channelId, ref.messageId, encodeURIComponent(emoji)));
    }
  }

  /**
   * Answers a deferred interaction. A private reply (a refusal, help) after a public deferral cannot be made private
   * in place: the deferred message is deleted and the caller alone gets the answer (an ephemeral follow-up).
   */
  async function answerInteraction(interaction: ChatInputCommandInteraction | ButtonInteraction, reply: Reply, deferredPrivately: boolean): Promise<MessageRef | undefined> {
    const message = render(reply);
    const payload = { embeds: message.embeds, components: message.components, files: message.files.map((file) => ({ attachment: file.data, name: file.name })) };
    if (reply.private && !deferredPrivately) {
      await interaction.deleteReply();
      await interaction.followUp({ ...payload, flags: MessageFlags.Ephemeral });
      return undefined;
    }
    const sent = await interaction.editReply(payload);
    const ref: MessageRef = { platform: 'discord', channelId: interaction.channelId, messageId: sent.id };
    // A plan (typed, or made by a click: Plan a retry, Plan a fix) is approved like any plan: ✅/❌ on its message.
    if (reply.approvalRequest) await addDecisionReactions(ref);
    return ref;
  }

  async function onSlash(interaction: ChatInputCommandInteraction): Promise<void> {
    const text = optionsToText(interaction.options.data as Parameters<typeof optionsToText>[0]);
    // The 3-second deadline: defer before any I/O. Parsing is pure and instant; it tells whether the answer is
    // only for the caller (usage errors, help), which Discord needs to know when deferring.
    const parsed = parseCommand(text, { prefixed: false });
    const onlyForCaller = parsed.kind === 'reply' || (parsed.kind === 'command' && parsed.command.name === 'help');
    await interaction.deferReply(onlyForCaller ? { flags: MessageFlags.Ephemeral } : {});
    await dispatcher.handle({
      text,
      prefixed: false,
      requester: requesterOf(interaction.user, interaction.member),
      conversation: conversationFor(interaction.channelId),
      respond: (reply) => answerInteraction(interaction, reply, onlyForCaller),
    });
  }

  async function onButton(interaction: ButtonInteraction): Promise<void> {
    const button = parseButtonId(interaction.customId);
    if (!button || interaction.message.author.id !== client.user?.id) return;
    const requester = requesterOf(interaction.user, interaction.member);
    const conversation = conversationFor(interaction.channelId);
    if (button.action === 'approve' || button.action === 'reject') {
      await interaction.deferUpdate();
      await dispatcher.decide({
        kind: button.action,
        via: 'button',
        requester,
        conversation,
        message: { platform: 'discord', channelId: interaction.channelId, messageId: interaction.message.id },
        eventKey: `discord:interaction:${interaction.id}`,
        respondPrivately: async (reply) => {
          const message = render(reply);
          await interaction.followUp({ embeds: message.embeds, components: message.components, flags: MessageFlags.Ephemeral });
        },
      });
      return;
    }
    await interaction.deferReply();
    await dispatcher.click({ action: button.action, arg: button.arg, requester, conversation, respond: (reply) => answerInteraction(interaction, reply, false) });
  }

  /** One key per person, message and emoji: a gateway replay of the same reaction is the same event. */
  const reactionKey = (messageId: string, userId: string, emoji: string): string => `discord:reaction:${messageId}:${userId}:${emoji}`;

  async function onReaction(reaction: MessageReaction | PartialMessageReaction, user: User | PartialUser): Promise<void> {
    if (user.id === client.user?.id) return;
    const emoji = reaction.emoji.name;
    if (emoji !== APPROVE && emoji !== REJECT) return;
    const channelId = reaction.message.channelId;
    const member = reaction.message.guild?.members.cache.get(user.id);
    await dispatcher.decide({
      kind: emoji === APPROVE ? 'approve' : 'reject',
      via: 'reaction',
      requester: {
        platform: 'discord',
        id: user.id,
        displayName: member?.displayName ?? user.globalName ?? user.username ?? user.id,
        groups: member ? [...member.roles.cache.keys()] : [],
      },
      conversation: conversationFor(channelId),
      message: { platform: 'discord', channelId, messageId: reaction.message.id },
      eventKey: reactionKey(reaction.message.id, user.id, emoji),
    });
  }

  const guard = (what: string, work: Promise<void>): void => {
    work.catch((error: unknown) => log('error', `discord ${what} failed`, { error: error instanceof Error ? error.message : String(error) }));
  };
  client.on(Events.InteractionCreate, (interaction: Interaction) => {
    if (interaction.isChatInputCommand() && interaction.commandName === 'jarvis') guard('slash command', onSlash(interaction));
    else if (interaction.isButton()) guard('button', onButton(interaction));
  });
  client.on(Events.MessageReactionAdd, (reaction, user) => guard('reaction', onReaction(reaction, user)));
  client.on(Events.MessageReactionRemove, (reaction, user) => {
    const emoji = reaction.emoji.name;
    if (user.id !== client.user?.id && (emoji === APPROVE || emoji === REJECT)) dispatcher.reactionRemoved(reactionKey(reaction.message.id, user.id, emoji));
  });

  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(options.token.reveal());
  await ready;
  log('info', 'discord adapter ready', { user: client.user?.id });

  return {
    client,
    async alert(reply) {
      if (options.alertChannelId) await conversationFor(options.alertChannelId).post(reply);
    },
    async stop() {
      await client.destroy();
    },
  };
}

type MemberLike = ChatInputCommandInteraction['member'];

/** Immutable id for authorization, a display name for replies, role ids for approver groups. */
function requesterOf(user: User, member: MemberLike): Requester {
  const roles = !member ? [] : Array.isArray(member.roles) ? member.roles : [...member.roles.cache.keys()];
  const memberName = member && 'displayName' in member ? member.displayName : undefined;
  return { platform: 'discord', id: user.id, displayName: memberName ?? user.globalName ?? user.username, groups: roles };
}
