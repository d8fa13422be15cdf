import type { D1Client } from '../../db/client';
import { ApiError } from '../../lib/errors';

/** Contract: no more than 10 failed logins per account per 15 minutes. */
export const MAX_FAILED_LOGINS = 10;
export const FAILED_LOGIN_WINDOW_MS = 15 * 60 * 1000;

/**
 * Refuses a login attempt while its account key has used up its failures in the current window.
 * Unknown accounts are keyed by the identifier they were tried with, so the answer never tells them apart.
 */
export async function assertLoginAllowed(db: D1Client, key: string, now = Date.now()): Promise<void> {
  const row = await db
    .prepare('SELECT window_start, count FROM auth_throttles WHERE key = ?1')
    .bind(key)
    .first<{ window_start: number; count: number }>();
  if (row && row.window_start > now - FAILED_LOGIN_WINDOW_MS && row.count >= MAX_FAILED_LOGINS) {
    const retryAfter = Math.ceil((row.window_start + FAILED_LOGIN_WINDOW_MS - now) / 1000);
    throw new ApiError('rate_limited', 'Too many failed logins for this account; try again later.', {
      headers: { 'Retry-After': String(retryAfter) },
    });
  }
}

/** Counts one failure in a fixed 15-minute window that starts at the first failure (a statement, to batch with its audit entry). */
export function loginFailureStatement(db: D1Client, key: string, now = Date.now()): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO auth_throttles (key, window_start, count) VALUES (?1, ?2, 1)
       ON CONFLICT(key) DO UPDATE SET
         count = CASE WHEN window_start <= ?3 THEN 1 ELSE count + 1 END,
         window_start = CASE WHEN window_start <= ?3 THEN ?2 ELSE window_start END`,
    )
    .bind(key, now, now - FAILED_LOGIN_WINDOW_MS);
}

export async function clearLoginFailures(db: D1Client, key: string): Promise<void> {
  await db.prepare('DELETE FROM auth_throttles WHERE key = ?1').bind(key).run();
}
