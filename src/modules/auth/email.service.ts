import type { D1Client } from '../../db/client';
import type { Context } from 'hono';
import { uniqueViolation } from '../../db/client';
import { ApiError } from '../../lib/errors';
import { randomToken, sha256Hex } from '../../lib/crypto';
import { composeMail, type MailDeps } from '../../lib/mailer';
import { takeMailAllowance } from '../mail/mail-caps';
import type { AppEnv } from '../../lib/types';
import { audit, type AuditEntry, requestIp } from '../audit/audit';
import { conflict } from '../users/users.service';

/** E-mail links are valid for 24 hours (contract). */
export const EMAIL_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

export type EmailPurpose = 'verify' | 'change';

const MAILS: Record<EmailPurpose, { kind: string; subject: string; intro: (email: string) => string[]; label: string }> = {
  verify: {
    kind: 'email_verification',
    subject: 'Confirm your e-mail address for Kith',
    intro: (email) => [`Please confirm that ${email} is the address of your Kith account.`],
    label: 'Confirm your address (valid 24 hours)',
  },
  change: {
    kind: 'email_change',
    subject: 'Confirm your new e-mail address for Kith',
    intro: (email) => [`Someone (we hope you) asked to use ${email} as the address of a Kith account.`, 'The account keeps its old address until you confirm this one.'],
    label: 'Confirm the new address (valid 24 hours)',
  },
};

/**
 * Mails a verification (`verify`: the account's current address) or change (`change`: a new address,
 * which takes effect once confirmed) link valid for 24 hours, within the hourly mail caps (mail-caps.ts:
 * 3 per account, 3 of each kind per address): beyond either, nothing is sent and the answer is the 429 a
 * caller may throw (null when sent). `auditEntry` is recorded in the same batch as the link.
 */
export async function sendEmailLink({ db, mailer, appUrl }: MailDeps, userId: string, email: string, purpose: EmailPurpose, auditEntry?: AuditEntry): Promise<ApiError | null> {
  const now = Date.now();
  const mail = MAILS[purpose];
  const refusal = await takeMailAllowance(db, { accountId: userId, allowance: 'links', to: email, kind: mail.kind }, now);
  if (refusal) return refusal;
  const token = randomToken();
  const insert = db
    .prepare('INSERT INTO email_tokens (token_hash, user_id, email, purpose, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)')
    .bind(await sha256Hex(token), userId, email, purpose, now, now + EMAIL_TOKEN_TTL_MS);
  if (auditEntry) await audit(db, auditEntry, [insert]);
  else await insert.run();
  const link = `${appUrl.replace(/\/$/, '')}/verify-email?token=${encodeURIComponent(token)}`;
  await mailer.send(
    composeMail({
      to: email,
      kind: mail.kind,
      subject: mail.subject,
      intro: mail.intro(email),
      link: { url: link, label: mail.label },
      outro: [`Verification token: ${token}`, 'If it was not you, ignore this message; nothing changes.'],
    }),
  );
  return null;
}

/** Mails a verification link to `email` when it is the unverified address of an account (nothing otherwise, or past the caps). */
export async function resendVerification(deps: MailDeps, email: string): Promise<void> {
  const user = await deps.db.prepare('SELECT id FROM users WHERE email = ?1 AND email_verified_at IS NULL').bind(email).first<{ id: string }>();
  if (user) await sendEmailLink(deps, user.id, email, 'verify');
}

/** The address a signed-in account is waiting to confirm (the newest live change link), if any. */
export async function pendingEmail(db: D1Client, userId: string, currentEmail: string, now = Date.now()): Promise<string | null> {
  const row = await db
    .prepare(
      `SELECT email FROM email_tokens WHERE user_id = ?1 AND purpose = 'change' AND used_at IS NULL AND expires_at > ?2 AND email != ?3
       ORDER BY created_at DESC LIMIT 1`,
    )
    .bind(userId, now, currentEmail)
    .first<{ email: string }>();
  return row?.email ?? null;
}

/**
 * Consumes a link: `verify` marks the current address verified, `change` makes the new address the
 * account's (verified) one, burns every other outstanding link and reset token, and tells the old
 * address. Recorded as `auth.email_verified` in the same batch. 400 naming `token` when it is unknown,
 * expired, used, or meant for an address the account no longer has; 409 when the new address was
 * taken meanwhile.
 */
export async function verifyEmailToken(c: Context<AppEnv>, token: string): Promise<void> {
  const db = c.var.d1;
  const now = Date.now();
  const hash = await sha256Hex(token);
  const row = await db
    .prepare(
      `SELECT t.user_id, t.email, t.purpose, u.email AS current_email FROM email_tokens t JOIN users u ON u.id = t.user_id
       WHERE t.token_hash = ?1 AND t.used_at IS NULL AND t.expires_at > ?2`,
    )
    .bind(hash, now)
    .first<{ user_id: string; email: string; purpose: EmailPurpose; current_email: string }>();
  const invalid = () => ApiError.field('token', 'is invalid, expired or already used');
  if (!row || (row.purpose === 'verify' && row.email !== row.current_email)) throw invalid();

  // Every change below (and the audit entry) happens only if this batch consumed the token.
  const consumed = { sql: 'EXISTS (SELECT 1 FROM email_tokens WHERE token_hash = ?1 AND used_at = ?2)', params: [hash, now] };
  const ifConsumed = 'EXISTS (SELECT 1 FROM email_tokens WHERE token_hash = ?4 AND used_at = ?3)';
  const change = row.purpose === 'change' && row.email !== row.current_email;
  const statements = [db.prepare('UPDATE email_tokens SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL').bind(hash, now)];
  if (change) {
    statements.push(
      db
        .prepare(`UPDATE users SET email = ?2, email_verified_at = ?3, updated_at = ?3 WHERE id = ?1 AND ${ifConsumed}`)
        .bind(row.user_id, row.email, now, hash),
      db.prepare('UPDATE email_tokens SET used_at = ?2 WHERE user_id = ?1 AND used_at IS NULL').bind(row.user_id, now),
      // A reset link mailed to the old address must not outlive the change.
      db.prepare('UPDATE password_resets SET used_at = ?2 WHERE user_id = ?1 AND used_at IS NULL').bind(row.user_id, now),
    );
  } else {
    statements.push(
      db
        .prepare(`UPDATE users SET email_verified_at = ?3 WHERE id = ?1 AND email = ?2 AND ${ifConsumed}`)
        .bind(row.user_id, row.email, now, hash),
    );
  }
  let results: D1Result[];
  try {
    results = await audit(
      db,
      { action: 'auth.email_verified', actorId: row.user_id, subjectType: 'user', subjectId: row.user_id, ip: requestIp(c), data: { change }, when: consumed },
      statements,
    );
  } catch (err) {
    if (uniqueViolation(err) === 'email') throw conflict([{ field: 'email', message: 'is already registered to another account' }]);
    throw err;
  }
  if (!results[0]?.meta.changes) throw invalid();
  if (change) {
    await c.get('mailer').send(
      composeMail({
        to: row.current_email,
        kind: 'email_changed',
        subject: 'Your Kith e-mail address was changed',
        intro: [`The address of your Kith account is now ${row.email}; mail will no longer come here.`],
        outro: ['If you did not ask for this, contact the site staff at once: someone may have taken over your account.'],
      }),
    );
  }
}
