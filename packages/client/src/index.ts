import createClient, { type Client } from 'openapi-fetch';
import { BOOKMARK_HEADER, BookmarkStore, bookmarkMiddleware } from './bookmark.ts';
import type { paths } from './kith-api.ts';
import { authMiddleware, type RefreshOutcome, type Session, SessionStore } from './session.ts';
import {
  ConversationStream,
  type ConversationStreamOptions,
  fetchConnector,
  NotificationStream,
  type NotificationStreamOptions,
  type SocketConnector,
  type StreamContext,
  webSocketConnector,
} from './sockets.ts';

export type { components, operations, paths } from './kith-api.ts';
export { BOOKMARK_HEADER, BookmarkStore, bookmarkMiddleware } from './bookmark.ts';
export { authMiddleware, type RefreshOutcome, type Session, SessionStore, TOKEN_ISSUERS } from './session.ts';
export * from './sockets.ts';

export interface KithClientOptions {
  /** The deployment's origin, e.g. `https://kith.example` (the paths carry `/api/v1`). */
  baseUrl: string;
  /** The fetch to send requests with (default: the global one). */
  fetch?: (input: Request) => Promise<Response>;
  /** Headers sent with every request and socket upgrade. */
  headers?: Record<string, string>;
  /** A session kept from before (e.g. in storage); sign-in, registration and refresh answers replace it. */
  session?: Session | null;
  /** Called whenever the tokens change (rotated, signed in, signed out: null), to keep them. */
  onSessionChange?: (session: Session | null) => void;
  /** The last `X-D1-Bookmark` kept from before. */
  bookmark?: string | null;
  onBookmarkChange?: (bookmark: string) => void;
  /**
   * How sockets connect: by default a fetch upgrade with `Authorization` where fetch answers upgrades
   * (Workers), else the standard `WebSocket` with `?token=`.
   */
  connect?: SocketConnector;
}

export interface KithClient {
  /** The typed API (openapi-fetch): `kith.api.GET('/api/v1/feed/home', { params: { query: { limit: 20 } } })`. */
  readonly api: Client<paths>;
  /** The current tokens (null when signed out). */
  readonly session: Session | null;
  setSession(session: Session | null): void;
  /** Refreshes the tokens now (single-flight with the automatic refreshes); null when signed out. */
  refresh(): Promise<Session | null>;
  /** Signs this device out (`POST /api/v1/auth/logout`) and forgets the tokens. */
  signOut(): Promise<void>;
  /** The newest `X-D1-Bookmark` seen, sent with every request. */
  readonly bookmark: string | null;
  /** A reconnecting conversation socket (see {@link ConversationStream}). */
  conversation(conversationId: string, options?: ConversationStreamOptions): ConversationStream;
  /** A reconnecting notification socket (see {@link NotificationStream}). */
  notifications(options?: NotificationStreamOptions): NotificationStream;
}

/** A call the sockets make for themselves failed: the status and the problem the server sent. */
export class KithRequestError extends Error {
  readonly status: number;
  readonly problem: unknown;

  constructor(what: string, status: number, problem: unknown) {
    super(`${what}: ${status} ${JSON.stringify(problem)}`);
    this.status = status;
    this.problem = problem;
  }
}

/** The data of a successful call; anything else throws a {@link KithRequestError}. */
function ok<T>(result: { data?: T; error?: unknown; response: Response }, what: string): T {
  if (result.data === undefined) throw new KithRequestError(what, result.response.status, result.error);
  return result.data;
}

/**
 * A Kith client: the typed API with token refresh and `X-D1-Bookmark` carried over, and the two
 * reconnecting sockets.
 */
export function createKithClient(options: KithClientOptions): KithClient {
  const fetchFn = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const headers = options.headers ?? {};
  const bookmarks = new BookmarkStore(options.bookmark ?? null, options.onBookmarkChange);
  const withBookmark = bookmarkMiddleware(bookmarks);

  // Refresh calls go through a client without the auth middleware (a refresh never triggers one).
  const plain = createClient<paths>({ baseUrl: options.baseUrl, fetch: fetchFn, headers });
  plain.use(withBookmark);
  const exchange = async (refresh_token: string): Promise<RefreshOutcome> => {
    const { data, response } = await plain.POST('/api/v1/auth/refresh', { body: { refresh_token } });
    if (data) return { access_token: data.access_token, refresh_token: data.refresh_token };
    return response.status === 400 || response.status === 401 || response.status === 403 ? 'rejected' : 'failed';
  };
  const sessions = new SessionStore(options.session ?? null, exchange, options.onSessionChange);

  const api = createClient<paths>({ baseUrl: options.baseUrl, fetch: fetchFn, headers });
  // Order matters for answers (middleware sees them last to first): the auth middleware retries after
  // a refresh first, so the bookmark middleware remembers the bookmark of the answer the caller gets.
  api.use(
    withBookmark,
    authMiddleware(sessions, (retry) => {
      retry.headers.delete(BOOKMARK_HEADER);
      bookmarks.apply(retry);
    }),
  );

  const inWorkers = typeof (globalThis as { WebSocketPair?: unknown }).WebSocketPair === 'function';
  const context: StreamContext = {
    baseUrl: options.baseUrl,
    connect: options.connect ?? (inWorkers ? fetchConnector(fetchFn, headers) : webSocketConnector()),
    token: () => sessions.session?.access_token ?? null,
    refresh: async (failed) => (await sessions.refresh(failed))?.access_token ?? null,
  };

  return {
    api,
    get session() {
      return sessions.session;
    },
    setSession: (session) => sessions.set(session),
    refresh: () => sessions.refresh(),
    async signOut() {
      const session = sessions.session;
      if (!session) return;
      await api.POST('/api/v1/auth/logout', { body: { refresh_token: session.refresh_token } });
      if (sessions.session?.refresh_token === session.refresh_token) sessions.set(null);
    },
    get bookmark() {
      return bookmarks.value;
    },
    conversation(conversationId, streamOptions = {}) {
      const latestSeq = async () => {
        const page = ok(await api.GET('/api/v1/conversations/{id}/messages', { params: { path: { id: conversationId }, query: { limit: 1 } } }), 'reading the newest message');
        return page.data[0]?.seq ?? 0;
      };
      const history = async (afterSeq: number, cursor?: string) =>
        ok(await api.GET('/api/v1/conversations/{id}/messages', { params: { path: { id: conversationId }, query: { after_seq: afterSeq, cursor, limit: 100 } } }), 'reading the missed messages');
      return new ConversationStream(context, conversationId, latestSeq, streamOptions, history);
    },
    notifications(streamOptions = {}) {
      const current = async () => ok(await api.GET('/api/v1/notifications', { params: { query: { limit: 100 } } }), 'reading the notifications').data;
      return new NotificationStream(context, current, streamOptions);
    },
  };
}
