import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { ApiError } from '../lib/errors';
import type { AppEnv, AuthContext } from '../lib/types';
import { isCachedLive, rememberLive } from '../modules/auth/session-cache';
import { parseBearer, verifyAccessToken } from '../modules/auth/tokens';
import { enforceApiLimit } from './rate-limit';

function bearerToken(c: Context<AppEnv>): string | undefined {
  const { token, malformed } = parseBearer(c.req.header('Authorization'));
  if (malformed) {
    throw new ApiError('unauthorized', 'The Authorization header must be "Bearer <access_token>".', {
      headers: { 'WWW-Authenticate': 'Bearer error="invalid_request"' },
    });
  }
  return token;
}

/** Checks the token and that its session (refresh family) is still live, so logout and resets end access at once. */
export async function authenticate(c: Context<AppEnv>, token: string): Promise<AuthContext> {
  const verified = c.get('verifiedToken');
  const claims = verified?.token === token ? verified.claims : await verifyAccessToken(c.env, token);
  if (!isCachedLive(claims.sessionId, claims.userId)) {
    const live = await c.env.DB.prepare(
      'SELECT 1 FROM sessions WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL AND expires_at > ?3',
    )
      .bind(claims.sessionId, claims.userId, Date.now())
      .first();
    if (!live) throw new ApiError('unauthorized', 'The session has ended; log in again.');
    rememberLive(claims.sessionId, claims.userId);
  }
  // Under /api/v1 the API limiter already counted this user; elsewhere count here.
  if (verified?.token !== token) await enforceApiLimit(c, 'RL_API_USER', `user:${claims.userId}`);
  return claims;
}

/**
 * Authenticates a WebSocket request before any upgrade: the token comes from `Authorization: Bearer`
 * or, for browsers (which cannot set headers on a socket), `?token=`. 401 for a missing or bad token,
 * then 426 when the request is not an upgrade. Returns the user and the URL without its token.
 */
export async function authenticateSocket(c: Context<AppEnv>, queryToken: string | undefined): Promise<{ userId: string; url: URL }> {
  const { token: headerToken, malformed } = parseBearer(c.req.header('Authorization'));
  const token = headerToken ?? queryToken;
  if (malformed || !token) {
    throw new ApiError('unauthorized', 'A bearer access token is required (Authorization header or ?token=).', { headers: { 'WWW-Authenticate': 'Bearer' } });
  }
  const { userId } = await authenticate(c, token);
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') {
    throw new ApiError('upgrade_required', 'Connect with a WebSocket upgrade (Upgrade: websocket).', { headers: { Upgrade: 'websocket' } });
  }
  const url = new URL(c.req.url);
  url.searchParams.delete('token');
  return { userId, url };
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
