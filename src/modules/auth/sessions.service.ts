import type { D1Client } from '../../db/client';
import type { Context } from 'hono';
import { ApiError } from '../../lib/errors';
import type { AppEnv, Bindings } from '../../lib/types';
import { audit, requestIp } from '../audit/audit';
import { inboxOf } from '../notifications/user-inbox';
import { forgetSessions } from '../../lib/session-cache';
import { revokeTurnCredentials } from '../calls/calls.service';

/**
 * How recently a session must have signed in to add a way into the account (link a provider, start
 * TOTP). Refreshes keep a session going for 30 days, so a stolen access or refresh token of an older
 * session cannot plant a provider that survives a password reset, or lock the owner out behind a
 * second factor it controls.
 */
export const RECENT_SIGN_IN_MS = 15 * 60 * 1000;

/** 403 `/recent-sign-in-required` unless the caller's session signed in within {@link RECENT_SIGN_IN_MS}. */
export async function assertRecentSignIn(db: D1Client, sessionId: string, what: string, now = Date.now()): Promise<void> {
  const fresh = await db.prepare('SELECT 1 AS fresh FROM sessions WHERE id = ?1 AND created_at > ?2').bind(sessionId, now - RECENT_SIGN_IN_MS).first();
  if (!fresh) throw new ApiError('recent_sign_in_required', `Sign in again to ${what}: this session signed in more than 15 minutes ago.`);
}

/** Close code for the sockets of a device that was signed out. */
export const SIGNED_OUT_CLOSE_CODE = 4401;
/** The longest list GET /me/sessions answers (sign-ins are rate limited, and sessions end after 30 days idle). */
const MAX_LISTED = 200;

export interface SessionView {
  id: string;
  created_at: string;
  last_used_at: string;
  ip: string | null;
  user_agent: string | null;
  current: boolean;
}

/** The account's live sessions (one per signed-in device), most recently used first. */
export async function listSessions(db: D1Client, userId: string, currentSessionId: string, now = Date.now()): Promise<SessionView[]> {
  const { results } = await db
    .prepare(
      `SELECT id, created_at, last_used_at, ip, user_agent FROM sessions
       WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2 ORDER BY last_used_at DESC, id DESC LIMIT ?3`,
    )
    .bind(userId, now, MAX_LISTED)
    .all<{ id: string; created_at: number; last_used_at: number; ip: string | null; user_agent: string | null }>();
  return results.map((row) => ({
    id: row.id,
    created_at: new Date(row.created_at).toISOString(),
    last_used_at: new Date(row.last_used_at).toISOString(),
    ip: row.ip,
    user_agent: row.user_agent,
    current: row.id === currentSessionId,
  }));
}

/**
 * Signs devices out: one session (`only`), or every session but the caller's (`allBut`). Their refresh
 * tokens stop working, and so do their access tokens (every request checks the session; this isolate
 * forgets them at once, see session-cache.ts), recorded as `session.revoked` in the same batch; then
 * their open sockets are closed. 404 when `only` is not a live session of this account.
 */
export async function revokeSessions(c: Context<AppEnv>, userId: string, target: { only: string } | { allBut: string }): Promise<string[]> {
  const db = c.var.d1;
  const now = Date.now();
  const live = await db
    .prepare(
      'only' in target
        ? 'SELECT id FROM sessions WHERE user_id = ?1 AND id = ?2 AND revoked_at IS NULL AND expires_at > ?3'
        : 'SELECT id FROM sessions WHERE user_id = ?1 AND id != ?2 AND revoked_at IS NULL AND expires_at > ?3',
    )
    .bind(userId, 'only' in target ? target.only : target.allBut, now)
    .all<{ id: string }>();
  const ids = live.results.map((r) => r.id);
  if ('only' in target && ids.length === 0) throw new ApiError('not_found', 'No such session.');
  if (ids.length === 0) return ids;
  await audit(
    db,
    { action: 'session.revoked', actorId: userId, subjectType: 'user', subjectId: userId, ip: requestIp(c), data: { session_ids: ids } },
    [db.prepare('UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND id IN (SELECT value FROM json_each(?3)) AND revoked_at IS NULL').bind(userId, now, JSON.stringify(ids))],
  );
  await endRevokedSessions(c, userId, ids);
  return ids;
}

/**
 * The statement that ends every session of the account but the caller's (a password change, two-factor
 * sign-in turned on), answering the ids it ended for {@link endRevokedSessions}. Bound `?1` the account,
 * `?2` the session kept, `?3` now; `onlyIf` (an SQL condition over those) makes it wait on a change in
 * the same batch.
 */
export function endOtherSessionsStatement(db: D1Client, userId: string, keepSessionId: string, now: number, onlyIf = '1'): D1PreparedStatement {
  return db.prepare(`UPDATE sessions SET revoked_at = ?3 WHERE user_id = ?1 AND id != ?2 AND revoked_at IS NULL AND ${onlyIf} RETURNING id`).bind(userId, keepSessionId, now);
}

/** The session ids an {@link endOtherSessionsStatement} ended, from its result. */
export const endedSessionIds = (result: D1Result | undefined): string[] => ((result?.results ?? []) as { id: string }[]).map((r) => r.id);

/**
 * What follows sessions revoked in D1 (signed out, a password reset or change, a reused refresh token):
 * this isolate forgets them and their open sockets close with 4401, so an intruder's socket does not
 * keep receiving the account's messages, and their TURN credentials are revoked. Without `sessionIds`,
 * every session of the account ended.
 */
export async function endRevokedSessions(c: Context<AppEnv>, userId: string, sessionIds?: string[]): Promise<void> {
  if (!sessionIds) forgetSessions({ userId });
  else for (const sessionId of sessionIds) forgetSessions({ sessionId });
  if (sessionIds?.length === 0) return;
  await Promise.all([
    closeUserSockets(c.env, userId, { code: SIGNED_OUT_CLOSE_CODE, reason: 'signed out', sessionIds }),
    revokeTurnCredentials(c, { userId, sessionIds }),
  ]);
}

/**
 * Closes a user's open sockets (every conversation they are in, and their notification socket): all
 * of them, or only those opened with `sessionIds`. Failures are logged, never thrown: the sessions
 * are already ended in D1, and a socket's next frame that needs D1 is refused anyway.
 */
export async function closeUserSockets(env: Bindings, userId: string, how: { code: number; reason: string; sessionIds?: string[] }): Promise<void> {
  const { results } = await env.DB.prepare('SELECT conversation_id FROM conversation_members WHERE user_id = ?1').bind(userId).all<{ conversation_id: string }>();
  const closing = results.map((r) => env.ROOMS.get(env.ROOMS.idFromName(r.conversation_id)).closeSocketsOf(userId, how.code, how.reason, how.sessionIds));
  closing.push(inboxOf(env, userId).closeSockets(how.code, how.reason, how.sessionIds));
  const outcomes = await Promise.allSettled(closing);
  for (const o of outcomes) if (o.status === 'rejected') console.error(JSON.stringify({ level: 'warn', message: 'socket close failed', error: String(o.reason) }));
}
