import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { ApiError } from '../lib/errors';
import type { AppEnv, AuthContext } from '../lib/types';
import { isCachedLive, rememberLive } from '../modules/auth/session-cache';
import { verifyAccessToken } from '../modules/auth/tokens';
import { enforceLimit } from './rate-limit';

function bearerToken(c: Context<AppEnv>): string | undefined {
  const header = c.req.header('Authorization');
  if (header === undefined) return undefined;
  const match = /^Bearer +([A-Za-z0-9\-_.]+=*) *$/i.exec(header);
  if (!match?.[1]) {
    throw new ApiError('unauthorized', 'The Authorization header must be "Bearer <access_token>".', {
      headers: { 'WWW-Authenticate': 'Bearer error="invalid_request"' },
    });
  }
  return match[1];
}

/** Checks the token and that its session (refresh family) is still live, so logout and resets end access at once. */
async function authenticate(c: Context<AppEnv>, token: string): Promise<AuthContext> {
  const claims = await verifyAccessToken(c.env, token);
  if (!isCachedLive(claims.sessionId, claims.userId)) {
    const live = await c.env.DB.prepare(
      'SELECT 1 FROM sessions WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL AND expires_at > ?3',
    )
      .bind(claims.sessionId, claims.userId, Date.now())
      .first();
    if (!live) throw new ApiError('unauthorized', 'The session has ended; log in again.');
    rememberLive(claims.sessionId, claims.userId);
  }
  await enforceLimit(c, 'RL_API_USER', `user:${claims.userId}`);
  return claims;
}

/** Requires a valid bearer token; sets `c.var.auth`. */
export const requireAuth = createMiddleware<AppEnv>(async function requireAuthMiddleware(c, next) {
  const token = bearerToken(c);
  if (!token) {
    throw new ApiError('unauthorized', 'A bearer access token is required.', { headers: { 'WWW-Authenticate': 'Bearer' } });
  }
  c.set('auth', await authenticate(c, token));
  await next();
});

/** Authenticates when a token is sent (a bad one is still 401) and lets anonymous callers through. */
export const optionalAuth = createMiddleware<AppEnv>(async function optionalAuthMiddleware(c, next) {
  const token = bearerToken(c);
  if (token) c.set('auth', await authenticate(c, token));
  await next();
});

/** The caller's identity inside a route guarded by {@link requireAuth}. */
export function currentUser(c: Context<AppEnv>): AuthContext {
  const auth = c.get('auth');
  if (!auth) throw new ApiError('unauthorized', 'A bearer access token is required.');
  return auth;
}
