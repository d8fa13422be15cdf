import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, timestampMs } from './columns';
import { users } from './users';

/** A login session = one refresh-token family. Revoking it ends every token of the family, access tokens included. */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
    lastUsedAt: timestampMs('last_used_at').notNull(),
    expiresAt: timestampMs('expires_at').notNull(),
    revokedAt: timestampMs('revoked_at'),
    userAgent: text('user_agent'),
    /** The client address (CF-Connecting-IP) the session was last used from: at sign-in and every refresh. */
    ip: text('ip'),
  },
  // sessions_last_used_idx: the admin stats' active accounts (logins and refreshes in a window).
  (t) => [index('sessions_user_idx').on(t.userId), index('sessions_last_used_idx').on(t.lastUsedAt, t.userId)],
);

/** Opaque refresh tokens, stored only as SHA-256 hashes. `usedAt` set = rotated; presenting it again is reuse. */
export const refreshTokens = sqliteTable(
  'refresh_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
    expiresAt: timestampMs('expires_at').notNull(),
    usedAt: timestampMs('used_at'),
    replacedBy: text('replaced_by'),
  },
  (t) => [index('refresh_tokens_session_idx').on(t.sessionId)],
);

/** Single-use password-reset tokens, stored hashed, valid for one hour. */
export const passwordResets = sqliteTable(
  'password_resets',
  {
    tokenHash: text('token_hash').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
    expiresAt: timestampMs('expires_at').notNull(),
    usedAt: timestampMs('used_at'),
  },
  (t) => [index('password_resets_user_idx').on(t.userId, t.createdAt)],
);

/**
 * Fixed-window counters for limits longer than the rate-limit binding's 60 s (failed logins per account,
 * the daily reach limits: src/lib/throttle.ts). Rows whose window is over are pruned every minute.
 */
export const authThrottles = sqliteTable(
  'auth_throttles',
  {
    key: text('key').primaryKey(),
    windowStart: integer('window_start').notNull(),
    count: integer('count').notNull(),
  },
  (t) => [index('auth_throttles_window_idx').on(t.windowStart)],
);

/** Single-use e-mail links (24 h), stored hashed: `verify` proves the current address, `change` a new one. */
export const emailTokens = sqliteTable(
  'email_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    purpose: text('purpose', { enum: ['verify', 'change'] }).notNull(),
    createdAt: createdAt(),
    expiresAt: timestampMs('expires_at').notNull(),
    usedAt: timestampMs('used_at'),
  },
  (t) => [index('email_tokens_user_idx').on(t.userId, t.createdAt), index('email_tokens_expires_idx').on(t.expiresAt)],
);

/** A sign-in identity at an OAuth / OpenID Connect provider; one provider account belongs to one Kith account. */
export const oauthIdentities = sqliteTable(
  'oauth_identities',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    provider: text('provider').notNull(),
    /** The provider's stable account id (`sub`, or GitHub's numeric id). */
    subject: text('subject').notNull(),
    /** The provider-verified address at the time of linking, or null when it gave none. */
    email: text('email'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('oauth_identities_provider_subject_idx').on(t.provider, t.subject), index('oauth_identities_user_idx').on(t.userId)],
);

/**
 * An authorization under way (10 minutes, single use): what the callback needs and must never take
 * from the browser. The state is stored hashed; the PKCE verifier and nonce must be sent or compared.
 */
export const oauthStates = sqliteTable(
  'oauth_states',
  {
    stateHash: text('state_hash').primaryKey(),
    provider: text('provider').notNull(),
    codeVerifier: text('code_verifier').notNull(),
    nonce: text('nonce').notNull(),
    /** Where the app wants the browser back (on the allow-list). */
    redirectUri: text('redirect_uri').notNull(),
    /** This worker's callback URL as sent to the provider (the token request must repeat it). */
    callbackUri: text('callback_uri').notNull(),
    /** Set when a signed-in account asked to link the identity instead of signing in. */
    linkUserId: text('link_user_id').references(() => users.id, { onDelete: 'cascade' }),
    /**
     * The app's own PKCE S256 challenge for Kith's one-time code (`code_challenge` at authorize), null
     * when the app sent none. Carried to the code: only the holder of the verifier may redeem it.
     */
    appCodeChallenge: text('app_code_challenge'),
    createdAt: createdAt(),
    expiresAt: timestampMs('expires_at').notNull(),
    usedAt: timestampMs('used_at'),
  },
  (t) => [index('oauth_states_expires_idx').on(t.expiresAt)],
);

/**
 * The one-time code a callback hands the app (60 s, single use, stored hashed): what the provider
 * sign-in decided. Redeemed at POST /auth/oauth/exchange: `outcome` `login` signs `user_id` in;
 * `unverified_email` refuses (409): the matching account's address is not verified. Or, `link`, at
 * POST /me/identities by `user_id` itself (the account that started the link), which links the
 * identity `subject` (with its provider-verified `email`).
 */
export const oauthCodes = sqliteTable(
  'oauth_codes',
  {
    codeHash: text('code_hash').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    provider: text('provider').notNull(),
    outcome: text('outcome', { enum: ['login', 'unverified_email', 'link'] }).notNull(),
    created: integer('created', { mode: 'boolean' }).notNull(),
    /** For `link`: the provider identity to link, and the address the provider verified (or null). */
    subject: text('subject'),
    email: text('email'),
    /** The app's S256 challenge from the flow's state; the exchange must then present its `code_verifier`. */
    appCodeChallenge: text('app_code_challenge'),
    createdAt: createdAt(),
    expiresAt: timestampMs('expires_at').notNull(),
    usedAt: timestampMs('used_at'),
  },
  (t) => [index('oauth_codes_expires_idx').on(t.expiresAt)],
);

/**
 * TOTP (RFC 6238) per account. The secret is AES-GCM encrypted under MFA_ENCRYPTION_KEY. `confirmedAt`
 * null = enrolment started, not yet on. `lastStep` is the newest 30 s step a code was accepted for, so
 * a code is never accepted twice.
 */
export const mfaTotp = sqliteTable('mfa_totp', {
  userId: text('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  secretEncrypted: text('secret_encrypted').notNull(),
  confirmedAt: timestampMs('confirmed_at'),
  lastStep: integer('last_step').notNull().default(0),
  createdAt: createdAt(),
});

/** Ten single-use recovery codes per confirmed TOTP, stored as SHA-256 hashes. */
export const mfaRecoveryCodes = sqliteTable(
  'mfa_recovery_codes',
  {
    codeHash: text('code_hash').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    usedAt: timestampMs('used_at'),
  },
  (t) => [index('mfa_recovery_codes_user_idx').on(t.userId)],
);

/** The second login step (5 minutes, single use, stored hashed): the first factor passed for `user_id`. */
export const mfaChallenges = sqliteTable(
  'mfa_challenges',
  {
    tokenHash: text('token_hash').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** How the first factor was passed (`password`, or `oauth:<provider>`), for the audit entry. */
    method: text('method').notNull(),
    createdAt: createdAt(),
    expiresAt: timestampMs('expires_at').notNull(),
    usedAt: timestampMs('used_at'),
  },
  (t) => [index('mfa_challenges_expires_idx').on(t.expiresAt)],
);
