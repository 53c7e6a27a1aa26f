// The Slack adapter (@slack/bolt 5): Socket Mode by default (no inbound port); HTTP mode with signing-secret
// verification on an address the owner names. `/jarvis` is acked at once; plans are Block Kit messages with
// buttons and ✅/❌ reactions; progress via chat.update; alerts to a configured channel.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type Receiver } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Dispatcher } from '../../commands/dispatcher.ts';
import type { Conversation, MessageRef } from '../../commands/context.ts';
import { scrubReply, type Reply } from '../../commands/reply.ts';
import type { Requester } from '../../commands/services.ts';
import { boundToEveryAddress, isWildcardHost } from '../../lib/addresses.ts';
import { scrubSecrets, type Secret } from '../../lib/secret.ts';
import { renderSlack, slackAction, SLACK_ACTION_PATTERN } from './render.ts';

export type SlackMode = {
  kind: 'socket';
  appToken: Secret;
  /** Socket-mode ping timeout, also the delay before a reconnect (library default 5,000 ms). */
  pingTimeoutMs?: number;
} | { kind: 'http'; signingSecret: Secret; host: string; port: number };

export interface SlackAdapterOptions {
  botToken: Secret;
  mode: SlackMode;
  dispatcher: Dispatcher;
  alertChannel?: string;
  /** Slack user-group ids whose members may approve (looked up with usergroups.users.list). */
  approverGroups?: readonly string[];
  /** Tests only: the fake's Web API base (`http://127.0.0.1:P/api/`). */
  apiUrl?: string;
  /** Web API retries; tests use 0 so a missing fake fails fast instead of retrying for minutes. */
  retries?: number;
  log: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

export interface SlackAdapter {
  app: App;
  /** HTTP mode: where the events endpoint listens (`http://host:port/slack/events`). */
  httpUrl?: string;
  alert(reply: Reply): Promise<void>;
  stop(): Promise<void>;
}

const APPROVE = 'white_check_mark';
const REJECT = 'x';

export async function startSlack(options: SlackAdapterOptions): Promise<SlackAdapter> {
  const { dispatcher, log } = options;
  // One options object: Bolt hands it to its own WebClient and to the socket-mode client. Setting retryConfig
  // explicitly stops socket-mode from writing its own (100 retries) into it.
  const clientOptions = {
    ...(options.apiUrl && { slackApiUrl: options.apiUrl }),
    retryConfig: { retries: options.retries ?? 3 },
  };
  let receiver: Receiver;
  let socketReceiver: SocketModeReceiver | undefined;
  if (options.mode.kind === 'socket') {
    socketReceiver = new SocketModeReceiver({
      appToken: options.mode.appToken.reveal(),
      installerOptions: { clientOptions },
      logLevel: LogLevel.ERROR,
      ...(options.mode.pingTimeoutMs && { clientPingTimeout: options.mode.pingTimeoutMs }),
    });
    receiver = socketReceiver;
  } else {
    if (isWildcardHost(options.mode.host)) {
      throw new Error(`Slack HTTP mode needs SLACK_HTTP_LISTEN on a LAN or tailnet address, not every address (${options.mode.host || 'empty'})`);
    }
    receiver = new HTTPReceiver({ signingSecret: options.mode.signingSecret.reveal(), endpoints: '/slack/events', logLevel: LogLevel.ERROR });
  }
  // deferInitialization: the token check (auth.test) is awaited here, so a bad token fails the start instead of
  // surfacing later as an unhandled rejection.
  const app = new App({ token: options.botToken.reveal(), receiver, clientOptions, logLevel: LogLevel.ERROR, deferInitialization: true });
  await app.init();

  const render = (reply: Reply) => renderSlack(scrubReply(reply, scrubSecrets));

  const conversationFor = (client: WebClient, channel: string): Conversation => ({
    channelKey: `slack:${channel}`,
    async post(reply) {
      const message = render(reply);
      const sent = await client.chat.postMessage({ channel, text: message.text, blocks: message.blocks });
      const ref: MessageRef = { platform: 'slack', channelId: channel, messageId: String(sent.ts) };
      for (const file of message.files) {
        await client.files.uploadV2({ channel_id: channel, thread_ts: ref.messageId, filename: file.filename, content: file.content, title: file.filename });
      }
      if (reply.approvalRequest) {
        for (const name of [APPROVE, REJECT]) await client.reactions.add({ channel, timestamp: ref.messageId, name });
      }
      return ref;
    },
    async edit(ref, reply) {
      const message = render(reply);
      await client.chat.update({ channel: ref.channelId, ts: ref.messageId, text: message.text, blocks: message.blocks });
    },
  });

  /** Only `user` sees it (refusals to a click or a reaction): chat.postEphemeral in the channel. */
  const privately = (client: WebClient, channel: string, user: string) => async (reply: Reply): Promise<void> => {
    const message = render(reply);
    await client.chat.postEphemeral({ channel, user, text: message.text, blocks: message.blocks });
  };

  /** Slack retries and socket redeliveries carry the same reaction: one key for all of them. */
  const reactionKey = (channel: string, ts: string, user: string, reaction: string): string => `slack:reaction:${channel}:${ts}:${user}:${reaction}`;

  const groupCache = new Map<string, { members: Set<string>; at: number }>();
  async function groupsOf(client: WebClient, userId: string): Promise<string[]> {
    const groups: string[] = [];
    for (const group of options.approverGroups ?? []) {
      let cached = groupCache.get(group);
      if (!cached || Date.now() - cached.at > 60_000) {
        const result = await client.usergroups.users.list({ usergroup: group });
        cached = { members: new Set(result.users ?? []), at: Date.now() };
        groupCache.set(group, cached);
      }
      if (cached.members.has(userId)) groups.push(group);
    }
    return groups;
  }

  const requester = async (client: WebClient, id: string, name: string | undefined): Promise<Requester> => ({
    platform: 'slack',
    id,
    displayName: name ?? id,
    groups: await groupsOf(client, id),
  });

  app.command('/jarvis', async ({ command, ack, client, respond }) => {
    await ack({ response_type: 'ephemeral', text: scrubSecrets(`Working on \`/jarvis ${command.text}\`…`) });
    const conversation = conversationFor(client, command.channel_id);
    await dispatcher.handle({
      text: command.text,
      prefixed: false,
      requester: await requester(client, command.user_id, command.user_name),
      conversation,
      respond: async (reply) => {
        if (reply.private) {
          const message = render(reply);
          await respond({ response_type: 'ephemeral', text: message.text, blocks: message.blocks });
          return undefined;
        }
        return conversation.post(reply);
      },
    });
  });

  app.action(SLACK_ACTION_PATTERN, async ({ ack, body, action, client }) => {
    await ack();
    if (body.type !== 'block_actions' || action.type !== 'button' || !('action_id' in action) || !body.channel || !body.message) return;
    const kind = slackAction(action.action_id);
    if (!kind) return;
    const channel = body.channel.id;
    const conversation = conversationFor(client, channel);
    const who = await requester(client, body.user.id, body.user.name);
    if (kind === 'approve' || kind === 'reject') {
      await dispatcher.decide({
        kind,
        via: 'button',
        requester: who,
        conversation,
        message: { platform: 'slack', channelId: channel, messageId: String(body.message.ts) },
        eventKey: `slack:action:${channel}:${String(body.message.ts)}:${body.user.id}:${action.action_ts}`,
        respondPrivately: privately(client, channel, body.user.id),
      });
      return;
    }
    const respond = async (reply: Reply): Promise<MessageRef | undefined> => {
      if (!reply.private) return conversation.post(reply);
      await privately(client, channel, body.user.id)(reply);
      return undefined;
    };
    await dispatcher.click({ action: kind, arg: action.value ?? '', requester: who, conversation, respond });
  });

  app.event('reaction_added', async ({ event, client }) => {
    if (event.item.type !== 'message' || (event.reaction !== APPROVE && event.reaction !== REJECT)) return;
    const channel = event.item.channel;
    await dispatcher.decide({
      kind: event.reaction === APPROVE ? 'approve' : 'reject',
      via: 'reaction',
      requester: await requester(client, event.user, undefined),
      conversation: conversationFor(client, channel),
      message: { platform: 'slack', channelId: channel, messageId: event.item.ts },
      eventKey: reactionKey(channel, event.item.ts, event.user, event.reaction),
      respondPrivately: privately(client, channel, event.user),
    });
  });

  app.event('reaction_removed', async ({ event }) => {
    if (event.item.type !== 'message' || (event.reaction !== APPROVE && event.reaction !== REJECT)) return;
    dispatcher.reactionRemoved(reactionKey(event.item.channel, event.item.ts, event.user, event.reaction));
  });

  app.error(async (error) => {
    log('error', 'slack listener failed', { error: error.message });
  });

  let httpUrl: string | undefined;
  if (options.mode.kind === 'socket') {
    await app.start();
  } else {
    const server = (await app.start({ port: options.mode.port, host: options.mode.host })) as Server;
    const address = server.address() as AddressInfo;
    // A host name can still resolve to "every address": what the socket is bound to is what counts.
    if (boundToEveryAddress(address.address)) {
      await app.stop();
      throw new Error(`Slack HTTP mode: SLACK_HTTP_LISTEN host ${options.mode.host} resolves to every address (${address.address}); name a LAN or tailnet address`);
    }
    httpUrl = `http://${options.mode.host}:${address.port}/slack/events`;
  }
  log('info', 'slack adapter ready', { mode: options.mode.kind });

  return {
    app,
    ...(httpUrl && { httpUrl }),
    async alert(reply) {
      if (options.alertChannel) await conversationFor(app.client, options.alertChannel).post(reply);
    },
    async stop() {
      // app.stop() resolves before the socket closes; wait for 'disconnected' so no close timer is left behind.
      const socketClient = socketReceiver?.client;
      const down = socketClient ? new Promise<void>((resolve) => socketClient.once('disconnected', () => resolve())) : Promise.resolve();
      await app.stop();
      await down;
    },
  };
}
