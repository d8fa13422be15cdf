import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { ApiError } from '../lib/errors';
import type { AppEnv, AuthContext } from '../lib/types';
import type { SiteRole } from '../db/schema';
import { cachedSessionRole, forgetSessions, rememberLive } from '../lib/session-cache';
import { parseBearer, verifyAccessToken } from '../lib/access-tokens';
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

/** Requests that change something (and socket upgrades) are never served on the session cache's word. */
const mustConfirm = (c: Context<AppEnv>) => (c.req.method !== 'GET' && c.req.method !== 'HEAD') || c.req.header('Upgrade') !== undefined;

/**
 * Checks the token and that its session (refresh family) is still live and its account not suspended,
 * so logout, resets and suspensions end access at once. Reads may be served on this isolate's cached
 * word for a few seconds (session-cache.ts); writes and socket upgrades always ask D1, in the same one
 * query, so no isolate lets a revoked or suspended account change anything.
 */
export async function authenticate(c: Context<AppEnv>, token: string, confirm = mustConfirm(c)): Promise<AuthContext> {
  const verified = c.get('verifiedToken');
  const claims = verified?.token === token ? verified.claims : await verifyAccessToken(c.env, token);
  let role = confirm ? null : cachedSessionRole(claims.sessionId, claims.userId);
  if (role === null) {
    const row = await c.var.d1.prepare(
      `SELECT u.role, u.suspended_at FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.id = ?1 AND s.user_id = ?2 AND s.revoked_at IS NULL AND s.expires_at > ?3`,
    )
      .bind(claims.sessionId, claims.userId, Date.now())
      .first<{ role: SiteRole; suspended_at: number | null }>();
    if (!row) throw new ApiError('unauthorized', 'The session has ended; log in again.');
    if (row.suspended_at !== null) {
      forgetSessions({ userId: claims.userId });
      throw new ApiError('unauthorized', 'This account is suspended.', { headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
    }
    role = row.role;
    rememberLive(claims.sessionId, claims.userId, role);
  }
  // Under /api/v1 the API limiter already counted this user; elsewhere count here.
  if (verified?.token !== token) await enforceApiLimit(c, 'RL_API_USER', `user:${claims.userId}`);
  return { ...claims, role };
}

/**
 * Authenticates a WebSocket request before any upgrade: the token comes from `Authorization: Bearer`
 * or, for browsers (which cannot set headers on a socket), `?token=`. 401 for a missing or bad token,
 * then 426 when the request is not an upgrade. Returns the user and the URL without its token.
 */
export async function authenticateSocket(c: Context<AppEnv>, queryToken: string | undefined): Promise<{ userId: string; sessionId: string; url: URL }> {
  const { token: headerToken, malformed } = parseBearer(c.req.header('Authorization'));
  const token = headerToken ?? queryToken;
  if (malformed || !token) {
    throw new ApiError('unauthorized', 'A bearer access token is required (Authorization header or ?token=).', { headers: { 'WWW-Authenticate': 'Bearer' } });
  }
  const { userId, sessionId } = await authenticate(c, token);
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') {
    throw new ApiError('upgrade_required', 'Connect with a WebSocket upgrade (Upgrade: websocket).', { headers: { Upgrade: 'websocket' } });
  }
  const url = new URL(c.req.url);
  url.searchParams.delete('token');
  return { userId, sessionId, url };
}

/** Authenticates the request's bearer token (401 without one) and sets `c.var.auth`; `confirm` asks D1 even for a read. */
export async function authenticateRequest(c: Context<AppEnv>, confirm?: boolean): Promise<AuthContext> {
  const token = bearerToken(c);
  if (!token) {
    throw new ApiError('unauthorized', 'A bearer access token is required.', { headers: { 'WWW-Authenticate': 'Bearer' } });
  }
  const auth = await authenticate(c, token, confirm);
  c.set('auth', auth);
  return auth;
}

/** Requires a valid bearer token; sets `c.var.auth`. */
export const requireAuth = createMiddleware<AppEnv>(async function requireAuthMiddleware(c, next) {
  // Already authenticated by an earlier guard (requireStaff authenticates itself).
  if (!c.get('auth')) await authenticateRequest(c);
  await next();
});

/**
 * {@link requireAuth} that always asks D1, never the session cache: for a read that hands out something
 * that outlives the request (TURN credentials), which a session signed out or an account suspended a
 * moment ago must not get on another isolate's cached word.
 */
export const requireLiveAuth = createMiddleware<AppEnv>(async function requireLiveAuthMiddleware(c, next) {
  await authenticateRequest(c, true);
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
