import type { Middleware } from 'openapi-fetch';

/** What a signed-in client holds: a short-lived access token (JWT) and a single-use, rotating refresh token. */
export interface Session {
  access_token: string;
  refresh_token: string;
}

/** The answer of one refresh call: a new pair, `'rejected'` (the refresh token is dead: signed out), or `'failed'` (try later). */
export type RefreshOutcome = Session | 'rejected' | 'failed';

/** The operations whose successful answer is a new token pair; they are sent without the bearer token. */
export const TOKEN_ISSUERS = new Set([
  '/api/v1/auth/register',
  '/api/v1/auth/login',
  '/api/v1/auth/login/mfa',
  '/api/v1/auth/refresh',
  '/api/v1/auth/oauth/exchange',
]);

const bearerOf = (request: Request) => /^Bearer (.+)$/.exec(request.headers.get('Authorization') ?? '')?.[1];

/**
 * The client's tokens, and the one place they are refreshed. Refresh tokens rotate (each works once;
 * reusing one signs the whole device out), so refreshing is single-flight: however many requests
 * fail with the same expired token at once, one refresh call is made and every one of them waits for
 * it; a request that failed with a token already replaced just uses the new one.
 */
export class SessionStore {
  #session: Session | null;
  #inFlight: Promise<Session | null> | null = null;
  readonly #exchange: (refreshToken: string) => Promise<RefreshOutcome>;
  readonly #onChange: ((session: Session | null) => void) | undefined;

  constructor(initial: Session | null, exchange: (refreshToken: string) => Promise<RefreshOutcome>, onChange?: (session: Session | null) => void) {
    this.#session = initial;
    this.#exchange = exchange;
    this.#onChange = onChange;
  }

  get session(): Session | null {
    return this.#session;
  }

  set(session: Session | null): void {
    if (session?.access_token === this.#session?.access_token && session?.refresh_token === this.#session?.refresh_token) return;
    this.#session = session ? { access_token: session.access_token, refresh_token: session.refresh_token } : null;
    this.#onChange?.(this.#session);
  }

  /**
   * A fresh access token after `failedToken` was refused: the current session when it already has a
   * different token, else the result of the (one) refresh call in flight. `null` when there is no
   * session, the refresh token was refused (the session is then cleared) or the refresh failed.
   */
  refresh(failedToken?: string): Promise<Session | null> {
    const current = this.#session;
    if (!current) return Promise.resolve(null);
    if (failedToken !== undefined && current.access_token !== failedToken) return Promise.resolve(current);
    this.#inFlight ??= this.#exchange(current.refresh_token)
      .catch((): RefreshOutcome => 'failed')
      .then((outcome) => {
        // A sign-in or sign-out meanwhile wins over this refresh's answer.
        if (this.#session?.refresh_token !== current.refresh_token) return this.#session;
        if (outcome === 'failed') return null;
        this.set(outcome === 'rejected' ? null : outcome);
        return this.#session;
      })
      .finally(() => {
        this.#inFlight = null;
      });
    return this.#inFlight;
  }
}

/** Reads a token pair out of a successful answer of a {@link TOKEN_ISSUERS} operation (MFA challenges carry none). */
async function tokensIn(response: Response): Promise<Session | null> {
  try {
    const body: unknown = await response.clone().json();
    if (typeof body !== 'object' || body === null) return null;
    const { access_token, refresh_token } = body as Record<string, unknown>;
    return typeof access_token === 'string' && typeof refresh_token === 'string' ? { access_token, refresh_token } : null;
  } catch {
    return null;
  }
}

/**
 * openapi-fetch middleware: sends the access token, keeps the tokens any sign-in, registration or
 * refresh answers with, and on a 401 to a request that carried the token refreshes once (single-flight,
 * see {@link SessionStore}) and sends the request again with the new token. `prepare` runs on the retry
 * (the bookmark, which may have moved meanwhile).
 */
export function authMiddleware(store: SessionStore, prepare: (request: Request) => void = () => {}): Middleware {
  /** A copy of each request sent with the token, kept until its answer, to send again after a refresh. */
  const copies = new Map<string, Request>();
  return {
    onRequest({ request, schemaPath, id }) {
      const session = store.session;
      if (!session || TOKEN_ISSUERS.has(schemaPath) || request.headers.has('Authorization')) return request;
      request.headers.set('Authorization', `Bearer ${session.access_token}`);
      copies.set(id, request.clone());
      return request;
    },
    async onResponse({ response, schemaPath, id, options }) {
      const copy = copies.get(id);
      copies.delete(id);
      if (TOKEN_ISSUERS.has(schemaPath) && response.ok) {
        const tokens = await tokensIn(response);
        if (tokens) store.set(tokens);
        return response;
      }
      if (response.status !== 401 || !copy) return response;
      const fresh = await store.refresh(bearerOf(copy));
      if (!fresh) return response;
      copy.headers.set('Authorization', `Bearer ${fresh.access_token}`);
      prepare(copy);
      await response.body?.cancel();
      return options.fetch(copy);
    },
    onError({ id }) {
      copies.delete(id);
    },
  };
}
