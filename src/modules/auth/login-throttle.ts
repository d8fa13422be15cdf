import type { Context } from 'hono';
import type { D1Client } from '../../db/client';
import type { AppEnv } from '../../lib/types';
import { audit, requestIp } from '../audit/audit';
import { assertUnderThrottle, clearThrottle, throttleCountStatement, type ThrottleWindow } from '../../lib/throttle';

/** Contract: no more than 10 failed logins per account per 15 minutes. */
export const FAILED_LOGINS: ThrottleWindow = { max: 10, ms: 15 * 60 * 1000 };

/** The failed-login counter of an account (an unknown account's is keyed by the identifier tried instead). */
export const accountLoginKey = (userId: string): string => `login:${userId}`;

/**
 * Refuses a login attempt while its account key has used up its failures in the current window.
 * Unknown accounts are keyed by the identifier they were tried with, so the answer never tells them apart.
 */
export async function assertLoginAllowed(db: D1Client, key: string, now = Date.now()): Promise<void> {
  await assertUnderThrottle(db, key, FAILED_LOGINS, 'Too many failed logins for this account; try again later.', 1, now);
}

/** Counts one failure in a fixed 15-minute window that starts at the first failure (a statement, to batch with its audit entry). */
export function loginFailureStatement(db: D1Client, key: string, now = Date.now()): D1PreparedStatement {
  return throttleCountStatement(db, key, FAILED_LOGINS, { now });
}

export async function clearLoginFailures(db: D1Client, key: string): Promise<void> {
  await clearThrottle(db, key);
}

/**
 * Counts one failure on `key` and records it as `auth.login_failed` (with `reason`, never what was
 * tried), in one batch: a wrong password at login or when confirming an action, or a wrong code.
 */
export async function recordLoginFailure(
  c: Context<AppEnv>,
  key: string,
  userId: string | null,
  reason: 'unknown_account' | 'wrong_password' | 'wrong_code',
): Promise<void> {
  await audit(
    c.var.d1,
    { action: 'auth.login_failed', actorId: null, subjectType: userId ? 'user' : null, subjectId: userId, ip: requestIp(c), data: { reason } },
    [loginFailureStatement(c.var.d1, key)],
  );
}
