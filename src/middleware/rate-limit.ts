import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { ApiError } from '../lib/errors';
import type { AppEnv, Bindings } from '../lib/types';
import { parseBearer, verifyAccessToken } from '../lib/access-tokens';

type LimiterName = { [K in keyof Bindings]-?: Bindings[K] extends RateLimit ? K : never }[keyof Bindings];

/** The client address: `CF-Connecting-IP`, which Cloudflare (and wrangler dev) set and clients cannot forge. */
export function clientIp(c: Context<AppEnv>): string {
  return c.req.header('CF-Connecting-IP') ?? 'unknown';
}

/** The binding's window: every limiter in wrangler.toml uses a 60 s period. */
const WINDOW_SECONDS = 60;

/** Counts one hit for `key` on a rate-limit binding; throws 429 with Retry-After when over. */
export async function enforceLimit(c: Context<AppEnv>, limiter: LimiterName, key: string): Promise<void> {
  const { success } = await c.env[limiter].limit({ key });
  if (!success) {
    throw new ApiError('rate_limited', 'Too many requests; slow down and retry later.', {
      headers: { 'Retry-After': String(WINDOW_SECONDS) },
    });
  }
}

/**
 * The general API limits count requests in blocks of this many per key and isolate: the first request
 * of a block asks the binding, and a yes covers the block's other requests in this isolate. So the
 * binding's limits in wrangler.toml are in blocks (30 blocks of 10 = 300 requests a minute), and 9 in
 * 10 API requests skip the binding call. The cost: each isolate may let up to API_LIMIT_BLOCK - 1
 * requests of a key through beyond the limit in a window (the binding's own counts are per Cloudflare
 * location and not exact either). The limits on auth routes and on messages count every request.
 */
export const API_LIMIT_BLOCK = 10;
/** Grants older than one window are not used (a block belongs to the window it was counted in). */
const GRANT_MS = WINDOW_SECONDS * 1000;
/** Past this many keys the isolate forgets every grant (which only costs binding calls). */
const MAX_GRANTS = 10_000;

interface Grant {
  /** Requests the block still covers. */
  left: number;
  until: number;
  /** The binding call under way for this key: concurrent requests wait for it instead of each counting a block. */
  asking?: Promise<void>;
}

const grants = new Map<string, Grant>();

/** Counts one request for `key` against a general API limit, in blocks (see {@link API_LIMIT_BLOCK}); throws 429 when over. */
export async function enforceApiLimit(c: Context<AppEnv>, limiter: 'RL_API_USER' | 'RL_API_IP', key: string): Promise<void> {
  for (;;) {
    const grant = grants.get(key);
    if (grant?.asking) {
      // Wait with a timer of our own, never on the other request's promise: its continuation would run
      // in that request's context, where this request's I/O is refused (and hangs when that one ends).
      await new Promise((resolve) => setTimeout(resolve, 1));
      continue;
    }
    if (grant && grant.left > 0 && grant.until > Date.now()) {
      grant.left--;
      return;
    }
    if (grants.size >= MAX_GRANTS) grants.clear();
    const next: Grant = { left: 0, until: 0 };
    const outcome: { refused: boolean; error?: unknown } = { refused: false };
    next.asking = enforceLimit(c, limiter, key)
      .then(
        () => {
          next.left = API_LIMIT_BLOCK;
          next.until = Date.now() + GRANT_MS;
        },
        (error: unknown) => {
          outcome.refused = true;
          outcome.error = error;
        },
      )
      .finally(() => {
        next.asking = undefined;
      });
    grants.set(key, next);
    await next.asking;
    if (outcome.refused) throw outcome.error;
  }
}

/**
 * The general API limit, each request counted once (in blocks, see {@link enforceApiLimit}): a request
 * with a valid access token counts against its user (RL_API_USER), any other request against its
 * address (RL_API_IP). The verified claims are kept for the auth middleware, so the token is checked once.
 */
export const apiRateLimit = createMiddleware<AppEnv>(async function apiRateLimitMiddleware(c, next) {
  const { token } = parseBearer(c.req.header('Authorization'));
  const claims = token ? await verifyAccessToken(c.env, token).catch(() => null) : null;
  if (token && claims) {
    c.set('verifiedToken', { token, claims });
    await enforceApiLimit(c, 'RL_API_USER', `user:${claims.userId}`);
  } else {
    await enforceApiLimit(c, 'RL_API_IP', `ip:${clientIp(c)}`);
  }
  await next();
});

/**
 * Middleware limiting each client address on one binding.
 * @example app.use('/auth/register', limitByIp('RL_REGISTER'))
 */
export function limitByIp(limiter: LimiterName) {
  return createMiddleware<AppEnv>(async function limitByIpMiddleware(c, next) {
    await enforceLimit(c, limiter, `${limiter}:${clientIp(c)}`);
    await next();
  });
}
