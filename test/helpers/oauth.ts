import { expect } from 'vitest';
import { toBase64Url } from '../../src/lib/encoding';
import { call, expectStatus, uniqueName } from './client';

/** Where the tests' app wants the browser back (an origin on the allow-list: APP_URL). */
export const APP_REDIRECT = 'http://localhost:3000/auth/done';

/** Who signs in at a provider stand-in, and what goes wrong (test/fixtures/oauth/providers.ts). */
export interface MockIdentity {
  sub?: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  login?: string;
  /** GitHub's /user/emails answer. */
  emails?: Array<{ email: string; primary: boolean; verified: boolean }>;
  scenario?: 'access_denied' | 'expired' | 'wrong_aud' | 'wrong_nonce' | 'other_key' | 'token_error';
}

/** A fresh identity with a provider-verified address (GitHub subjects are numbers). */
export function newIdentity(overrides: MockIdentity = {}, numeric = false): MockIdentity & { sub: string } {
  const sub = numeric ? String(Math.floor(Math.random() * 1e9)) : `sub-${uniqueName('s')}`;
  return { sub, email: `${uniqueName('oa')}@example.com`, email_verified: true, name: 'Grace Hopper', ...overrides };
}

/** RFC 7636 appendix B: a verifier and its S256 challenge, worked out by the RFC itself. */
export const RFC7636_PAIR = { verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk', challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM' };

/** The app's own PKCE pair for Kith's one-time code: a fresh verifier (32 random bytes, base64url) and its S256 challenge. */
export async function appPkce(): Promise<{ verifier: string; challenge: string }> {
  const verifier = toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = toBase64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  return { verifier, challenge };
}

export interface AuthorizeOptions {
  token?: string;
  redirectUri?: string;
  /** The app's S256 challenge (sent with `code_challenge_method=S256`). */
  challenge?: string;
}

/** The authorize path with its query. */
export function authorizePath(provider: string, options: Omit<AuthorizeOptions, 'token'> = {}): string {
  const query = new URLSearchParams({ redirect_uri: options.redirectUri ?? APP_REDIRECT });
  if (options.challenge !== undefined) {
    query.set('code_challenge', options.challenge);
    query.set('code_challenge_method', 'S256');
  }
  return `/auth/oauth/${provider}/authorize?${query}`;
}

/** GET authorize; asserts the 302 and answers the provider URL. */
export async function authorize(provider: string, options: AuthorizeOptions = {}): Promise<URL> {
  const res = await call(authorizePath(provider, options), { token: options.token });
  expect(res.status, await res.clone().text()).toBe(302);
  expect(res.headers.get('Cache-Control')).toBe('no-store');
  return new URL(res.headers.get('Location')!);
}

/** The browser at the provider: signs `who` in there and answers where the provider sends it (Kith's callback). */
export async function atProvider(providerUrl: URL, who: MockIdentity): Promise<URL> {
  const url = new URL(providerUrl);
  for (const [key, value] of Object.entries({ sub: who.sub, email: who.email, name: who.name, login: who.login, scenario: who.scenario })) {
    if (value !== undefined) url.searchParams.set(`mock_${key}`, value);
  }
  if (who.email_verified !== undefined) url.searchParams.set('mock_email_verified', String(who.email_verified));
  if (who.emails) url.searchParams.set('mock_emails', JSON.stringify(who.emails));
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status).toBe(302);
  await res.body?.cancel();
  return new URL(res.headers.get('Location')!);
}

/** The browser back at Kith's callback (GET, or Apple's form POST with its `user` field); answers where Kith sends it. */
export async function backAtKith(callbackUrl: URL, options: { formPost?: boolean; user?: unknown } = {}): Promise<URL> {
  let res: Response;
  if (options.formPost) {
    const form = new URLSearchParams(callbackUrl.searchParams);
    if (options.user !== undefined) form.set('user', JSON.stringify(options.user));
    res = await call(`${callbackUrl.origin}${callbackUrl.pathname}`, { method: 'POST', body: form.toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  } else {
    res = await call(callbackUrl.toString());
  }
  expect(res.status, await res.clone().text()).toBe(302);
  return new URL(res.headers.get('Location')!);
}

/** The whole redirect dance; answers the app's landing URL (`?code=` or `?error=`). */
export async function dance(provider: string, who: MockIdentity, options: { token?: string; challenge?: string; formPost?: boolean; user?: unknown } = {}): Promise<URL> {
  const callback = await atProvider(await authorize(provider, { token: options.token, challenge: options.challenge }), who);
  return backAtKith(callback, options);
}

export function exchange(code: string, codeVerifier?: string): Promise<Response> {
  return call('/auth/oauth/exchange', { body: { code, code_verifier: codeVerifier } });
}

/** Signs in through a provider and redeems the code; answers the token body (with `created`). */
export async function oauthSignIn(provider: string, who: MockIdentity, options: { formPost?: boolean; user?: unknown } = {}): Promise<any> {
  const landing = await dance(provider, who, options);
  expect(landing.origin + landing.pathname).toBe(APP_REDIRECT);
  const code = landing.searchParams.get('code');
  expect(code, `landed on ${landing}`).toBeTruthy();
  return expectStatus(await exchange(code!), 200);
}

/**
 * Links an identity to the signed-in account: the dance with its bearer token (and a fresh PKCE pair of
 * the app's), then the link code redeemed at POST /me/identities; answers that response.
 */
export async function linkWith(provider: string, who: MockIdentity, token: string): Promise<Response> {
  const { verifier, challenge } = await appPkce();
  const landing = await dance(provider, who, { token, challenge });
  const code = landing.searchParams.get('code');
  expect(code, `landed on ${landing}`).toBeTruthy();
  return call('/me/identities', { token, body: { code, code_verifier: verifier } });
}
