import { expect } from 'vitest';
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

/** GET authorize; asserts the 302 and answers the provider URL. */
export async function authorize(provider: string, options: { token?: string; redirectUri?: string } = {}): Promise<URL> {
  const res = await call(`/auth/oauth/${provider}/authorize?redirect_uri=${encodeURIComponent(options.redirectUri ?? APP_REDIRECT)}`, { token: options.token });
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

/** The whole redirect dance; answers the app's landing URL (`?code=`, `?linked=` or `?error=`). */
export async function dance(provider: string, who: MockIdentity, options: { token?: string; formPost?: boolean; user?: unknown } = {}): Promise<URL> {
  const callback = await atProvider(await authorize(provider, { token: options.token }), who);
  return backAtKith(callback, options);
}

export function exchange(code: string): Promise<Response> {
  return call('/auth/oauth/exchange', { body: { code } });
}

/** Signs in through a provider and redeems the code; answers the token body (with `created`). */
export async function oauthSignIn(provider: string, who: MockIdentity, options: { formPost?: boolean; user?: unknown } = {}): Promise<any> {
  const landing = await dance(provider, who, options);
  expect(landing.origin + landing.pathname).toBe(APP_REDIRECT);
  const code = landing.searchParams.get('code');
  expect(code, `landed on ${landing}`).toBeTruthy();
  return expectStatus(await exchange(code!), 200);
}
