import type { D1Client } from '../../db/client';
import { generateCodeVerifier, generateState } from 'arctic';
import type { Context } from 'hono';
import { uniqueViolation } from '../../db/client';
import { NO_PASSWORD, type UserRow } from '../../db/schema';
import { randomToken, sha256Hex, timingSafeEqual } from '../../lib/crypto';
import { fromBase64Url } from '../../lib/encoding';
import { ApiError } from '../../lib/errors';
import { newId } from '../../lib/ids';
import type { AppEnv, Bindings } from '../../lib/types';
import { evaluateText } from '../../policy/content-rules';
import { singleLineFrom } from '../../policy/text-hygiene';
import { audit, type AuditEntry, requestIp } from '../audit/audit';
import { assertNotSuspended, startSession } from '../auth/auth.service';
import { hasMfa, mfaRequired } from '../auth/mfa.service';
import { USERNAME_RULE } from '../users/users.schemas';
import { conflict, findUserById } from '../users/users.service';
import { authorizationUrl, fetchProfile, OAuthFlowError, type ProviderProfile } from './provider-client';
import { composeMail } from '../../lib/mailer';
import { configuredProviders, type Provider, type ProviderId } from './providers';

/** An authorization must come back within 10 minutes; the one-time code must be redeemed within 60 s (contract). */
export const STATE_TTL_MS = 10 * 60 * 1000;
export const CODE_TTL_MS = 60 * 1000;

/** The origins an app may ask to be sent back to: APP_URL's and each CORS origin (never a wildcard). */
export function allowedRedirectOrigins(env: Pick<Bindings, 'APP_URL' | 'CORS_ORIGINS'>): Set<string> {
  const origins = new Set<string>();
  for (const value of [env.APP_URL, ...(env.CORS_ORIGINS ?? '').split(',')]) {
    try {
      const url = new URL(value.trim());
      if (url.protocol === 'https:' || url.protocol === 'http:') origins.add(url.origin);
    } catch {
      // not an origin ("*", empty): allows nothing
    }
  }
  return origins;
}

/** 400 naming `redirect_uri` unless it is an absolute http(s) URL without credentials or fragment on the allow-list. */
export function checkRedirectUri(env: Bindings, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw ApiError.field('redirect_uri', 'must be an absolute URL');
  }
  if (!allowedRedirectOrigins(env).has(url.origin) || url.username || url.password || url.hash) {
    throw ApiError.field('redirect_uri', 'is not on the allow-list (the origins of APP_URL and CORS_ORIGINS)');
  }
  return url.toString();
}

/**
 * The app's own PKCE for Kith's one-time code (RFC 7636): `code_challenge` and `code_challenge_method`
 * come together or not at all (the route checks each one's form; RFC 7636 reads a missing method as
 * `plain`, which is not accepted). Answers the challenge, or null when the app sent none.
 */
export function appCodeChallenge(query: { code_challenge?: string; code_challenge_method?: 'S256' }): string | null {
  if (query.code_challenge !== undefined && query.code_challenge_method === undefined) {
    throw ApiError.field('code_challenge_method', 'is required with code_challenge, and must be S256');
  }
  if (query.code_challenge === undefined && query.code_challenge_method !== undefined) {
    throw ApiError.field('code_challenge', 'is required with code_challenge_method');
  }
  return query.code_challenge ?? null;
}

/** This worker's callback URL for a provider (what is registered at the provider). */
export const callbackUri = (baseUrl: string, provider: string) => `${baseUrl}/api/v1/auth/oauth/${provider}/callback`;

/**
 * Starts a sign-in (or, with `linkUserId`, linking to a signed-in account): keeps state, PKCE verifier,
 * nonce, the app's redirect target and the app's own code challenge server-side for 10 minutes, and
 * answers the provider URL.
 */
export async function startAuthorization(
  c: Context<AppEnv>,
  provider: Provider,
  flow: { redirectUri: string; linkUserId: string | null; appChallenge: string | null },
): Promise<URL> {
  const state = generateState();
  const verifier = generateCodeVerifier();
  const nonce = randomToken(16);
  const callback = callbackUri(c.get('baseUrl'), provider.id);
  let url: URL;
  try {
    url = await authorizationUrl(c.env, provider, { state, verifier, nonce, callbackUri: callback });
  } catch (err) {
    logFlow('authorize', provider.id, err);
    throw new ApiError('service_unavailable', `${provider.name} cannot be reached right now; try again later.`, { headers: { 'Retry-After': '30' } });
  }
  const now = Date.now();
  await c.var.d1.prepare(
    `INSERT INTO oauth_states (state_hash, provider, code_verifier, nonce, redirect_uri, callback_uri, link_user_id, app_code_challenge, created_at, expires_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)`,
  )
    .bind(await sha256Hex(state), provider.id, verifier, nonce, flow.redirectUri, callback, flow.linkUserId, flow.appChallenge, now, now + STATE_TTL_MS)
    .run();
  return url;
}

function logFlow(step: string, provider: string, err: unknown): void {
  // The message may quote the provider; it never holds a code or token of ours (they are not in errors).
  console.error(JSON.stringify({ level: 'warn', message: `oauth ${step} failed`, provider, error: String((err as Error)?.message ?? err).slice(0, 300) }));
}

/** `redirect` with the given query parameters added (the app's own parameters stay). */
function withParams(redirect: string, params: Record<string, string>): string {
  const url = new URL(redirect);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

export interface CallbackParams {
  state?: string;
  code?: string;
  error?: string;
  /** Apple's form post carries the user's name as JSON, on first consent only. */
  user?: string;
}

interface StateRow {
  provider: string;
  code_verifier: string;
  nonce: string;
  redirect_uri: string;
  callback_uri: string;
  link_user_id: string | null;
  app_code_challenge: string | null;
}

/**
 * The provider sent the browser back. Checks the state (it must be live and unused: taken here, once),
 * then the provider's error, exchanges the code and verifies the identity, decides the account, and
 * answers where to send the browser: `redirect_uri?code=<one-time code>` (a sign-in code, or for a flow
 * started with a bearer token a link code), or `?error=<reason>`. Tokens never go into a URL.
 */
export async function finishCallback(c: Context<AppEnv>, provider: Provider, params: CallbackParams): Promise<string> {
  const db = c.var.d1;
  const now = Date.now();
  const stateHash = params.state ? await sha256Hex(params.state) : null;
  const state = stateHash
    ? await db
        .prepare(
          `UPDATE oauth_states SET used_at = ?2 WHERE state_hash = ?1 AND provider = ?3 AND used_at IS NULL AND expires_at > ?2
           RETURNING provider, code_verifier, nonce, redirect_uri, callback_uri, link_user_id, app_code_challenge`,
        )
        .bind(stateHash, now, provider.id)
        .first<StateRow>()
    : null;
  if (!state) {
    // Missing, unknown, expired or replayed: back to the app it came from when the row still says, else to APP_URL.
    const known = stateHash
      ? await db.prepare('SELECT redirect_uri FROM oauth_states WHERE state_hash = ?1 AND provider = ?2').bind(stateHash, provider.id).first<{ redirect_uri: string }>()
      : null;
    return withParams(known?.redirect_uri ?? c.env.APP_URL, { error: 'invalid_state' });
  }
  const back = (query: Record<string, string>) => withParams(state.redirect_uri, query);
  if (params.error !== undefined || !params.code) {
    return back({ error: params.error && /^[a-z_]{1,64}$/.test(params.error) ? params.error : 'provider_error' });
  }

  let profile: ProviderProfile;
  try {
    profile = await fetchProfile(c.env, provider, { code: params.code, verifier: state.code_verifier, nonce: state.nonce, callbackUri: state.callback_uri });
  } catch (err) {
    logFlow('callback', provider.id, err);
    return back({ error: err instanceof OAuthFlowError ? err.code : 'provider_error' });
  }
  if (provider.responseMode === 'form_post' && !profile.name) profile.name = appleName(params.user);

  // A link is not made here: whoever's browser this is may not be the account that started the flow
  // (link CSRF). The code is a link code, which only that account can redeem (POST /me/identities).
  if (state.link_user_id) {
    return back({ code: await issueCode(db, { userId: state.link_user_id, provider: provider.id, outcome: 'link', created: false, challenge: state.app_code_challenge, profile }) });
  }
  const decision = await signInDecision(c, provider, profile);
  if ('error' in decision) return back(decision);
  return back({ code: await issueCode(db, { ...decision, provider: provider.id, challenge: state.app_code_challenge }) });
}

/** Stores a one-time code (hashed, 60 s) for what the callback decided; answers the code. */
async function issueCode(
  db: D1Client,
  code: { userId: string; provider: string; outcome: CodeOutcome; created: boolean; challenge: string | null; profile?: ProviderProfile },
): Promise<string> {
  const value = randomToken();
  const now = Date.now();
  await db
    .prepare(
      `INSERT INTO oauth_codes (code_hash, user_id, provider, outcome, created, app_code_challenge, subject, email, created_at, expires_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)`,
    )
    .bind(await sha256Hex(value), code.userId, code.provider, code.outcome, code.created ? 1 : 0, code.challenge, code.profile?.subject ?? null, code.profile?.email ?? null, now, now + CODE_TTL_MS)
    .run();
  return value;
}

type CodeOutcome = 'login' | 'unverified_email' | 'link';

interface CodeRow {
  user_id: string;
  provider: string;
  outcome: CodeOutcome;
  created: number;
  app_code_challenge: string | null;
  subject: string | null;
  email: string | null;
}

/**
 * Uses up a one-time code (live and unused) and answers what it was issued for, once its flow's app
 * verifier checks out. The code is used up first, so a refused verifier burns it too (a verifier cannot
 * be guessed at). 400 naming `code` when unknown, expired or used; 400 naming `code_verifier` on a mismatch.
 */
async function redeem(db: D1Client, code: string, verifier: string | undefined): Promise<CodeRow> {
  const now = Date.now();
  const row = await db
    .prepare(
      `UPDATE oauth_codes SET used_at = ?2 WHERE code_hash = ?1 AND used_at IS NULL AND expires_at > ?2
       RETURNING user_id, provider, outcome, created, app_code_challenge, subject, email`,
    )
    .bind(await sha256Hex(code), now)
    .first<CodeRow>();
  if (!row) throw invalidCode();
  await checkAppVerifier(row.app_code_challenge, verifier);
  return row;
}

const invalidCode = () => ApiError.field('code', 'is invalid, expired or already used');

/** Apple's `user` form field: `{"name":{"firstName","lastName"},"email"}`, sent on first consent only. */
function appleName(user: string | undefined): string | null {
  if (!user) return null;
  try {
    const name = (JSON.parse(user) as { name?: { firstName?: unknown; lastName?: unknown } }).name;
    const parts = [name?.firstName, name?.lastName].filter((p): p is string => typeof p === 'string' && p.trim() !== '');
    return parts.length > 0 ? parts.join(' ') : null;
  } catch {
    return null;
  }
}

const identityOf = (db: D1Client, provider: string, subject: string) =>
  db.prepare('SELECT id, user_id FROM oauth_identities WHERE provider = ?1 AND subject = ?2').bind(provider, subject).first<{ id: string; user_id: string }>();

function insertIdentity(db: D1Client, userId: string, provider: string, profile: Pick<ProviderProfile, 'subject' | 'email'>): { id: string; statement: D1PreparedStatement } {
  const id = newId();
  return {
    id,
    statement: db
      .prepare('INSERT INTO oauth_identities (id, user_id, provider, subject, email, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)')
      .bind(id, userId, provider, profile.subject, profile.email, Date.now()),
  };
}

const linkedEntry = (c: Context<AppEnv>, userId: string, provider: string, identityId: string, via: string): AuditEntry => ({
  action: 'oauth.linked',
  actorId: userId,
  subjectType: 'user',
  subjectId: userId,
  ip: requestIp(c),
  data: { provider, identity_id: identityId, via },
});

/**
 * Finishes a link (POST /me/identities): the code must be a link code issued to the caller's own flow
 * (400 naming `code` otherwise: a code another account's flow sent to this browser links nothing), and
 * the account must still have a verified address (403: an account squatting someone's address must not
 * collect identities). Linking an identity it already has answers it again (`created: false`); one that
 * belongs to another account is 409.
 */
export async function completeLink(c: Context<AppEnv>, userId: string, code: string, verifier: string | undefined): Promise<{ identity: IdentityView; created: boolean }> {
  const db = c.var.d1;
  const row = await redeem(db, code, verifier);
  if (row.outcome !== 'link' || row.user_id !== userId || row.subject === null) throw invalidCode();
  const user = await findUserById(c.get('db'), userId);
  if (!user || user.emailVerifiedAt === null) throw new ApiError('forbidden', 'Verify your e-mail address before linking a sign-in provider.');
  const inUse = () => conflict([{ field: 'code', message: 'is for a provider identity another account has linked' }]);
  const existing = await identityOf(db, row.provider, row.subject);
  if (existing) {
    if (existing.user_id !== userId) throw inUse();
    return { identity: (await listIdentities(db, userId, existing.id))[0]!, created: false };
  }
  const identity = insertIdentity(db, userId, row.provider, { subject: row.subject, email: row.email });
  try {
    await audit(db, linkedEntry(c, userId, row.provider, identity.id, 'signed_in'), [identity.statement]);
  } catch (err) {
    if (uniqueViolation(err)) throw inUse();
    throw err;
  }
  await tellLinked(c, user.email, row.provider, row.email);
  return { identity: (await listIdentities(db, userId, identity.id))[0]!, created: true };
}

/**
 * Tells the account's address that a provider can now sign into it: a way in that a password reset
 * does not remove, so an owner who did not add it must hear of it (mail kind `oauth_linked`).
 */
async function tellLinked(c: Context<AppEnv>, to: string, providerId: string, identityEmail: string | null): Promise<void> {
  const name = configuredProviders(c.env).find((p) => p.id === providerId)?.name ?? providerId;
  await c.get('mailer').send(
    composeMail({
      to,
      kind: 'oauth_linked',
      subject: `${name} sign-in was added to your Kith account`,
      intro: [`Your Kith account can now be signed into with ${name}${identityEmail ? ` (${identityEmail})` : ''}, without its password.`],
      outro: [
        'If this was you, there is nothing to do.',
        'If it was not, reset your password and remove this provider from your account’s sign-in providers: someone may have had access to your account.',
      ],
    }),
  );
}

type Decision = { userId: string; outcome: 'login' | 'unverified_email'; created: boolean } | { error: string };

/**
 * Which account a provider identity signs into: the one it is linked to; else the account whose
 * VERIFIED address the provider verified (linked now); an account with that address unverified is
 * refused (409 at the exchange: linking onto an unproven address would hand a squatter's account, or
 * hand the squatter this one); else a new account. Without a provider-verified address nothing can be
 * matched or created.
 */
async function signInDecision(c: Context<AppEnv>, provider: Provider, profile: ProviderProfile, attempt = 1): Promise<Decision> {
  const db = c.var.d1;
  const linked = await identityOf(db, provider.id, profile.subject);
  if (linked) return { userId: linked.user_id, outcome: 'login', created: false };
  if (!profile.email) return { error: 'email_unverified' };
  const owner = await db.prepare('SELECT id, email_verified_at FROM users WHERE email = ?1').bind(profile.email).first<{ id: string; email_verified_at: number | null }>();
  try {
    if (owner && owner.email_verified_at === null) return { userId: owner.id, outcome: 'unverified_email', created: false };
    if (owner) {
      const identity = insertIdentity(db, owner.id, provider.id, profile);
      await audit(db, linkedEntry(c, owner.id, provider.id, identity.id, 'verified_email'), [identity.statement]);
      await tellLinked(c, profile.email, provider.id, profile.email);
      return { userId: owner.id, outcome: 'login', created: false };
    }
    return { userId: await createAccount(c, provider, profile), outcome: 'login', created: true };
  } catch (err) {
    // Another callback linked this identity or took this address meanwhile: decide again on what is there now.
    if (uniqueViolation(err) && attempt < 3) return signInDecision(c, provider, profile, attempt + 1);
    throw err;
  }
}

/** A username from the profile (handle, address, name): `[a-z0-9_]`, 3..30, made unique with a numeric suffix. */
export async function deriveUsername(db: D1Client, profile: Pick<ProviderProfile, 'handle' | 'email' | 'name'>): Promise<string> {
  const base =
    [profile.handle, profile.email?.split('@')[0], profile.name]
      .map((value) =>
        (value ?? '')
          .normalize('NFKD')
          .replace(/[\u0300-\u036f]/g, '')
          .toLowerCase()
          .replace(/[^a-z0-9_]+/g, '_')
          .replace(/_+/g, '_')
          .replace(/^_|_$/g, '')
          .slice(0, 24),
      )
      .find((candidate) => candidate.length >= 3) ?? 'user';
  const candidates = [base, ...Array.from({ length: 8 }, (_, i) => `${base}_${Math.floor(Math.random() * 10 ** (2 + Math.min(i, 3)))}`)];
  for (const candidate of candidates) {
    if (!USERNAME_RULE.test(candidate)) continue;
    if (!(await db.prepare('SELECT 1 AS taken FROM users WHERE username = ?1').bind(candidate).first())) return candidate;
  }
  return `user_${newId().slice(-10).toLowerCase()}`;
}

/** A new account for a provider identity: its verified address (verified), a derived username, no password. */
async function createAccount(c: Context<AppEnv>, provider: Provider, profile: ProviderProfile): Promise<string> {
  const db = c.var.d1;
  const username = await deriveUsername(db, profile);
  let displayName = singleLineFrom(profile.name, 50) ?? username;
  // A name the keyword rules would refuse is not imposed on the new account; the username stands in.
  if ((await evaluateText(db, [{ field: 'display_name', text: displayName }], 'profile')).action !== 'allow') displayName = username;
  const id = newId();
  const now = Date.now();
  const identity = insertIdentity(db, id, provider.id, profile);
  const ip = requestIp(c);
  await audit(
    db,
    [
      { action: 'auth.register', actorId: id, subjectType: 'user', subjectId: id, ip, data: { method: `oauth:${provider.id}` } },
      linkedEntry(c, id, provider.id, identity.id, 'new_account'),
    ],
    [
      db
        .prepare(
          `INSERT INTO users (id, username, email, password_hash, email_verified_at, display_name, created_at, updated_at)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5, ?5)`,
        )
        .bind(id, username, profile.email, NO_PASSWORD, now, displayName),
      identity.statement,
    ],
  );
  return id;
}

/**
 * 400 naming `code_verifier` unless the verifier matches the code's flow: the S256 challenge's verifier
 * when the flow had one; none when it had none. Refusing a verifier for a challenge-less code stops a
 * downgrade (RFC 9700 section 4.8.2): an app that always sends its verifier cannot be handed a code
 * from an attacker's flow started without a challenge.
 */
async function checkAppVerifier(challenge: string | null, verifier: string | undefined): Promise<void> {
  if (challenge === null) {
    if (verifier !== undefined) throw ApiError.field('code_verifier', 'was sent, but this code was issued for a flow without a code_challenge');
    return;
  }
  if (verifier === undefined) throw ApiError.field('code_verifier', 'is required: this code was issued for a flow with a code_challenge');
  // S256: the challenge is BASE64URL(SHA-256(ASCII(verifier))); compared as the 32 digest bytes.
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  if (!timingSafeEqual(digest, fromBase64Url(challenge))) {
    throw ApiError.field('code_verifier', 'does not match the code_challenge of this flow');
  }
}

/**
 * Redeems a one-time sign-in code (60 s, once; see {@link redeem}): the tokens of the account the
 * callback decided, `created` when it was made by this sign-in. A link code is not a sign-in (400
 * naming `code`); 409 when the matching account's address is unverified; 403 when the account is
 * suspended; 401 `/mfa-required` when it has a second factor.
 */
export async function redeemCode(c: Context<AppEnv>, code: string, verifier: string | undefined) {
  const db = c.var.d1;
  const row = await redeem(db, code, verifier);
  if (row.outcome === 'link') throw invalidCode();
  if (row.outcome === 'unverified_email') {
    throw conflict([{ field: 'email', message: 'belongs to an account whose address is not verified; sign in with its password and verify the address, then link this provider' }]);
  }
  const user: UserRow | undefined = await findUserById(c.get('db'), row.user_id);
  if (!user) throw invalidCode();
  assertNotSuspended(user);
  const method = `oauth:${row.provider}`;
  if (await hasMfa(db, user.id)) throw await mfaRequired(db, user.id, method);
  return { ...(await startSession(c, user, { method })), created: row.created === 1 };
}

export interface IdentityView {
  id: string;
  provider: ProviderId;
  email: string | null;
  created_at: string;
}

/** The identities of an account, oldest first, or (with `identityId`) that one alone. */
export async function listIdentities(db: D1Client, userId: string, identityId?: string): Promise<IdentityView[]> {
  const { results } = await db
    .prepare(`SELECT id, provider, email, created_at FROM oauth_identities WHERE user_id = ?1 ${identityId ? 'AND id = ?2' : ''} ORDER BY created_at, id`)
    .bind(...(identityId ? [userId, identityId] : [userId]))
    .all<{ id: string; provider: ProviderId; email: string | null; created_at: number }>();
  return results.map((r) => ({ ...r, created_at: new Date(r.created_at).toISOString() }));
}

/**
 * Unlinks an identity, unless it is the account's last way to sign in (no password, no other identity):
 * 409. The check and the delete are one statement, so two racing unlinks cannot both pass it.
 */
export async function unlinkIdentity(c: Context<AppEnv>, userId: string, identityId: string): Promise<void> {
  const db = c.var.d1;
  const identity = await db.prepare('SELECT provider FROM oauth_identities WHERE id = ?1 AND user_id = ?2').bind(identityId, userId).first<{ provider: string }>();
  if (!identity) throw new ApiError('not_found', 'No such identity.');
  const [removed] = await audit(
    db,
    {
      action: 'oauth.unlinked',
      actorId: userId,
      subjectType: 'user',
      subjectId: userId,
      ip: requestIp(c),
      data: { provider: identity.provider, identity_id: identityId },
      when: { sql: 'NOT EXISTS (SELECT 1 FROM oauth_identities WHERE id = ?1)', params: [identityId] },
    },
    [
      db
        .prepare(
          `DELETE FROM oauth_identities WHERE id = ?1 AND user_id = ?2
           AND (EXISTS (SELECT 1 FROM users WHERE id = ?2 AND password_hash != ?3)
                OR (SELECT COUNT(*) FROM oauth_identities WHERE user_id = ?2) > 1)`,
        )
        .bind(identityId, userId, NO_PASSWORD),
    ],
  );
  if (!removed?.meta.changes) {
    throw new ApiError('conflict', 'This is your last way to sign in: set a password (password reset) or link another provider first.');
  }
}
