// An in-process fake of Discord's REST API and gateway on 127.0.0.1 (port 0), enough for the real discord.js 14:
// login, READY/GUILD_CREATE, interactions, reactions, messages (JSON and multipart with files), command
// registration, and a gateway reconnect with RESUME. It records every REST call and every gateway frame.
// Payload fields are the ones discord.js 14 reads; a missing one fails the adapter tests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { ConditionWaiters } from './waiters.ts';

export interface RestCall {
  method: string;
  /** Decoded path below /api/v10, e.g. `/webhooks/100/tok/messages/@original`. */
  path: string;
  authorization?: string;
  /** JSON body, or for multipart the parsed `payload_json`. */
  body: unknown;
  files: Array<{ name: string; content: string }>;
}

export interface GatewayFrame {
  direction: 'in' | 'out';
  data: { op: number; t?: string | null; s?: number | null; d?: unknown };
}

export const FAKE_IDS = {
  application: '100000000000000001',
  bot: '100000000000000001',
  guild: '200000000000000001',
  channel: '300000000000000001',
  alertChannel: '300000000000000002',
  /** A guild role tests can name in JARVIS_APPROVER_GROUPS. */
  opsRole: '700000000000000001',
} as const;

export interface DiscordUser {
  id: string;
  username: string;
  roles?: string[];
}

let snowflake = 900_000_000_000_000_000n;
export const nextId = (): string => String(++snowflake);

export class FakeDiscord {
  readonly rest: RestCall[] = [];
  readonly frames: GatewayFrame[] = [];
  readonly messages = new Map<string, Record<string, unknown>>();
  #server: Server | undefined;
  #wss: WebSocketServer | undefined;
  #socket: WebSocket | undefined;
  #seq = 0;
  #sessionId = 'fake-session-1';
  /** Dispatches sent since the client's last heartbeat-acked sequence, replayed on RESUME. */
  readonly #sent: Array<{ s: number; t: string; d: unknown }> = [];
  #resumes = 0;
  readonly #waiters = new ConditionWaiters('FakeDiscord');
  readonly #holds = new Set<{ matches: (call: RestCall) => boolean; released: Promise<void> }>();
  #originals = new Map<string, string>();
  /** When set, REST calls must carry `Bot <token>` (401 otherwise), as Discord checks the bot token. */
  botToken: string | undefined;
  /** The application's flags (GET /applications/@me), e.g. privileged intents switched on. */
  applicationFlags = 0;
  /** Guild commands by `appId/guildId`, as registered with PUT (listed by GET). */
  readonly guildCommands = new Map<string, unknown[]>();
  /** Users GET /users/{id} knows (the bot is one), and the guild's members with their role ids. */
  readonly users = new Map<string, string>([[FAKE_IDS.bot, 'jarvis']]);
  readonly members = new Map<string, string[]>([[FAKE_IDS.bot, []]]);
  /** The guild's roles: @everyone (id = the guild's) may view, send, embed, attach, react and read history. */
  readonly roles: Array<{ id: string; permissions: string }> = [{ id: FAKE_IDS.guild, permissions: String(1024 + 2048 + 16384 + 32768 + 64 + 65536) }];
  /** Channels of the guild with their permission overwrites (GET /channels/{id}). */
  readonly channels = new Map<string, { name: string; overwrites: Array<{ id: string; type: number; allow: string; deny: string }> }>([
    [FAKE_IDS.channel, { name: 'ops', overwrites: [] }],
    [FAKE_IDS.alertChannel, { name: 'alerts', overwrites: [] }],
  ]);
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

  /** For `rest.api` / DISCORD_API_BASE (no trailing slash). */
  get apiBase(): string {
    return `${this.url}/api`;
  }

  get resumes(): number {
    return this.#resumes;
  }

  async stop(): Promise<void> {
    for (const client of this.#wss?.clients ?? []) client.terminate();
    this.#wss?.close();
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  /** Sends a gateway dispatch (op 0) to the connected client. */
  dispatch(t: string, d: unknown): void {
    const s = ++this.#seq;
    this.#sent.push({ s, t, d });
    this.#send({ op: 0, t, s, d });
  }

  /** Asks the client to reconnect (op 7); resolves once it has resumed and got RESUMED. */
  async requestReconnect(): Promise<void> {
    const before = this.#resumes;
    this.#send({ op: 7, d: null });
    await this.waitFor(() => this.#resumes > before, 'client to RESUME');
  }

  /**
   * Drops the connection without a close handshake while `whileDown` queues events; the client reconnects,
   * RESUMEs with its last sequence, and the fake replays what it missed (as Discord does).
   */
  async dropAndResume(whileDown: () => void): Promise<void> {
    const before = this.#resumes;
    const socket = this.#socket;
    this.#socket = undefined;
    whileDown();
    socket?.terminate();
    await this.waitFor(() => this.#resumes > before, 'client to RESUME');
  }

  /** Sends again an event already delivered (what a gateway replay looks like to the bot). */
  replay(t: string, d: unknown): void {
    this.dispatch(t, d);
  }

  /**
   * Holds the answers to matching REST calls until `release()` (calls are recorded at once): what Discord's rate
   * limit on the bot's own reaction PUTs looks like, while a person already reacts to the message.
   */
  hold(method: string, pathPattern: RegExp): { release(): void } {
    let release!: () => void;
    const hold = { matches: (call: RestCall) => call.method === method && pathPattern.test(call.path), released: new Promise<void>((resolve) => (release = resolve)) };
    this.#holds.add(hold);
    return {
      release: () => {
        this.#holds.delete(hold);
        release();
      },
    };
  }

  calls(method: string, pathPattern: RegExp): RestCall[] {
    return this.rest.filter((call) => call.method === method && pathPattern.test(call.path));
  }

  async waitForRest(predicate: (call: RestCall) => boolean, what = 'a REST call', timeoutMs = 5000): Promise<RestCall> {
    let found: RestCall | undefined;
    await this.waitFor(() => (found = this.rest.find(predicate)) !== undefined, what, timeoutMs);
    return found as RestCall;
  }

  /** Resolves when `condition` holds; checked after every request and frame. */
  waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    return this.#waiters.wait(condition, what, timeoutMs);
  }

  #notify(): void {
    this.#waiters.notify();
  }

  #send(data: GatewayFrame['data']): void {
    if (!this.#socket) return;
    this.frames.push({ direction: 'out', data });
    this.#socket.send(JSON.stringify(data));
  }

  #accept(ws: WebSocket): void {
    this.#socket?.terminate();
    this.#socket = ws;
    ws.on('message', (raw) => {
      const data = JSON.parse(String(raw)) as GatewayFrame['data'];
      this.frames.push({ direction: 'in', data });
      this.#onFrame(ws, data);
      this.#notify();
    });
    this.#send({ op: 10, d: { heartbeat_interval: 41_250 } });
  }

  #onFrame(ws: WebSocket, frame: GatewayFrame['data']): void {
    if (ws !== this.#socket) return;
    switch (frame.op) {
      case 1:
        this.#send({ op: 11 });
        return;
      case 2:
        this.dispatch('READY', {
          v: 10,
          user: { id: FAKE_IDS.bot, username: 'jarvis', bot: true, discriminator: '0' },
          guilds: [{ id: FAKE_IDS.guild, unavailable: true }],
          session_id: this.#sessionId,
          resume_gateway_url: this.#gatewayUrl(),
          application: { id: FAKE_IDS.application, flags: 0 },
          shard: [0, 1],
        });
        this.dispatch('GUILD_CREATE', {
          id: FAKE_IDS.guild,
          name: 'homelab',
          channels: [
            { id: FAKE_IDS.channel, type: 0, name: 'ops' },
            { id: FAKE_IDS.alertChannel, type: 0, name: 'alerts' },
          ],
          roles: [
            { id: FAKE_IDS.guild, name: '@everyone', permissions: '0', position: 0, color: 0, hoist: false, managed: false, mentionable: false },
            { id: FAKE_IDS.opsRole, name: 'homelab-ops', permissions: '0', position: 1, color: 0, hoist: false, managed: false, mentionable: false },
          ],
          members: [],
        });
        return;
      case 6: {
        const { seq } = frame.d as { seq: number | null };
        this.#resumes++;
        for (const missed of this.#sent.filter((event) => event.s > (seq ?? 0))) this.#send({ op: 0, t: missed.t, s: missed.s, d: missed.d });
        this.#send({ op: 0, t: 'RESUMED', s: ++this.#seq, d: {} });
        return;
      }
      default:
        return;
    }
  }

  #gatewayUrl(): string {
    return `${this.url.replace('http', 'ws')}/gateway`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const fullPath = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    const path = fullPath.replace(/^\/api\/v10/, '');
    const { body, files } = await parseBody(req.headers['content-type'] ?? '', raw);
    const call: RestCall = { method: req.method ?? 'GET', path, body, files, ...(req.headers.authorization && { authorization: req.headers.authorization }) };
    this.rest.push(call);
    this.#notify();
    for (const hold of [...this.#holds]) if (hold.matches(call)) await hold.released;
    const [status, response] = this.#route(call);
    // A 204 carries no content-type: @discordjs/rest parses any application/json body, even an empty one.
    if (status === 204) res.writeHead(204).end();
    else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(response));
    this.#notify();
  }

  #route(call: RestCall): [number, unknown] {
    const { method, path } = call;
    if (this.botToken !== undefined && call.authorization !== `Bot ${this.botToken}`) return [401, { message: '401: Unauthorized', code: 0 }];
    if (method === 'GET' && path === '/users/@me') return [200, { id: FAKE_IDS.bot, username: 'jarvis', bot: true, discriminator: '0' }];
    if (method === 'GET' && path === '/applications/@me') return [200, { id: FAKE_IDS.application, name: 'Jarvis', flags: this.applicationFlags, bot_public: false }];
    if (method === 'GET' && path === '/gateway/bot') {
      return [200, { url: this.#gatewayUrl(), shards: 1, session_start_limit: { total: 1000, remaining: 1000, reset_after: 0, max_concurrency: 1 } }];
    }
    if (method === 'POST' && /^\/interactions\/[^/]+\/[^/]+\/callback$/.test(path)) return [204, undefined];
    let match = /^\/webhooks\/([^/]+)\/([^/]+)\/messages\/@original$/.exec(path);
    if (match && method === 'PATCH') {
      const token = match[2] as string;
      const id = this.#originals.get(token) ?? nextId();
      this.#originals.set(token, id);
      return [200, this.#store(id, FAKE_IDS.channel, call)];
    }
    if (match && method === 'DELETE') return [204, undefined];
    if ((match = /^\/webhooks\/[^/]+\/[^/]+$/.exec(path)) && method === 'POST') return [200, this.#store(nextId(), FAKE_IDS.channel, call)];
    if ((match = /^\/channels\/([^/]+)\/messages$/.exec(path)) && method === 'POST') return [200, this.#store(nextId(), match[1] as string, call)];
    if ((match = /^\/channels\/([^/]+)\/messages\/([^/]+)$/.exec(path)) && method === 'PATCH') return [200, this.#store(match[2] as string, match[1] as string, call)];
    if (/^\/channels\/[^/]+\/messages\/[^/]+\/reactions\/[^/]+\/@me$/.test(path) && method === 'PUT') return [204, undefined];
    if ((match = /^\/applications\/([^/]+)\/guilds\/([^/]+)\/commands$/.exec(path)) && method === 'PUT') {
      const registered = (call.body as unknown[]).map((command) => ({ ...(command as object), id: nextId(), application_id: FAKE_IDS.application, version: '1' }));
      this.guildCommands.set(`${match[1]}/${match[2]}`, registered);
      return [200, registered];
    }
    if ((match = /^\/users\/(\d+)$/.exec(path)) && method === 'GET') {
      const username = this.users.get(match[1]!);
      return username ? [200, { id: match[1], username, discriminator: '0', bot: match[1] === FAKE_IDS.bot }] : [404, { message: 'Unknown User', code: 10013 }];
    }
    if ((match = /^\/guilds\/([^/]+)\/members\/(\d+)$/.exec(path)) && method === 'GET') {
      const roles = match[1] === FAKE_IDS.guild ? this.members.get(match[2]!) : undefined;
      return roles ? [200, { user: { id: match[2], username: this.users.get(match[2]!) ?? 'someone' }, roles, joined_at: '2026-01-01T00:00:00.000Z' }] : [404, { message: 'Unknown Member', code: 10007 }];
    }
    if ((match = /^\/guilds\/([^/]+)\/roles$/.exec(path)) && method === 'GET') return match[1] === FAKE_IDS.guild ? [200, this.roles.map((r) => ({ ...r, name: r.id === FAKE_IDS.guild ? '@everyone' : 'role' }))] : [403, { message: 'Missing Access', code: 50001 }];
    if ((match = /^\/channels\/(\d+)$/.exec(path)) && method === 'GET') {
      const channel = this.channels.get(match[1]!);
      return channel ? [200, { id: match[1], type: 0, guild_id: FAKE_IDS.guild, name: channel.name, permission_overwrites: channel.overwrites }] : [404, { message: 'Unknown Channel', code: 10003 }];
    }
    if ((match = /^\/applications\/([^/]+)\/guilds\/([^/]+)\/commands$/.exec(path)) && method === 'GET') {
      if (match[2] !== FAKE_IDS.guild) return [403, { message: 'Missing Access', code: 50001 }];
      return [200, this.guildCommands.get(`${match[1]}/${match[2]}`) ?? []];
    }
    return [404, { message: `fake: no route ${method} ${path}`, code: 0 }];
  }

  #store(id: string, channelId: string, call: RestCall): Record<string, unknown> {
    const body = (call.body ?? {}) as Record<string, unknown>;
    const message = {
      id,
      channel_id: channelId,
      guild_id: FAKE_IDS.guild,
      author: { id: FAKE_IDS.bot, username: 'jarvis', bot: true, discriminator: '0' },
      content: body.content ?? '',
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      pinned: false,
      type: 0,
      flags: 0,
      components: body.components ?? [],
      embeds: body.embeds ?? [],
      attachments: call.files.map((file, index) => ({ id: String(index), filename: file.name, size: file.content.length, url: `${this.url}/files/${file.name}`, proxy_url: '' })),
      mentions: [],
      mention_roles: [],
    };
    this.messages.set(id, message);
    return message;
  }

  /** Builders for the payloads the client needs (chat-platforms.md §A.4): keep required fields in one place. */
  slashCommand(user: DiscordUser, options: unknown[], channelId: string = FAKE_IDS.channel): Record<string, unknown> {
    return {
      ...this.#interactionBase(user, channelId),
      type: 2,
      data: { id: '500000000000000001', name: 'jarvis', type: 1, options },
    };
  }

  button(user: DiscordUser, customId: string, messageId: string, channelId: string = FAKE_IDS.channel): Record<string, unknown> {
    return {
      ...this.#interactionBase(user, channelId),
      type: 3,
      data: { custom_id: customId, component_type: 2 },
      message: this.messages.get(messageId) ?? { id: messageId, channel_id: channelId },
    };
  }

  reaction(user: DiscordUser, messageId: string, emoji: string, channelId: string = FAKE_IDS.channel): Record<string, unknown> {
    return {
      user_id: user.id,
      channel_id: channelId,
      message_id: messageId,
      guild_id: FAKE_IDS.guild,
      member: this.#member(user),
      emoji: { id: null, name: emoji },
      burst: false,
      type: 0,
    };
  }

  /** MESSAGE_REACTION_REMOVE: no member object, as Discord sends it. */
  reactionRemoval(user: DiscordUser, messageId: string, emoji: string, channelId: string = FAKE_IDS.channel): Record<string, unknown> {
    return { user_id: user.id, channel_id: channelId, message_id: messageId, guild_id: FAKE_IDS.guild, emoji: { id: null, name: emoji }, burst: false, type: 0 };
  }

  #interactionBase(user: DiscordUser, channelId: string): Record<string, unknown> {
    return {
      id: nextId(),
      application_id: FAKE_IDS.application,
      token: `tok-${nextId()}`,
      version: 1,
      guild_id: FAKE_IDS.guild,
      channel: { id: channelId, type: 0 },
      channel_id: channelId,
      member: this.#member(user),
      entitlements: [],
      authorizing_integration_owners: {},
      app_permissions: '0',
      locale: 'en-US',
    };
  }

  #member(user: DiscordUser): Record<string, unknown> {
    return {
      user: { id: user.id, username: user.username, discriminator: '0', global_name: user.username },
      roles: user.roles ?? [],
      joined_at: '2026-01-01T00:00:00.000Z',
      deaf: false,
      mute: false,
      flags: 0,
      permissions: '0',
    };
  }
}

/** Slash-command option trees, e.g. `subcommand('plan', { phase: 'phase0' })`. */
export function subcommand(name: string, values: Record<string, string | number> = {}): unknown[] {
  return [{ name, type: 1, options: Object.entries(values).map(([key, value]) => ({ name: key, type: typeof value === 'number' ? 4 : 3, value })) }];
}

type Embed = { title?: string; description?: string; fields?: Array<{ name: string; value: string }>; footer?: { text: string } };

/** What a message call says: its content and every embed's title, description, fields and footer. */
export const embedText = (call: RestCall): string => {
  const body = (call.body ?? {}) as { content?: string; embeds?: Embed[] };
  const embeds = (body.embeds ?? []).map((e) => [e.title, e.description, ...(e.fields ?? []).map((f) => `${f.name}: ${f.value}`), e.footer?.text].join('\n'));
  return [body.content ?? '', ...embeds].join('\n');
};

async function parseBody(contentType: string, raw: Buffer): Promise<{ body: unknown; files: RestCall['files'] }> {
  if (!raw.length) return { body: undefined, files: [] };
  if (contentType.startsWith('multipart/form-data')) {
    const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
    const files: RestCall['files'] = [];
    let body: unknown;
    for (const [key, value] of form.entries()) {
      if (key === 'payload_json') body = JSON.parse(String(value));
      else if (typeof value !== 'string') files.push({ name: value.name, content: await value.text() });
    }
    return { body, files };
  }
  return { body: JSON.parse(raw.toString('utf8')), files: [] };
}
