import type { D1Client } from '../../db/client';
import { encodeBase32NoPadding } from '@oslojs/encoding';
import { createTOTPKeyURI, generateHOTP } from '@oslojs/otp';
import type { Context } from 'hono';
import type { UserRow } from '../../db/schema';
import { fromBase64Url, toBase64Url } from '../../lib/encoding';
import { ApiError } from '../../lib/errors';
import { hmacSha256Hex, openBytes, randomToken, sealBytes, sha256Hex, timingSafeEqual } from '../../lib/crypto';
import type { AppEnv, Bindings } from '../../lib/types';
import { audit, requestIp } from '../audit/audit';
import { endedSessionIds, endOtherSessionsStatement, endRevokedSessions } from './sessions.service';
import { accountLoginKey, clearLoginFailures, recordLoginFailure, takeLoginAttempt } from './login-throttle';

/** RFC 6238 as the contract fixes it: 30-second steps, 6 digits (SHA-1, what every authenticator app reads). */
const STEP_SECONDS = 30;
const DIGITS = 6;
/** Codes of the step before and after now are accepted too (clock drift); each step's code only once. */
const DRIFT_STEPS = 1;
export const RECOVERY_CODE_COUNT = 10;
/** The second login step is valid 5 minutes (contract). */
export const MFA_CHALLENGE_TTL_MS = 5 * 60 * 1000;
const ISSUER = 'Kith';

export const TOTP_PATTERN = /^\d{6}$/;
const normalizeRecovery = (code: string) => code.toLowerCase().replace(/[\s-]/g, '');
/** Recovery codes: two groups of five base32 letters (`k7qm2-x4fzp`); case, spaces and the hyphen are ignored. */
export const isRecoveryCode = (code: string) => /^[a-z2-7]{10}$/.test(normalizeRecovery(code));

/** TOTP secrets are encrypted (AES-GCM, sealBytes) under a key derived from the MFA_ENCRYPTION_KEY secret; 503 without it. */
const TOTP_LABEL = 'kith-totp';

function encryptionSecret(env: Bindings): string {
  const raw = env.MFA_ENCRYPTION_KEY;
  if (!raw || raw.length < 32) {
    throw new ApiError('service_unavailable', 'Two-factor sign-in is not configured: set the MFA_ENCRYPTION_KEY secret (at least 32 characters).');
  }
  return raw;
}

async function sealSecret(env: Bindings, secret: Uint8Array): Promise<string> {
  const { iv, sealed } = await sealBytes(TOTP_LABEL, encryptionSecret(env), secret);
  return `${toBase64Url(iv)}.${toBase64Url(sealed)}`;
}

async function openSecret(env: Bindings, stored: string): Promise<Uint8Array> {
  const [iv, sealed] = stored.split('.');
  return openBytes(TOTP_LABEL, encryptionSecret(env), fromBase64Url(iv!), fromBase64Url(sealed!));
}

/** The 30-second step a code matches (now, or one step either side), or null. */
function matchingStep(secret: Uint8Array, code: string, now: number): number | null {
  const current = Math.floor(now / 1000 / STEP_SECONDS);
  const given = new TextEncoder().encode(code);
  for (let step = current - DRIFT_STEPS; step <= current + DRIFT_STEPS; step++) {
    if (timingSafeEqual(new TextEncoder().encode(generateHOTP(secret, BigInt(step), DIGITS)), given)) return step;
  }
  return null;
}

interface TotpRow {
  secret_encrypted: string;
  confirmed_at: number | null;
  last_step: number;
}

async function totpRow(db: D1Client, userId: string): Promise<TotpRow | null> {
  return db.prepare('SELECT secret_encrypted, confirmed_at, last_step FROM mfa_totp WHERE user_id = ?1').bind(userId).first<TotpRow>();
}

/** Whether the account has a confirmed TOTP (so signing in takes a second step). */
export async function hasMfa(db: D1Client, userId: string): Promise<boolean> {
  return (await db.prepare('SELECT 1 AS on_ FROM mfa_totp WHERE user_id = ?1 AND confirmed_at IS NOT NULL').bind(userId).first()) !== null;
}

export async function mfaStatus(db: D1Client, userId: string): Promise<{ totp_enabled: boolean; recovery_codes_left: number }> {
  const row = await db
    .prepare(
      `SELECT (SELECT confirmed_at IS NOT NULL FROM mfa_totp WHERE user_id = ?1) AS enabled,
              (SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = ?1 AND used_at IS NULL) AS left_`,
    )
    .bind(userId)
    .first<{ enabled: number | null; left_: number }>();
  return { totp_enabled: row?.enabled === 1, recovery_codes_left: row?.enabled === 1 ? row.left_ : 0 };
}

/**
 * Starts (or restarts) TOTP enrolment: a fresh 160-bit secret, stored encrypted and unconfirmed. 409
 * when TOTP is already on; 403 while the account's address is unverified (an account squatted on
 * someone else's address must not be locked behind the squatter's authenticator).
 */
export async function startEnrolment(c: Context<AppEnv>, user: UserRow): Promise<{ secret: string; otpauth_url: string }> {
  if (user.emailVerifiedAt === null) throw new ApiError('forbidden', 'Verify your e-mail address before turning on two-factor sign-in.');
  const db = c.var.d1;
  const secret = crypto.getRandomValues(new Uint8Array(20));
  const sealed = await sealSecret(c.env, secret);
  const saved = await db
    .prepare(
      `INSERT INTO mfa_totp (user_id, secret_encrypted, confirmed_at, last_step, created_at) VALUES (?1, ?2, NULL, 0, ?3)
       ON CONFLICT(user_id) DO UPDATE SET secret_encrypted = excluded.secret_encrypted, last_step = 0, created_at = excluded.created_at
       WHERE mfa_totp.confirmed_at IS NULL`,
    )
    .bind(user.id, sealed, Date.now())
    .run();
  if (!saved.meta.changes) throw new ApiError('conflict', 'Two-factor sign-in is already on; turn it off first to enrol a new authenticator.');
  return { secret: encodeBase32NoPadding(secret), otpauth_url: createTOTPKeyURI(ISSUER, user.username, secret, STEP_SECONDS, DIGITS) };
}

/**
 * What is stored of a recovery code: an HMAC under the MFA_ENCRYPTION_KEY secret of the account and the
 * code, so a copy of the database alone cannot test guesses (a code holds 50 bits: a plain hash of all of
 * them is a few GPU-days, and one unsalted pass would have found every account's codes at once).
 */
const recoveryHash = (env: Bindings, userId: string, code: string) => hmacSha256Hex(`kith-recovery:${encryptionSecret(env)}`, `${userId}:${normalizeRecovery(code)}`);
/** How codes issued before the keyed hash were stored (plain SHA-256): still accepted until new codes replace them. */
const legacyRecoveryHash = (code: string) => sha256Hex(normalizeRecovery(code));

/** Ten fresh recovery codes (shown once) and the statements that store their hashes, replacing older ones. */
async function newRecoveryCodes(env: Bindings, db: D1Client, userId: string): Promise<{ codes: string[]; statements: D1PreparedStatement[] }> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const letters = encodeBase32NoPadding(crypto.getRandomValues(new Uint8Array(7))).toLowerCase().slice(0, 10);
    return `${letters.slice(0, 5)}-${letters.slice(5)}`;
  });
  const statements = [db.prepare('DELETE FROM mfa_recovery_codes WHERE user_id = ?1').bind(userId)];
  for (const code of codes) {
    statements.push(db.prepare('INSERT INTO mfa_recovery_codes (code_hash, user_id) VALUES (?1, ?2)').bind(await recoveryHash(env, userId, code), userId));
  }
  return { codes, statements };
}

/** Records a wrong code as a failed login (its attempt was taken before the check). */
async function wrongCode(c: Context<AppEnv>, userId: string): Promise<ApiError> {
  await recordLoginFailure(c, userId, 'wrong_code');
  return new ApiError('invalid_code', 'The code is wrong, expired or already used.', { errors: [{ field: 'code', message: 'is wrong, expired or already used' }] });
}

/**
 * Checks a code for an account and uses it up: a TOTP code of the current step (±1) newer than the
 * last one accepted, or (when `recovery` is allowed) an unused recovery code. Each check takes an
 * attempt from the account's login limit first (10 failures per 15 minutes, 429 past it); a wrong code
 * keeps it taken and answers 401, a right one clears the count.
 */
export async function consumeCode(c: Context<AppEnv>, userId: string, code: string, options: { recovery: boolean; confirmed: boolean }): Promise<'totp' | 'recovery_code'> {
  const kind = TOTP_PATTERN.test(code) ? 'totp' : options.recovery && isRecoveryCode(code) ? 'recovery_code' : null;
  if (!kind) throw ApiError.field('code', options.recovery ? 'must be a 6-digit code or a recovery code' : 'must be a 6-digit code');
  const db = c.var.d1;
  const throttleKey = accountLoginKey(userId);
  await takeLoginAttempt(db, throttleKey);
  const row = await totpRow(db, userId);
  if (!row || (row.confirmed_at !== null) !== options.confirmed) throw await wrongCode(c, userId);
  let used: boolean;
  if (kind === 'totp') {
    const step = matchingStep(await openSecret(c.env, row.secret_encrypted), code, Date.now());
    // The step moves forward in one conditional write, so a code (or an older one) is never accepted twice.
    used = step !== null && (await db.prepare('UPDATE mfa_totp SET last_step = ?2 WHERE user_id = ?1 AND last_step < ?2').bind(userId, step).run()).meta.changes > 0;
  } else {
    const taken = await db
      .prepare('UPDATE mfa_recovery_codes SET used_at = ?3 WHERE code_hash IN (?1, ?4) AND user_id = ?2 AND used_at IS NULL')
      .bind(await recoveryHash(c.env, userId, code), userId, Date.now(), await legacyRecoveryHash(code))
      .run();
    used = taken.meta.changes > 0;
  }
  if (!used) throw await wrongCode(c, userId);
  await clearLoginFailures(db, throttleKey);
  return kind;
}

/**
 * Confirms enrolment with a first code: TOTP is on from now, with ten recovery codes (recorded as
 * `auth.mfa_enabled`). Every other session of the account ends, as on a password change: one an
 * intruder holds would otherwise outlive the second factor meant to keep them out.
 */
export async function confirmEnrolment(c: Context<AppEnv>, userId: string, keepSessionId: string, code: string): Promise<string[]> {
  const row = await totpRow(c.var.d1, userId);
  if (!row) throw new ApiError('conflict', 'Start enrolment first (POST /me/mfa/totp).');
  if (row.confirmed_at !== null) throw new ApiError('conflict', 'Two-factor sign-in is already on.');
  await consumeCode(c, userId, code, { recovery: false, confirmed: false });
  const db = c.var.d1;
  const now = Date.now();
  const recovery = await newRecoveryCodes(c.env, db, userId);
  const [confirmed, revoked] = await audit(
    db,
    {
      action: 'auth.mfa_enabled',
      actorId: userId,
      subjectType: 'user',
      subjectId: userId,
      ip: requestIp(c),
      data: { method: 'totp', session_id: keepSessionId },
      when: { sql: 'EXISTS (SELECT 1 FROM mfa_totp WHERE user_id = ?1 AND confirmed_at IS NOT NULL)', params: [userId] },
    },
    [
      db.prepare('UPDATE mfa_totp SET confirmed_at = ?2 WHERE user_id = ?1 AND confirmed_at IS NULL').bind(userId, now),
      // Only if this batch turned it on (a racing confirmation may have).
      endOtherSessionsStatement(db, userId, keepSessionId, now, 'EXISTS (SELECT 1 FROM mfa_totp WHERE user_id = ?1 AND confirmed_at = ?3)'),
      ...recovery.statements,
    ],
  );
  if (!confirmed?.meta.changes) throw new ApiError('conflict', 'Two-factor sign-in is already on.');
  await endRevokedSessions(c, userId, endedSessionIds(revoked));
  return recovery.codes;
}

/** Turns TOTP off (the caller checked the password) with a TOTP or recovery code; recorded as `auth.mfa_disabled`. */
export async function disableTotp(c: Context<AppEnv>, userId: string, code: string): Promise<void> {
  const used = await consumeCode(c, userId, code, { recovery: true, confirmed: true });
  const db = c.var.d1;
  await audit(db, { action: 'auth.mfa_disabled', actorId: userId, subjectType: 'user', subjectId: userId, ip: requestIp(c), data: { code: used } }, [
    db.prepare('DELETE FROM mfa_totp WHERE user_id = ?1').bind(userId),
    db.prepare('DELETE FROM mfa_recovery_codes WHERE user_id = ?1').bind(userId),
  ]);
}

/**
 * The first factor passed for an account with TOTP on: a single-use step token (5 minutes, stored
 * hashed) and the 401 `/mfa-required` problem that carries it. `method` says how the first factor was
 * passed (`password`, `oauth:<provider>`).
 */
export async function mfaRequired(db: D1Client, userId: string, method: string): Promise<ApiError> {
  const token = randomToken();
  const now = Date.now();
  await db
    .prepare('INSERT INTO mfa_challenges (token_hash, user_id, method, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)')
    .bind(await sha256Hex(token), userId, method, now, now + MFA_CHALLENGE_TTL_MS)
    .run();
  return new ApiError('mfa_required', 'This account uses two-factor sign-in: send a code with the mfa_token to POST /api/v1/auth/login/mfa within 5 minutes.', {
    extensions: { mfa_token: token },
  });
}

/**
 * The second login step: the step token must be live and unused, the code right (wrong codes count
 * towards the login limit and may be retried while the token lives); then the token is used up. Returns
 * the account and how it signed in.
 */
export async function completeMfa(c: Context<AppEnv>, mfaToken: string, code: string): Promise<{ userId: string; method: string; mfa: string }> {
  const db = c.var.d1;
  const hash = await sha256Hex(mfaToken);
  const challenge = await db
    .prepare('SELECT user_id, method FROM mfa_challenges WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2')
    .bind(hash, Date.now())
    .first<{ user_id: string; method: string }>();
  const invalid = () => ApiError.field('mfa_token', 'is invalid, expired or already used; sign in again');
  if (!challenge) throw invalid();
  const mfa = await consumeCode(c, challenge.user_id, code, { recovery: true, confirmed: true });
  const used = await db.prepare('UPDATE mfa_challenges SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL').bind(hash, Date.now()).run();
  if (!used.meta.changes) throw invalid();
  return { userId: challenge.user_id, method: challenge.method, mfa };
}

