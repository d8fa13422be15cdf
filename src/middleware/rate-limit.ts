import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { ApiError } from '../lib/errors';
import type { AppEnv, Bindings } from '../lib/types';
import { parseBearer, verifyAccessToken } from '../modules/auth/tokens';

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
 * The general API limit, one counter per request: a request with a valid access token counts against
 * its user (RL_API_USER), any other request against its address (RL_API_IP). The verified claims are
 * kept for the auth middleware, so the token is checked once.
 */
export const apiRateLimit = createMiddleware<AppEnv>(async function apiRateLimitMiddleware(c, next) {
  const { token } = parseBearer(c.req.header('Authorization'));
  const claims = token ? await verifyAccessToken(c.env, token).catch(() => null) : null;
  if (token && claims) {
    c.set('verifiedToken', { token, claims });
    await enforceLimit(c, 'RL_API_USER', `user:${claims.userId}`);
  } else {
    await enforceLimit(c, 'RL_API_IP', `ip:${clientIp(c)}`);
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
