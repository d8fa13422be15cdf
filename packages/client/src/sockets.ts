import type { components } from './kith-api.ts';

/**
 * Reconnecting sockets for the two live streams: a conversation (`GET /api/v1/conversations/{id}/stream`,
 * resumed with `?after_seq=`) and the user's notifications (`GET /api/v1/notifications/stream`, resumed
 * with `?since=`). Each reconnects after a drop with capped, jittered exponential backoff, resumes
 * from the last item it delivered, and drops what it already delivered, so across any number of
 * reconnects every message and notification reaches the handler exactly once, in order.
 */

export type Message = components['schemas']['Message'];
export type Notification = components['schemas']['Notification'];
/** A notification as the socket sends it: the notification without `read`. */
export type NotificationFrame = Notification extends infer N ? (N extends Notification ? Omit<N, 'read'> : never) : never;

/** Conversation socket frames (server → client), as in the API contract. */
export type ConversationFrame =
  | { type: 'message.new'; message: Message }
  | { type: 'message.updated'; message: Message }
  | { type: 'message.deleted'; conversation_id: string; seq: number }
  | { type: 'typing'; user: components['schemas']['PublicUser'] }
  | { type: 'read'; user_id: string; seq: number }
  | { type: 'ack'; client_id: string; seq: number }
  | { type: 'error'; status: number; detail: string; call_id?: string }
  | { type: `call.${string}`; [key: string]: unknown };

/** Notification socket frames (server → client). */
export type NotificationSocketFrame = NotificationFrame | { type: 'notification.removed'; id: string } | { type: 'error'; status: number; detail: string };

/** The part of a WebSocket these helpers use (browsers', Node's and Workers' sockets all fit). */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  /** Workers: a socket from a fetch upgrade must be accepted (after the listeners are in place). */
  accept?(): void;
}

/** An upgrade attempt: the socket, or the HTTP status that refused it (0 when unknown, e.g. a browser's failed handshake). */
export type Upgrade = { ok: true; socket: SocketLike } | { ok: false; status: number };

/** Opens a socket to `url` (http(s), with the resume parameter set) authenticated with `token`. */
export type SocketConnector = (url: URL, token: string) => Promise<Upgrade>;

/**
 * Connects through `fetch` with an `Upgrade: websocket` request and `Authorization: Bearer` (Workers,
 * and any runtime whose fetch answers upgrades with a `webSocket`).
 */
export function fetchConnector(fetchFn: (input: Request) => Promise<Response>, headers: Record<string, string> = {}): SocketConnector {
  return async (url, token) => {
    const response = await fetchFn(new Request(url, { headers: { ...headers, Upgrade: 'websocket', Authorization: `Bearer ${token}` } }));
    const socket = (response as Response & { webSocket?: SocketLike | null }).webSocket;
    if (response.status !== 101 || !socket) {
      await response.body?.cancel();
      return { ok: false, status: response.status };
    }
    return { ok: true, socket };
  };
}

interface WebSocketConstructor {
  new (url: string): SocketLike & { addEventListener(type: 'open', listener: () => void): void };
}

/**
 * Connects with the standard `WebSocket` (browsers, Node 22+, Deno, Bun), which cannot send headers:
 * the token travels as `?token=`. A refused handshake is only seen as a close, so its status is 0.
 */
export function webSocketConnector(WebSocketImpl: WebSocketConstructor = (globalThis as unknown as { WebSocket: WebSocketConstructor }).WebSocket): SocketConnector {
  return (url, token) =>
    new Promise((resolve) => {
      const target = new URL(url);
      target.protocol = target.protocol === 'https:' ? 'wss:' : 'ws:';
      target.searchParams.set('token', token);
      const socket = new WebSocketImpl(target.toString());
      let settled = false;
      socket.addEventListener('open', () => {
        settled = true;
        resolve({ ok: true, socket });
      });
      socket.addEventListener('close', () => {
        if (!settled) resolve({ ok: false, status: 0 });
        settled = true;
      });
    });
}

export type SocketState = 'connecting' | 'open' | 'waiting' | 'closed';

/** Why a socket stopped for good: closed by you, by the server with a 4xxx code, or its upgrade refused. */
export interface SocketEnd {
  reason: 'closed' | 'server' | 'refused' | 'signed_out';
  code?: number;
  status?: number;
  detail?: string;
}

export interface ReconnectOptions {
  /** First retry delay (default 250 ms); doubles per failed attempt up to `maxDelayMs` (default 10 s), with jitter. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Sends `{"type":"ping"}` this often and reconnects when no frame came back by the next ping (default 30 s; 0: never). */
  heartbeatMs?: number;
  onState?: (state: SocketState) => void;
  /** Called once when the socket stops for good. */
  onEnd?: (end: SocketEnd) => void;
}

/** What a stream needs from the client it belongs to. */
export interface StreamContext {
  baseUrl: string;
  connect: SocketConnector;
  /** The current access token (null: signed out). */
  token(): string | null;
  /** A fresh token after `failed` was refused (single-flight with the client's HTTP refreshes); null when signed out. */
  refresh(failed: string): Promise<string | null>;
}

const PING = '{"type":"ping"}';
const PONG = '{"type":"pong"}';

/**
 * The reconnect loop shared by both streams: connect, hand every frame to `receive`, and after a drop
 * wait and connect again with the resume point `url()` gives at that moment. Closes with a 4xxx code
 * (removed, signed out, deleted), refused upgrades (403, 404) and a refused refresh end it for good.
 */
export abstract class ResumableSocket {
  #state: SocketState = 'connecting';
  #socket: SocketLike | null = null;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #heard = true;
  #prepared = false;
  #waiters: (() => void)[] = [];
  protected readonly context: StreamContext;
  readonly #options: ReconnectOptions;

  protected constructor(context: StreamContext, options: ReconnectOptions) {
    this.context = context;
    this.#options = options;
  }

  get state(): SocketState {
    return this.#state;
  }

  /** Resolves when the socket is (next) open; rejects if it ends first. */
  opened(): Promise<void> {
    if (this.#state === 'open') return Promise.resolve();
    if (this.#state === 'closed') return Promise.reject(new Error('the socket has ended'));
    return new Promise((resolve, reject) => {
      this.#waiters.push(() => (this.#state === 'open' ? resolve() : reject(new Error('the socket has ended'))));
    });
  }

  /** Sends a frame on the open socket; false when it is not open (frames are not queued). */
  sendFrame(frame: object): boolean {
    if (this.#state !== 'open' || !this.#socket) return false;
    this.#socket.send(JSON.stringify(frame));
    return true;
  }

  /** Closes the socket for good. */
  close(): void {
    this.#end({ reason: 'closed' });
  }

  /** The URL of the next connection, with the resume parameter as of now. */
  protected abstract url(): URL;
  /** One frame from the server (pongs and unparseable text are filtered out before). */
  protected abstract receive(frame: Record<string, unknown>): void;
  /**
   * Runs before the first connection (e.g. to find the resume point), again before each attempt until
   * it succeeds. An error with a `status` of 401, 403 or 404 ends the socket like a refused upgrade.
   */
  protected async prepare(): Promise<void> {}
  /**
   * An upgrade refused with `status` (not 401, 403 or 404): true when this fixed the cause (e.g. caught
   * up through REST), so the next attempt is made at once; false to retry with backoff.
   */
  protected async recover(_status: number): Promise<boolean> {
    return false;
  }

  protected start(): void {
    void this.#connect();
  }

  /** Read through a method: the state may change during any await. */
  #ended(): boolean {
    return this.#state === 'closed';
  }

  #setState(state: SocketState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#options.onState?.(state);
    if (state === 'open' || state === 'closed') for (const wake of this.#waiters.splice(0)) wake();
  }

  async #connect(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#setState('connecting');
    let token = this.context.token();
    if (!token) return this.#end({ reason: 'signed_out' });
    if (!this.#prepared) {
      try {
        await this.prepare();
        this.#prepared = true;
      } catch (error) {
        const status = (error as { status?: unknown }).status;
        if (status === 401 || status === 403 || status === 404) return this.#end({ reason: status === 401 ? 'signed_out' : 'refused', status });
        return this.#retry();
      }
      if (this.#ended()) return;
    }
    let upgrade: Upgrade;
    try {
      upgrade = await this.context.connect(this.url(), token);
      if (!upgrade.ok && upgrade.status === 401) {
        const fresh = await this.context.refresh(token);
        if (!fresh) return this.#end({ reason: 'signed_out', status: 401 });
        token = fresh;
        upgrade = await this.context.connect(this.url(), token);
      }
    } catch {
      return this.#retry();
    }
    if (this.#ended()) {
      if (upgrade.ok) upgrade.socket.close(1000, 'closed');
      return;
    }
    if (!upgrade.ok) {
      if (upgrade.status === 401 || upgrade.status === 403 || upgrade.status === 404) return this.#end({ reason: upgrade.status === 401 ? 'signed_out' : 'refused', status: upgrade.status });
      const recovered = await this.recover(upgrade.status).catch(() => false);
      if (this.#ended()) return;
      return recovered ? void this.#connect() : this.#retry();
    }
    this.#attach(upgrade.socket);
  }

  #attach(socket: SocketLike): void {
    this.#socket = socket;
    socket.addEventListener('message', (event) => {
      if (this.#socket !== socket) return;
      this.#heard = true;
      const text = typeof event.data === 'string' ? event.data : new TextDecoder().decode(event.data as ArrayBuffer);
      if (text === PONG) return;
      let frame: unknown;
      try {
        frame = JSON.parse(text);
      } catch {
        return;
      }
      if (typeof frame === 'object' && frame !== null && !Array.isArray(frame)) this.receive(frame as Record<string, unknown>);
    });
    socket.addEventListener('close', (event) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#stopHeartbeat();
      if (this.#state === 'closed') return;
      // 4xxx: the server ended it on purpose (removed from the conversation, signed out, deleted).
      if (event.code >= 4000 && event.code <= 4999) return this.#end({ reason: 'server', code: event.code, detail: event.reason });
      this.#retry();
    });
    socket.accept?.();
    this.#attempt = 0;
    this.#setState('open');
    this.#startHeartbeat(socket);
  }

  #startHeartbeat(socket: SocketLike): void {
    const every = this.#options.heartbeatMs ?? 30_000;
    if (every <= 0) return;
    this.#heard = true;
    this.#heartbeat = setInterval(() => {
      if (!this.#heard) {
        // Nothing since the last ping: the connection is gone without a close; start over.
        this.#socket = null;
        this.#stopHeartbeat();
        try {
          socket.close(1000, 'no answer to ping');
        } catch {
          // already closing
        }
        return this.#retry();
      }
      this.#heard = false;
      try {
        socket.send(PING);
      } catch {
        // the close event follows
      }
    }, every);
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #retry(): void {
    if (this.#state === 'closed') return;
    this.#setState('waiting');
    const base = this.#options.initialDelayMs ?? 250;
    const cap = this.#options.maxDelayMs ?? 10_000;
    const delay = Math.min(cap, base * 2 ** this.#attempt) * (0.5 + Math.random() / 2);
    this.#attempt += 1;
    this.#timer = setTimeout(() => void this.#connect(), delay);
  }

  #end(end: SocketEnd): void {
    if (this.#state === 'closed') return;
    clearTimeout(this.#timer);
    this.#stopHeartbeat();
    const socket = this.#socket;
    this.#socket = null;
    this.#setState('closed');
    if (socket) {
      try {
        socket.close(1000, 'closed by the client');
      } catch {
        // already closing
      }
    }
    this.#options.onEnd?.(end);
  }
}

export interface ConversationStreamOptions extends ReconnectOptions {
  /**
   * The seq of the last message you already have (from the history, say): the socket first replays
   * every message after it. Without it the socket starts at the conversation's newest message (found
   * with one history request before connecting), so nothing sent after you opened it is missed.
   */
  afterSeq?: number;
  /** Each message exactly once, in seq order, across reconnects. */
  onMessage?: (message: Message) => void;
  /** Every other frame (`message.updated`, `message.deleted`, `typing`, `read`, `ack`, `error`, `call.*`). */
  onFrame?: (frame: ConversationFrame) => void;
}

/** One ascending page of a conversation's messages after `afterSeq` (or after `cursor`, its next page). */
export type MessagesAfter = (afterSeq: number, cursor?: string) => Promise<{ data: Message[]; next_cursor: string | null }>;

/** A conversation socket that resumes with `?after_seq=` = the seq of the last message delivered. */
export class ConversationStream extends ResumableSocket {
  readonly conversationId: string;
  #lastSeq: number | undefined;
  readonly #latestSeq: () => Promise<number>;
  readonly #history: MessagesAfter;
  readonly #handlers: ConversationStreamOptions;

  constructor(context: StreamContext, conversationId: string, latestSeq: () => Promise<number>, handlers: ConversationStreamOptions, history: MessagesAfter = async () => ({ data: [], next_cursor: null })) {
    super(context, handlers);
    this.conversationId = conversationId;
    this.#lastSeq = handlers.afterSeq;
    this.#latestSeq = latestSeq;
    this.#history = history;
    this.#handlers = handlers;
    this.start();
  }

  /**
   * The room replays at most 1,000 messages on connect and refuses a connection further behind (409):
   * the missed messages are read from the history instead, page by page, delivered in order, and the
   * next connection resumes after them.
   */
  protected override async recover(status: number): Promise<boolean> {
    if (status !== 409 || this.#lastSeq === undefined) return false;
    let cursor: string | null | undefined;
    do {
      const page = await this.#history(this.#lastSeq, cursor ?? undefined);
      for (const message of page.data) this.receive({ type: 'message.new', message });
      cursor = page.next_cursor;
    } while (cursor);
    return true;
  }

  /** The seq of the last message delivered (the resume point). */
  get lastSeq(): number | undefined {
    return this.#lastSeq;
  }

  protected override async prepare(): Promise<void> {
    this.#lastSeq ??= await this.#latestSeq();
  }

  protected url(): URL {
    const url = new URL(`/api/v1/conversations/${encodeURIComponent(this.conversationId)}/stream`, this.context.baseUrl);
    if (this.#lastSeq !== undefined) url.searchParams.set('after_seq', String(this.#lastSeq));
    return url;
  }

  protected receive(frame: Record<string, unknown>): void {
    if (frame.type === 'message.new') {
      const message = frame.message as Message;
      // Seqs only grow: anything at or below the last delivered one was delivered already.
      if (this.#lastSeq !== undefined && message.seq <= this.#lastSeq) return;
      this.#lastSeq = message.seq;
      this.#handlers.onMessage?.(message);
      return;
    }
    this.#handlers.onFrame?.(frame as ConversationFrame);
  }
}

export interface NotificationStreamOptions extends ReconnectOptions {
  /** Each notification once per change (a grouped one again when it grows), in order, across reconnects. */
  onNotification?: (notification: NotificationFrame) => void;
  /** A notification was taken back (`notification.removed`). */
  onRemoved?: (id: string) => void;
  /** Any other frame (`error`). */
  onFrame?: (frame: NotificationSocketFrame) => void;
}

/** A grouped notification (likes of a post, new followers) carries `count` and `actors`, and moves up the list when it grows. */
const isGrouped = (data: unknown) => typeof data === 'object' && data !== null && 'count' in data && 'actors' in data;

/** An id no notification has: as `since` it makes the server replay its newest notifications. */
const UNKNOWN_ID = '00000000000000000000000000';

/**
 * The notification socket, resuming with `?since=` = the last delivered notification that cannot
 * move. A grouped notification is re-stored at the top of the inbox when it grows, so resuming after
 * one could skip what arrived between its two positions: the anchor is the last plain one instead,
 * and what the replay repeats is dropped here (a notification is delivered again only when its data
 * changed). Before the first connection the inbox's current notifications are read once, so they are
 * known (not delivered) and the first anchor is set.
 */
export class NotificationStream extends ResumableSocket {
  /** id → data (JSON) of every notification delivered or known; a change of data is a new delivery. */
  readonly #seen = new Map<string, string>();
  readonly #removed = new Set<string>();
  #anchor: string | undefined;
  readonly #current: () => Promise<NotificationFrame[]>;
  readonly #handlers: NotificationStreamOptions;

  constructor(context: StreamContext, current: () => Promise<NotificationFrame[]>, handlers: NotificationStreamOptions) {
    super(context, handlers);
    this.#current = current;
    this.#handlers = handlers;
    this.start();
  }

  /** The `since` of the next connection. */
  get anchor(): string | undefined {
    return this.#anchor;
  }

  protected override async prepare(): Promise<void> {
    const newestFirst = await this.#current();
    for (const n of newestFirst) this.#seen.set(n.id, JSON.stringify(n.data));
    // The newest that cannot move; with only grouped ones, the newest (best effort); with none, replay all.
    this.#anchor = (newestFirst.find((n) => !isGrouped(n.data)) ?? newestFirst[0])?.id ?? UNKNOWN_ID;
  }

  protected url(): URL {
    const url = new URL('/api/v1/notifications/stream', this.context.baseUrl);
    if (this.#anchor !== undefined) url.searchParams.set('since', this.#anchor);
    return url;
  }

  protected receive(frame: Record<string, unknown>): void {
    if (frame.type === 'notification.removed' && typeof frame.id === 'string') {
      if (this.#removed.has(frame.id)) return;
      this.#removed.add(frame.id);
      this.#seen.delete(frame.id);
      this.#handlers.onRemoved?.(frame.id);
      return;
    }
    if (typeof frame.id === 'string' && 'data' in frame && typeof frame.created_at === 'string') {
      const data = JSON.stringify(frame.data);
      if (this.#seen.get(frame.id) === data || this.#removed.has(frame.id)) return;
      this.#seen.set(frame.id, data);
      if (!isGrouped(frame.data)) this.#anchor = frame.id;
      this.#handlers.onNotification?.(frame as unknown as NotificationFrame);
      return;
    }
    this.#handlers.onFrame?.(frame as NotificationSocketFrame);
  }
}
