import type { Context } from 'hono';
import type { D1Client } from '../../db/client';
import type { AppEnv, Bindings } from '../../lib/types';
import { signingKey } from '../../lib/access-tokens';
import { hmacSha256Hex } from '../../lib/crypto';
import { audit, requestIp } from '../audit/audit';
import { clearThrottle, throttleRefusal, throttleRelease, throttleTake, type ThrottleWindow } from '../../lib/throttle';

/** Contract: no more than 10 failed logins per account per 15 minutes. */
export const FAILED_LOGINS: ThrottleWindow = { max: 10, ms: 15 * 60 * 1000 };
const DETAIL = 'Too many failed logins for this account; try again later.';

/** The failed-login counter of an account (an unknown account's is {@link unknownLoginKey}). */
export const accountLoginKey = (userId: string): string => `login:${userId}`;

/**
 * The failed-login counter of an identifier no account has, so the answers never tell unknown accounts
 * apart. Keyed by its HMAC under JWT_SECRET, never by the text: what was typed may be a password in the
 * wrong field, and the counter lives on in D1 after the window.
 */
export async function unknownLoginKey(env: Bindings, identifier: string): Promise<string> {
  signingKey(env); // 503 without the secret, as every sign-in
  return `login:?${await hmacSha256Hex(env.JWT_SECRET!, identifier.trim().toLowerCase())}`;
}

/**
 * Takes one attempt from the key's budget BEFORE a password or code is checked, in one transaction
 * (throttleTake), so guesses sent all at once cannot all pass a read of the count: 429 (with
 * Retry-After) when none is left. A wrong answer keeps it taken (a failure); a right one gives it back
 * ({@link returnLoginAttempt}, with the window start answered here) or ends the count ({@link clearLoginFailures}).
 */
export async function takeLoginAttempt(db: D1Client, key: string, now = Date.now()): Promise<number> {
  const { taken, windowStart } = await throttleTake(db, key, FAILED_LOGINS, 1, { whole: true, now });
  if (taken === 1) return windowStart;
  throw await throttleRefusal(db, key, FAILED_LOGINS, DETAIL, 1, now);
}

/** A right password whose sign-in is not complete yet (a second factor pending, a suspension): its attempt is not a failure, and earlier failures stay. */
export async function returnLoginAttempt(db: D1Client, key: string, windowStart: number): Promise<void> {
  await throttleRelease(db, key, windowStart, 1);
}

export async function clearLoginFailures(db: D1Client, key: string): Promise<void> {
  await clearThrottle(db, key);
}

/**
 * Records a failed attempt (already counted by {@link takeLoginAttempt}) as `auth.login_failed`, with
 * `reason` and never what was tried: a wrong password at login or when confirming an action, or a
 * wrong code.
 */
export async function recordLoginFailure(c: Context<AppEnv>, userId: string | null, reason: 'unknown_account' | 'wrong_password' | 'wrong_code'): Promise<void> {
  await audit(c.var.d1, { action: 'auth.login_failed', actorId: null, subjectType: userId ? 'user' : null, subjectId: userId, ip: requestIp(c), data: { reason } });
}
