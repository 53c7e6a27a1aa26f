// An in-process fake of Slack's Web API and Socket Mode on 127.0.0.1 (port 0), enough for the real @slack/bolt 5:
// auth.test, apps.connections.open, the socket-mode WebSocket with envelopes and acks, chat.*, reactions.add,
// file uploads (uploadV2), usergroups, response_url posts. It records every call and every ack.
// Payload fields are the ones @slack/bolt 5 and @slack/socket-mode read; a missing one fails the adapter tests.
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { ConditionWaiters } from './waiters.ts';

export interface ApiCall {
  method: string;
  authorization?: string;
  body: Record<string, unknown>;
}

export const SLACK_IDS = { team: 'T0FAKE', botUser: 'U0BOT', bot: 'B0BOT', channel: 'C0OPS', alertChannel: 'C0ALERTS' } as const;

export class FakeSlack {
  readonly calls: ApiCall[] = [];
  readonly acks: Array<{ envelope_id: string; payload?: unknown }> = [];
  /** JSON posted to response_url by respond(). */
  readonly responses: unknown[] = [];
  readonly uploads: Array<{ fileId: string; content: string }> = [];
  /** Slack user-group members, for usergroups.users.list. */
  readonly userGroups = new Map<string, string[]>();
  /** Workspace users for users.info (name, deactivated, bot). */
  readonly users = new Map<string, { name: string; deleted?: boolean; is_bot?: boolean }>([[SLACK_IDS.botUser, { name: 'jarvis', is_bot: true }]]);
  /** Channels for conversations.info, with whether the bot is in them. */
  readonly channels = new Map<string, { name: string; is_member: boolean }>([
    [SLACK_IDS.channel, { name: 'ops', is_member: true }],
    [SLACK_IDS.alertChannel, { name: 'alerts', is_member: true }],
  ]);
  /** When set, Web API calls must carry one of these bearer tokens (`invalid_auth` otherwise). */
  validTokens: Set<string> | undefined;
  /** When set, answers carry them in `x-oauth-scopes`, as Slack does for the token's granted scopes. */
  botScopes: string[] | undefined;
  #server: Server | undefined;
  #wss: WebSocketServer | undefined;
  #socket: WebSocket | undefined;
  #ts = 1_764_000_000;
  #pendingAcks = new Map<string, (payload: unknown) => void>();
  readonly #helloSent = new WeakSet<WebSocket>();
  readonly #waiters = new ConditionWaiters('FakeSlack');
  readonly #holds = new Set<{ matches: (method: string) => boolean; released: Promise<void> }>();
  url = '';

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.#handle(req, res));
    const wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.#server = server;
    this.#wss = wss;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  /** For `clientOptions.slackApiUrl` / SLACK_API_URL. */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  get connected(): boolean {
    return this.#socket !== undefined;
  }

  async stop(): Promise<void> {
    for (const client of this.#wss?.clients ?? []) client.terminate();
    this.#wss?.close();
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  /** Sends an envelope over Socket Mode; resolves with the ack's payload (or rejects if no ack comes). */
  sendEnvelope(type: 'slash_commands' | 'interactive' | 'events_api', payload: unknown, envelopeId: string = randomUUID(), timeoutMs = 3000): Promise<unknown> {
    if (!this.#socket) return Promise.reject(new Error('FakeSlack: no socket-mode client connected'));
    const socket = this.#socket;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pendingAcks.delete(envelopeId);
        reject(new Error(`FakeSlack: no ack for ${type} envelope ${envelopeId}`));
      }, timeoutMs);
      this.#pendingAcks.set(envelopeId, (ack) => {
        clearTimeout(timer);
        resolve(ack);
      });
      socket.send(JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: type !== 'events_api', retry_attempt: 0, retry_reason: '' }));
    });
  }

  /** Sends `disconnect` (as Slack does before rotating a connection); resolves once the client is back. */
  async requestReconnect(): Promise<void> {
    const socket = this.#socket;
    if (!socket) throw new Error('FakeSlack: no socket-mode client connected');
    const opened = this.api('apps.connections.open').length;
    socket.send(JSON.stringify({ type: 'disconnect', reason: 'refresh_requested', debug_info: { host: 'fake' } }));
    await this.waitFor(() => this.api('apps.connections.open').length > opened && this.#socket !== undefined && this.#socket !== socket && this.#helloSent.has(this.#socket), 'socket-mode reconnect');
  }

  /**
   * Holds the answers to calls of `method` until `release()` (calls are recorded at once): what a slow or
   * rate-limited Slack looks like to the bot, e.g. its own reactions.add while a person already reacts.
   */
  hold(method: string): { release(): void } {
    let release!: () => void;
    const hold = { matches: (m: string) => m === method, released: new Promise<void>((resolve) => (release = resolve)) };
    this.#holds.add(hold);
    return {
      release: () => {
        this.#holds.delete(hold);
        release();
      },
    };
  }

  api(method: string): ApiCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  async waitForApi(predicate: (call: ApiCall) => boolean, what = 'a Web API call', timeoutMs = 5000): Promise<ApiCall> {
    let found: ApiCall | undefined;
    await this.waitFor(() => (found = this.calls.find(predicate)) !== undefined, what, timeoutMs);
    return found as ApiCall;
  }

  waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    return this.#waiters.wait(condition, what, timeoutMs);
  }

  #notify(): void {
    this.#waiters.notify();
  }

  #accept(ws: WebSocket): void {
    this.#socket = ws;
    ws.on('message', (raw) => {
      const ack = JSON.parse(String(raw)) as { envelope_id: string; payload?: unknown };
      this.acks.push(ack);
      this.#pendingAcks.get(ack.envelope_id)?.(ack.payload);
      this.#pendingAcks.delete(ack.envelope_id);
      this.#notify();
    });
    ws.on('close', () => {
      if (this.#socket === ws) this.#socket = undefined;
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'fake' }, connection_info: { app_id: 'A0FAKE' } }));
    this.#helloSent.add(ws);
    this.#notify();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    const raw = bytes.toString('utf8');
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      this.#notify();
    };
    if (path.startsWith('/response/')) {
      this.responses.push(JSON.parse(raw));
      return json(200, { ok: true });
    }
    if (path.startsWith('/upload/')) {
      this.uploads.push({ fileId: path.slice('/upload/'.length), content: await uploadedText(req.headers['content-type'] ?? '', bytes) });
      return json(200, { ok: true });
    }
    const method = path.replace(/^\/api\//, '');
    const body = parseForm(req.headers['content-type'] ?? '', raw);
    this.calls.push({ method, body, ...(req.headers.authorization && { authorization: req.headers.authorization }) });
    this.#notify();
    for (const hold of [...this.#holds]) if (hold.matches(method)) await hold.released;
    if (this.botScopes) res.setHeader('x-oauth-scopes', this.botScopes.join(','));
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (this.validTokens && !this.validTokens.has(token)) return json(200, { ok: false, error: 'invalid_auth' });
    json(200, this.#route(method, body));
  }

  #route(method: string, body: Record<string, unknown>): unknown {
    switch (method) {
      case 'auth.test':
        return { ok: true, user_id: SLACK_IDS.botUser, bot_id: SLACK_IDS.bot, team_id: SLACK_IDS.team, team: 'homelab', user: 'jarvis', url: 'https://homelab.slack.invalid/', is_enterprise_install: false };
      case 'apps.connections.open':
        return { ok: true, url: `${this.url.replace('http', 'ws')}/link/?ticket=fake` };
      case 'chat.postMessage': {
        const ts = `${++this.#ts}.000100`;
        return { ok: true, channel: body.channel, ts, message: { ts, text: body.text, blocks: body.blocks, bot_id: SLACK_IDS.bot, user: SLACK_IDS.botUser, type: 'message' } };
      }
      case 'chat.update':
        return { ok: true, channel: body.channel, ts: body.ts, text: body.text };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: `${++this.#ts}.000200` };
      case 'reactions.add':
        return { ok: true };
      case 'files.getUploadURLExternal': {
        const fileId = `F${++this.#ts}`;
        return { ok: true, upload_url: `${this.url}/upload/${fileId}`, file_id: fileId };
      }
      case 'files.completeUploadExternal':
        return { ok: true, files: body.files ?? [] };
      case 'users.info': {
        const user = this.users.get(String(body.user));
        return user ? { ok: true, user: { id: body.user, ...user } } : { ok: false, error: 'user_not_found' };
      }
      case 'conversations.info': {
        const channel = this.channels.get(String(body.channel));
        return channel ? { ok: true, channel: { id: body.channel, ...channel, is_archived: false } } : { ok: false, error: 'channel_not_found' };
      }
      case 'usergroups.users.list':
        return { ok: true, users: this.userGroups.get(String(body.usergroup)) ?? [] };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  /** Payload builders (chat-platforms.md §B.4): the required fields in one place. */
  slashCommand(userId: string, text: string, channel: string = SLACK_IDS.channel): Record<string, unknown> {
    return {
      command: '/jarvis',
      text,
      user_id: userId,
      user_name: userId.toLowerCase(),
      channel_id: channel,
      team_id: SLACK_IDS.team,
      response_url: `${this.url}/response/cmd-${randomUUID()}`,
      trigger_id: 'trigger-1',
      api_app_id: 'A0FAKE',
    };
  }

  blockAction(userId: string, actionId: string, value: string, messageTs: string, channel: string = SLACK_IDS.channel): Record<string, unknown> {
    return {
      type: 'block_actions',
      user: { id: userId, name: userId.toLowerCase() },
      team: { id: SLACK_IDS.team },
      channel: { id: channel },
      message: { ts: messageTs, type: 'message' },
      container: { type: 'message', message_ts: messageTs, channel_id: channel },
      actions: [{ action_id: actionId, block_id: 'jarvis_plan', type: 'button', value, action_ts: `${Date.now() / 1000}${Math.random().toString().slice(2, 6)}` }],
      api_app_id: 'A0FAKE',
    };
  }

  reactionAdded(userId: string, reaction: string, messageTs: string, channel: string = SLACK_IDS.channel, eventId: string = `Ev${randomUUID()}`): Record<string, unknown> {
    return {
      team_id: SLACK_IDS.team,
      type: 'event_callback',
      event_id: eventId,
      event: { type: 'reaction_added', user: userId, reaction, item: { type: 'message', channel, ts: messageTs }, event_ts: `${Date.now() / 1000}` },
    };
  }

  reactionRemoved(userId: string, reaction: string, messageTs: string, channel: string = SLACK_IDS.channel): Record<string, unknown> {
    return {
      team_id: SLACK_IDS.team,
      type: 'event_callback',
      event_id: `Ev${randomUUID()}`,
      event: { type: 'reaction_removed', user: userId, reaction, item: { type: 'message', channel, ts: messageTs }, event_ts: `${Date.now() / 1000}` },
    };
  }
}

/** Signs a request body the way Slack does (v0 scheme), for HTTP-mode tests. */
export function signSlackRequest(secret: string, body: string, timestamp: number = Math.floor(Date.now() / 1000)): Record<string, string> {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature };
}

/** What a Web API call says: its blocks, or its text when it has none, as one searchable string. */
export const slackText = (call: ApiCall): string => JSON.stringify(call.body.blocks ?? call.body.text ?? '');

function parseForm(contentType: string, raw: string): Record<string, unknown> {
  if (!raw) return {};
  if (contentType.includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    out[key] = value.startsWith('[') || value.startsWith('{') ? JSON.parse(value) : value;
  }
  return out;
}

/** uploadV2 posts the file as multipart form data; the test wants its text. */
async function uploadedText(contentType: string, bytes: Buffer): Promise<string> {
  if (!contentType.startsWith('multipart/form-data')) return bytes.toString('utf8');
  const form = await new Response(bytes, { headers: { 'content-type': contentType } }).formData();
  const parts: string[] = [];
  for (const value of form.values()) parts.push(typeof value === 'string' ? value : await value.text());
  return parts.join('\n');
}
