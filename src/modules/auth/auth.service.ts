import type { D1Client } from '../../db/client';
import type { Context } from 'hono';
import type { UserRow } from '../../db/schema';
import { ApiError } from '../../lib/errors';
import { hashPassword, randomToken, sha256Hex, verifyPassword } from '../../lib/crypto';
import { composeMail, type MailDeps } from '../../lib/mailer';
import { takeMailAllowance } from '../mail/mail-caps';
import { singleLineFrom } from '../../policy/text-hygiene';
import { newId } from '../../lib/ids';
import type { AppEnv } from '../../lib/types';
import { audit, requestIp } from '../audit/audit';
import { presentMe } from '../users/users.presenter';
import type { TokenResponse } from './auth.schemas';
import { forgetSessions } from '../../lib/session-cache';
import { accessTokenTtl, signAccessToken, signingKey } from '../../lib/access-tokens';
import { endedSessionIds, endOtherSessionsStatement, endRevokedSessions } from './sessions.service';
import { accountLoginKey, recordLoginFailure, returnLoginAttempt, takeLoginAttempt } from './login-throttle';

export const REFRESH_TTL_MS = 30 * 24 * 60 * 60 * 1000;
export const RESET_TTL_MS = 60 * 60 * 1000;

export interface NewSession {
  sessionId: string;
  refreshToken: string;
  statements: D1PreparedStatement[];
}

/**
 * What a session shows of its device: the client's User-Agent (control characters dropped, 200
 * characters at most) and address (CF-Connecting-IP).
 */
export function deviceOf(c: Context<AppEnv>): { userAgent: string | null; ip: string | null } {
  return { userAgent: singleLineFrom(c.req.header('User-Agent'), 200), ip: requestIp(c) };
}

/** Statements that open a session with its first refresh token; callers batch them with their own writes. */
export async function newSessionStatements(c: Context<AppEnv>, userId: string): Promise<NewSession> {
  signingKey(c.env); // refuse (503) before writing anything when tokens cannot be signed
  const now = Date.now();
  const sessionId = newId(now);
  const refreshToken = randomToken();
  const tokenHash = await sha256Hex(refreshToken);
  const { userAgent, ip } = deviceOf(c);
  const db = c.var.d1;
  return {
    sessionId,
    refreshToken,
    statements: [
      db
        .prepare('INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip) VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6)')
        .bind(sessionId, userId, now, now + REFRESH_TTL_MS, userAgent, ip),
      db
        .prepare('INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)')
        .bind(tokenHash, sessionId, now, now + REFRESH_TTL_MS),
    ],
  };
}

/** The token body shared by register, login and refresh. */
export async function tokenResponse(c: Context<AppEnv>, user: UserRow, sessionId: string, refreshToken: string): Promise<TokenResponse> {
  return {
    user: presentMe(user, c.get('baseUrl')),
    access_token: await signAccessToken(c.env, { userId: user.id, sessionId }),
    refresh_token: refreshToken,
    token_type: 'Bearer',
    expires_in: accessTokenTtl(c.env),
  };
}

/**
 * Opens a session for an existing user and answers with tokens, recorded as `auth.login` with how the
 * user signed in (`method`: `password` or `oauth:<provider>`; `mfa`: the second factor used, if any).
 */
export async function startSession(c: Context<AppEnv>, user: UserRow, how: { method?: string; mfa?: string } = {}): Promise<TokenResponse> {
  const session = await newSessionStatements(c, user.id);
  await audit(
    c.var.d1,
    { action: 'auth.login', actorId: user.id, subjectType: 'user', subjectId: user.id, ip: requestIp(c), data: { session_id: session.sessionId, user_agent: deviceOf(c).userAgent, ...how } },
    session.statements,
  );
  return tokenResponse(c, user, session.sessionId, session.refreshToken);
}

/**
 * Checks the password a signed-in caller gives to confirm an action (password or e-mail change, account
 * deletion, TOTP off). A stolen session must not be a way to guess the password: wrong ones count as
 * failed logins of the account (10 per 15 minutes, then 429 even for the right one) and answer 403
 * naming `field`.
 */
export async function confirmPassword(c: Context<AppEnv>, user: Pick<UserRow, 'id' | 'passwordHash'>, password: string, field: string): Promise<void> {
  const key = accountLoginKey(user.id);
  const attempt = await takeLoginAttempt(c.var.d1, key);
  if ((await verifyPassword(password, user.passwordHash)).ok) return returnLoginAttempt(c.var.d1, key, attempt);
  await recordLoginFailure(c, user.id, 'wrong_password');
  throw new ApiError('forbidden', `${field} is incorrect.`, { errors: [{ field, message: 'is incorrect' }] });
}

/** 403 `/account-suspended` for an account under suspension (login and refresh). */
export function assertNotSuspended(user: Pick<UserRow, 'suspendedAt'>): void {
  if (user.suspendedAt !== null) throw new ApiError('account_suspended', 'This account is suspended.');
}

const invalidRefresh = () => new ApiError('unauthorized', 'The refresh token is invalid or expired; log in again.');

/**
 * Rotates a refresh token. A token that was already rotated is a reuse: the whole family (session) is revoked.
 * The swap is one batch whose insert only happens if this call won the update, so two racing refreshes
 * cannot both succeed.
 */
export async function rotateRefreshToken(c: Context<AppEnv>, presented: string): Promise<{ userId: string; sessionId: string; refreshToken: string }> {
  signingKey(c.env);
  const db = c.var.d1;
  const now = Date.now();
  const hash = await sha256Hex(presented);
  const row = await db
    .prepare(
      `SELECT t.session_id, t.used_at, t.expires_at, s.user_id, s.revoked_at, s.expires_at AS session_expires_at
       FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.token_hash = ?1`,
    )
    .bind(hash)
    .first<{ session_id: string; used_at: number | null; expires_at: number; user_id: string; revoked_at: number | null; session_expires_at: number }>();
  if (!row || row.revoked_at !== null) throw invalidRefresh();
  // A rotated token presented again: someone holds a copy. The whole family ends, and it is recorded.
  const reuse = async () => {
    await audit(
      db,
      { action: 'auth.refresh_reuse', actorId: null, subjectType: 'user', subjectId: row.user_id, ip: requestIp(c), data: { session_id: row.session_id } },
      [revokeSessionStatement(db, row.session_id, now)],
    );
    await endRevokedSessions(c, row.user_id, [row.session_id]);
    return new ApiError('unauthorized', 'This refresh token was already used; the session has been revoked. Log in again.');
  };
  if (row.used_at !== null) throw await reuse();
  if (row.expires_at <= now || row.session_expires_at <= now) throw invalidRefresh();

  const next = randomToken();
  const nextHash = await sha256Hex(next);
  const device = deviceOf(c);
  const [swap] = await db.batch([
    db.prepare('UPDATE refresh_tokens SET used_at = ?2, replaced_by = ?3 WHERE token_hash = ?1 AND used_at IS NULL').bind(hash, now, nextHash),
    db
      .prepare(
        `INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
         SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM refresh_tokens WHERE token_hash = ?5 AND replaced_by = ?1)`,
      )
      .bind(nextHash, row.session_id, now, now + REFRESH_TTL_MS, hash),
    db
      .prepare(
        `UPDATE sessions SET last_used_at = ?2, expires_at = ?3, ip = ?6, user_agent = COALESCE(?7, user_agent)
         WHERE id = ?1 AND EXISTS (SELECT 1 FROM refresh_tokens WHERE token_hash = ?4 AND replaced_by = ?5)`,
      )
      .bind(row.session_id, now, now + REFRESH_TTL_MS, hash, nextHash, device.ip, device.userAgent),
  ]);
  if (!swap?.meta.changes) throw await reuse();
  return { userId: row.user_id, sessionId: row.session_id, refreshToken: next };
}

function revokeSessionStatement(db: D1Client, sessionId: string, now: number): D1PreparedStatement {
  return db.prepare('UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL').bind(sessionId, now);
}

export async function revokeSession(db: D1Client, sessionId: string, now = Date.now()): Promise<void> {
  await revokeSessionStatement(db, sessionId, now).run();
  forgetSessions({ sessionId });
}

/**
 * Logout: ends the family the token belongs to, and its open sockets close (4401) as for any other
 * session that ends. Unknown tokens are ignored (logout is idempotent).
 */
export async function revokeByRefreshToken(c: Context<AppEnv>, presented: string): Promise<void> {
  const hash = await sha256Hex(presented);
  const revoked = await c.var.d1
    .prepare('UPDATE sessions SET revoked_at = ?2 WHERE id = (SELECT session_id FROM refresh_tokens WHERE token_hash = ?1) AND revoked_at IS NULL RETURNING id, user_id')
    .bind(hash, Date.now())
    .all<{ id: string; user_id: string }>();
  for (const { id, user_id: userId } of revoked.results) await endRevokedSessions(c, userId, [id]);
}

/** Sends a reset link when the address belongs to an account (silently does nothing otherwise, or past the hourly mail caps of mail-caps.ts). */
export async function requestPasswordReset({ db, mailer, appUrl }: MailDeps, email: string): Promise<void> {
  const now = Date.now();
  const user = await db.prepare('SELECT id, email FROM users WHERE email = ?1').bind(email).first<{ id: string; email: string }>();
  if (!user) return;
  if (await takeMailAllowance(db, { accountId: user.id, allowance: 'reset', to: user.email, kind: 'password_reset' }, now)) return;

  const token = randomToken();
  await db
    .prepare('INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)')
    .bind(await sha256Hex(token), user.id, now, now + RESET_TTL_MS)
    .run();
  const link = `${appUrl.replace(/\/$/, '')}/reset-password?token=${encodeURIComponent(token)}`;
  await mailer.send(
    composeMail({
      to: user.email,
      kind: 'password_reset',
      subject: 'Reset your Kith password',
      intro: ['Someone asked to reset the password of your Kith account.'],
      link: { url: link, label: 'Choose a new password (valid one hour)' },
      outro: [`Reset token: ${token}`, 'If it was not you, ignore this message; your password stays as it is.'],
    }),
  );
}

/**
 * What a new password (reset or change) ends besides sessions: reset links, a pending e-mail change and
 * second sign-in steps under way. An intruder may hold any of them, and an e-mail change link would give
 * the account back to them (the new address gets the next reset link).
 */
function endPendingStatements(db: D1Client, userId: string, now: number): D1PreparedStatement[] {
  return [
    db.prepare('UPDATE password_resets SET used_at = ?2 WHERE user_id = ?1 AND used_at IS NULL').bind(userId, now),
    db.prepare("UPDATE email_tokens SET used_at = ?2 WHERE user_id = ?1 AND purpose = 'change' AND used_at IS NULL").bind(userId, now),
    db.prepare('UPDATE mfa_challenges SET used_at = ?2 WHERE user_id = ?1 AND used_at IS NULL').bind(userId, now),
  ];
}

/** Consumes a reset token: sets the password, ends what is pending ({@link endPendingStatements}) and revokes every session (their sockets close). */
export async function resetPassword(c: Context<AppEnv>, token: string, password: string): Promise<void> {
  const db = c.var.d1;
  const now = Date.now();
  const hash = await sha256Hex(token);
  const row = await db
    .prepare('SELECT user_id FROM password_resets WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2')
    .bind(hash, now)
    .first<{ user_id: string }>();
  const invalid = () => ApiError.field('token', 'is invalid, expired or already used');
  if (!row) throw invalid();
  const passwordHash = await hashPassword(password);
  const [update] = await audit(
    db,
    {
      action: 'auth.password_reset',
      actorId: row.user_id,
      subjectType: 'user',
      subjectId: row.user_id,
      ip: requestIp(c),
      // Recorded only if this batch consumed the token (a racing reset may have taken it first).
      when: { sql: 'EXISTS (SELECT 1 FROM password_resets WHERE token_hash = ?1 AND used_at = ?2)', params: [hash, now] },
    },
    [
      db
        .prepare(
          // The link reached the account's address: that proves it, as a verification link would.
          `UPDATE users SET password_hash = ?2, updated_at = ?3, email_verified_at = COALESCE(email_verified_at, ?3)
           WHERE id = ?1 AND EXISTS (SELECT 1 FROM password_resets WHERE token_hash = ?4 AND used_at IS NULL)`,
        )
        .bind(row.user_id, passwordHash, now, hash),
      ...endPendingStatements(db, row.user_id, now),
      db.prepare('UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL').bind(row.user_id, now),
    ],
  );
  if (!update?.meta.changes) throw invalid();
  await endRevokedSessions(c, row.user_id);
  await tellPasswordChanged(c, row.user_id, 'reset with a link sent to this address; every device was signed out');
}

/**
 * Tells the account's address that its password changed (mail kind `password_changed`): the owner
 * learns of a change they did not make. Not capped: only the account itself (or its reset link) causes it.
 */
async function tellPasswordChanged(c: Context<AppEnv>, userId: string, how: string): Promise<void> {
  const user = await c.var.d1.prepare('SELECT email FROM users WHERE id = ?1').bind(userId).first<{ email: string }>();
  if (!user) return;
  await c.get('mailer').send(
    composeMail({
      to: user.email,
      kind: 'password_changed',
      subject: 'Your Kith password was changed',
      intro: [`The password of your Kith account was just ${how}.`],
      outro: ['If you did not do this, reset your password at once with "Forgot password" and contact the site staff: someone may have taken over your account.'],
    }),
  );
}

/** Changes the password, ends what is pending ({@link endPendingStatements}) and every other session (their sockets close); the caller's own session stays. */
export async function changePassword(c: Context<AppEnv>, userId: string, keepSessionId: string, password: string): Promise<void> {
  const db = c.var.d1;
  const now = Date.now();
  const [, revoked] = await audit(
    db,
    { action: 'auth.password_changed', actorId: userId, subjectType: 'user', subjectId: userId, ip: requestIp(c), data: { session_id: keepSessionId } },
    [
      db.prepare('UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1').bind(userId, await hashPassword(password), now),
      endOtherSessionsStatement(db, userId, keepSessionId, now),
      ...endPendingStatements(db, userId, now),
    ],
  );
  await endRevokedSessions(c, userId, endedSessionIds(revoked));
  await tellPasswordChanged(c, userId, 'changed from a signed-in device; every other device was signed out');
}
