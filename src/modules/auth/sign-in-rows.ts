import type { D1Client } from '../../db/client';
/** Expired single-use rows are kept a day (a replay still finds its row and gets the right error), then deleted. */
const KEEP_AFTER_EXPIRY_MS = 24 * 60 * 60 * 1000;

/** Deletes sign-in rows (OAuth states and codes, MFA steps, e-mail links, TURN credentials handed out) a day after they expired. */
export async function pruneSignInRows(db: D1Client, now: number): Promise<void> {
  const before = now - KEEP_AFTER_EXPIRY_MS;
  await db.batch(
    ['oauth_states', 'oauth_codes', 'mfa_challenges', 'email_tokens', 'turn_credentials'].map((table) => db.prepare(`DELETE FROM ${table} WHERE expires_at < ?1`).bind(before)),
  );
}
