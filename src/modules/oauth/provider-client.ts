import { CodeChallengeMethod, OAuth2Client, OAuth2Tokens } from 'arctic';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import type { Bindings } from '../../lib/types';
import { EmailSchema } from '../users/users.schemas';
import { assertSafeEndpoint, type GitHubProvider, type OidcProvider, type Provider, PROVIDER_TIMEOUT_MS } from './providers';

/**
 * A sign-in that failed on the provider's side (or was refused by our checks of what it sent). Its
 * `code` is what the app receives as `?error=`; the message is logged, never shown (it may quote the
 * provider).
 */
export class OAuthFlowError extends Error {
  constructor(
    readonly code: 'provider_unavailable' | 'token_exchange_failed' | 'invalid_id_token' | 'profile_unavailable',
    message: string,
  ) {
    super(message);
  }
}

/** Who signed in, as the provider vouches: a stable subject, a provider-verified address (or null), a name. */
export interface ProviderProfile {
  subject: string;
  email: string | null;
  name: string | null;
  /** A preferred handle (OIDC `preferred_username`, GitHub `login`), for deriving a username. */
  handle: string | null;
}

/** fetch with the provider timeout; network faults and timeouts become {@link OAuthFlowError}. */
async function providerFetch(url: string, init: RequestInit, failure: OAuthFlowError['code']): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS) });
  } catch (err) {
    throw new OAuthFlowError(failure, `${url}: ${String((err as Error)?.message ?? err)}`);
  }
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  userinfo_endpoint?: string;
}

/** Discovery documents by issuer, kept an hour per isolate (with their key sets, which jose caches and refreshes). */
const discovered = new Map<string, { doc: Discovery; jwks: ReturnType<typeof createRemoteJWKSet>; until: number }>();
const DISCOVERY_TTL_MS = 60 * 60 * 1000;

/** The issuer's OpenID configuration; its `issuer` must be the configured one exactly (OIDC Discovery §4.3). */
async function discover(env: Bindings, provider: OidcProvider) {
  const known = discovered.get(provider.issuer);
  if (known && known.until > Date.now()) return known;
  const url = assertSafeEndpoint(env, `${provider.issuer}/.well-known/openid-configuration`);
  const res = await providerFetch(url, { headers: { Accept: 'application/json' } }, 'provider_unavailable');
  const doc = (await res.json().catch(() => null)) as Partial<Discovery> | null;
  if (!res.ok || !doc || typeof doc.authorization_endpoint !== 'string' || typeof doc.token_endpoint !== 'string' || typeof doc.jwks_uri !== 'string') {
    throw new OAuthFlowError('provider_unavailable', `discovery at ${url} answered ${res.status} without the endpoints`);
  }
  if (doc.issuer !== provider.issuer) throw new OAuthFlowError('provider_unavailable', `discovery issuer ${doc.issuer} is not ${provider.issuer}`);
  for (const endpoint of [doc.authorization_endpoint, doc.token_endpoint, doc.jwks_uri, ...(doc.userinfo_endpoint ? [doc.userinfo_endpoint] : [])]) {
    try {
      assertSafeEndpoint(env, endpoint);
    } catch (err) {
      throw new OAuthFlowError('provider_unavailable', String((err as Error).message));
    }
  }
  const entry = {
    doc: doc as Discovery,
    jwks: createRemoteJWKSet(new URL(doc.jwks_uri), { timeoutDuration: PROVIDER_TIMEOUT_MS, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 }),
    until: Date.now() + DISCOVERY_TTL_MS,
  };
  discovered.set(provider.issuer, entry);
  return entry;
}

/**
 * The URL that sends the browser to the provider: arctic builds it with `state` and the PKCE S256
 * challenge (every provider, even those that ignore it: unknown parameters must be ignored, RFC 6749
 * §3.1); OIDC providers also get the `nonce` their id_token must repeat, Apple `response_mode=form_post`.
 */
export async function authorizationUrl(env: Bindings, provider: Provider, flow: { state: string; verifier: string; nonce: string; callbackUri: string }): Promise<URL> {
  const endpoint = provider.kind === 'oidc' ? (await discover(env, provider)).doc.authorization_endpoint : assertSafeEndpoint(env, provider.authorizationEndpoint);
  const client = new OAuth2Client(provider.clientId, null, flow.callbackUri);
  const url = client.createAuthorizationURLWithPKCE(endpoint, flow.state, CodeChallengeMethod.S256, flow.verifier, provider.scopes);
  if (provider.kind === 'oidc') url.searchParams.set('nonce', flow.nonce);
  if (provider.responseMode) url.searchParams.set('response_mode', provider.responseMode);
  return url;
}

/**
 * Exchanges the authorization code (with the PKCE verifier and the same redirect_uri) at the token
 * endpoint. The request is made here rather than by arctic's `validateAuthorizationCode` so that it
 * has a timeout (arctic's fetch takes no signal) and so every provider, Apple's client_secret_post
 * included, sends the verifier; arctic's OAuth2Tokens reads the answer.
 */
async function exchangeCode(provider: Provider, tokenEndpoint: string, flow: { code: string; verifier: string; callbackUri: string }): Promise<OAuth2Tokens> {
  const body = new URLSearchParams({ grant_type: 'authorization_code', code: flow.code, redirect_uri: flow.callbackUri, code_verifier: flow.verifier });
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', 'User-Agent': 'Kith' };
  const secret = await provider.clientSecret();
  if (provider.clientAuth === 'basic' && secret) {
    headers.Authorization = `Basic ${btoa(`${encodeURIComponent(provider.clientId)}:${encodeURIComponent(secret)}`)}`;
  } else {
    body.set('client_id', provider.clientId);
    if (provider.clientAuth === 'post' && secret) body.set('client_secret', secret);
  }
  const res = await providerFetch(tokenEndpoint, { method: 'POST', headers, body }, 'token_exchange_failed');
  const data = (await res.json().catch(() => null)) as Record<string, unknown> | null;
  if (!res.ok || !data || typeof data.access_token !== 'string') {
    const reason = data && typeof data.error === 'string' ? data.error : `status ${res.status}`;
    throw new OAuthFlowError('token_exchange_failed', `token endpoint refused the code: ${reason}`);
  }
  return new OAuth2Tokens(data);
}

/** The id_token's claims once jose has checked its signature (the issuer's keys), issuer, audience, expiry, and our nonce. */
async function verifyIdToken(provider: OidcProvider, jwks: ReturnType<typeof createRemoteJWKSet>, idToken: string, nonce: string): Promise<JWTPayload> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, jwks, {
      issuer: [provider.issuer, ...provider.issuerAliases],
      audience: provider.clientId,
      requiredClaims: ['sub', 'exp', 'iat'],
      clockTolerance: 30,
    }));
  } catch (err) {
    throw new OAuthFlowError('invalid_id_token', `id_token refused: ${String((err as Error)?.message ?? err)}`);
  }
  if (payload.nonce !== nonce) throw new OAuthFlowError('invalid_id_token', 'id_token nonce does not match this sign-in');
  // OpenID Connect Core: a subject is at most 255 ASCII characters; it is stored as the identity's key.
  if (typeof payload.sub !== 'string' || !/^[\x20-\x7e]{1,255}$/.test(payload.sub)) throw new OAuthFlowError('invalid_id_token', 'id_token sub is not 1..255 ASCII characters');
  return payload;
}

/** `email_verified` is a boolean, or (Apple) the string "true". */
const isTrue = (value: unknown) => value === true || value === 'true';
const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : null);

/**
 * A provider's verified address, only if it is one Kith would take at registration (EmailSchema:
 * well-formed, at most 254 characters, lower-cased); anything else counts as no verified address.
 */
const verifiedAddress = (verified: boolean, value: unknown): string | null => {
  if (!verified) return null;
  const parsed = EmailSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
};

async function oidcProfile(env: Bindings, provider: OidcProvider, flow: { code: string; verifier: string; nonce: string; callbackUri: string }): Promise<ProviderProfile> {
  const { doc, jwks } = await discover(env, provider);
  const tokens = await exchangeCode(provider, doc.token_endpoint, flow);
  let idToken: string;
  try {
    idToken = tokens.idToken();
  } catch {
    throw new OAuthFlowError('invalid_id_token', 'the token response has no id_token');
  }
  const claims = await verifyIdToken(provider, jwks, idToken, flow.nonce);
  let source: Record<string, unknown> = claims;
  // Some providers leave the address out of the id_token; the userinfo endpoint (same subject) has it.
  if (text(claims.email) === null && doc.userinfo_endpoint) {
    const res = await providerFetch(doc.userinfo_endpoint, { headers: { Authorization: `Bearer ${tokens.accessToken()}`, Accept: 'application/json' } }, 'profile_unavailable');
    const info = (await res.json().catch(() => null)) as Record<string, unknown> | null;
    if (res.ok && info && info.sub === claims.sub) source = { ...info, ...claims, email: info.email, email_verified: info.email_verified };
  }
  const name = text(source.name) ?? ([text(source.given_name), text(source.family_name)].filter(Boolean).join(' ') || null);
  return {
    subject: claims.sub!,
    email: verifiedAddress(isTrue(source.email_verified), source.email),
    name,
    handle: text(source.preferred_username) ?? text(source.nickname),
  };
}

async function githubJson<T>(provider: GitHubProvider, path: string, accessToken: string): Promise<T> {
  const res = await providerFetch(
    `${provider.apiUrl}${path}`,
    { headers: { Authorization: `Bearer ${accessToken}`, Accept: 'application/vnd.github+json', 'User-Agent': 'Kith', 'X-GitHub-Api-Version': '2022-11-28' } },
    'profile_unavailable',
  );
  if (!res.ok) throw new OAuthFlowError('profile_unavailable', `GitHub ${path} answered ${res.status}`);
  return (await res.json()) as T;
}

/** GitHub has no id_token: the account from GET /user, the address from GET /user/emails (primary and verified only). */
async function githubProfile(env: Bindings, provider: GitHubProvider, flow: { code: string; verifier: string; callbackUri: string }): Promise<ProviderProfile> {
  assertSafeEndpoint(env, provider.apiUrl);
  const tokens = await exchangeCode(provider, assertSafeEndpoint(env, provider.tokenEndpoint), flow);
  const user = await githubJson<{ id?: number; login?: string; name?: string | null }>(provider, '/user', tokens.accessToken());
  if (typeof user.id !== 'number') throw new OAuthFlowError('profile_unavailable', 'GitHub /user has no id');
  const emails = await githubJson<Array<{ email?: string; primary?: boolean; verified?: boolean }>>(provider, '/user/emails', tokens.accessToken());
  const primary = Array.isArray(emails) ? emails.find((e) => e.primary === true && e.verified === true && typeof e.email === 'string') : undefined;
  return { subject: String(user.id), email: verifiedAddress(primary !== undefined, primary?.email), name: text(user.name), handle: text(user.login) };
}

/** Finishes the provider's side of a sign-in: the code exchanged, the identity verified. */
export async function fetchProfile(env: Bindings, provider: Provider, flow: { code: string; verifier: string; nonce: string; callbackUri: string }): Promise<ProviderProfile> {
  return provider.kind === 'oidc' ? oidcProfile(env, provider, flow) : githubProfile(env, provider, flow);
}
