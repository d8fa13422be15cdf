import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, expectStatus } from '../helpers/client';
import { APP_REDIRECT, atProvider, authorize, backAtKith, dance, exchange, newIdentity, oauthSignIn } from '../helpers/oauth';

// Google, Apple and GitHub each against their own local stand-in (test/fixtures/oauth/providers.ts), through
// the same code the deployment runs: only the issuer / base URLs differ from production.

describe('Google', () => {
  it('should sign in through discovery, PKCE and a verified id_token', async () => {
    const url = await authorize('google');
    expect(url.origin).toBe(new URL(env.GOOGLE_ISSUER!).origin);
    expect(url.searchParams.get('client_id')).toBe(env.GOOGLE_CLIENT_ID);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    const who = newIdentity({ name: 'Ada Lovelace' });
    const body = await oauthSignIn('google', who);
    expect(body).toMatchObject({ created: true, user: { email: who.email, email_verified: true, display_name: 'Ada Lovelace' } });
    // Derived from the address when there is no handle.
    expect(body.user.username).toMatch(new RegExp(`^${who.email!.split('@')[0]}`));
  });

  it('should refuse an id_token for another client', async () => {
    expect((await dance('google', newIdentity({ scenario: 'wrong_aud' }))).searchParams.get('error')).toBe('invalid_id_token');
  });
});

describe('Apple', () => {
  it('should ask for form_post, take the POST callback, sign the client secret, and take the name only on first consent', async () => {
    const url = await authorize('apple');
    expect(url.searchParams.get('response_mode')).toBe('form_post');
    expect(url.searchParams.get('scope')).toBe('openid name email');
    expect(url.searchParams.get('nonce')).toBeTruthy();
    const who = newIdentity({ name: undefined });
    const user = { name: { firstName: 'Katherine', lastName: 'Johnson' }, email: who.email };
    // The stand-in refuses the token request unless the ES256 client secret verifies with the team's key.
    const first = await oauthSignIn('apple', who, { formPost: true, user });
    expect(first).toMatchObject({ created: true, user: { display_name: 'Katherine Johnson', email: who.email, email_verified: true } });

    // Later consents carry no name; the account keeps the one it has.
    const again = await oauthSignIn('apple', who, { formPost: true });
    expect(again).toMatchObject({ created: false, user: { id: first.user.id, display_name: 'Katherine Johnson' } });
  });

  it('should fail the exchange when the client secret is not signed as Apple expects (control for the check above)', async () => {
    const saved = env.APPLE_KEY_ID;
    (env as any).APPLE_KEY_ID = 'WRONGKEY00';
    try {
      const landing = await dance('apple', newIdentity(), { formPost: true });
      expect(landing.searchParams.get('error')).toBe('token_exchange_failed');
    } finally {
      (env as any).APPLE_KEY_ID = saved;
    }
  });

  it('should treat a POST callback with a bad state like the GET one', async () => {
    const callback = await atProvider(await authorize('apple'), newIdentity());
    callback.searchParams.set('state', 'forged');
    const landing = await backAtKith(callback, { formPost: true, user: { name: { firstName: 'X' } } });
    expect(landing.searchParams.get('error')).toBe('invalid_state');
  });

  it('should pass on Apple\'s error in the form post', async () => {
    const callback = await atProvider(await authorize('apple'), newIdentity({ scenario: 'access_denied' }));
    expect((await backAtKith(callback, { formPost: true })).toString()).toBe(`${APP_REDIRECT}?error=access_denied`);
  });
});

describe('GitHub', () => {
  it('should read /user and take only the primary verified address of /user/emails', async () => {
    const url = await authorize('github');
    expect(url.pathname).toBe('/login/oauth/authorize');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('nonce')).toBeNull();
    const primary = `${crypto.randomUUID().slice(0, 8)}@example.com`;
    const who = newIdentity(
      {
        login: 'The-Octocat',
        emails: [
          { email: `unverified-${primary}`, primary: false, verified: false },
          { email: `secondary-${primary}`, primary: false, verified: true },
          { email: primary, primary: true, verified: true },
        ],
      },
      true,
    );
    const body = await oauthSignIn('github', who);
    expect(body).toMatchObject({ created: true, user: { email: primary, email_verified: true, display_name: 'Grace Hopper' } });
    expect(body.user.username).toMatch(/^the_octocat/);
    const [identity] = await expectStatus(await call('/me/identities', { token: body.access_token }), 200);
    expect(identity).toMatchObject({ provider: 'github', email: primary });
    const row = await env.DB.prepare('SELECT subject FROM oauth_identities WHERE id = ?1').bind(identity.id).first<{ subject: string }>();
    expect(row!.subject).toBe(who.sub);
  });

  it('should not use a primary address GitHub has not verified', async () => {
    const who = newIdentity({ emails: [{ email: 'nope@example.com', primary: true, verified: false }, { email: 'other@example.com', primary: false, verified: true }] }, true);
    expect((await dance('github', who)).searchParams.get('error')).toBe('email_unverified');
  });

  it('should pass on a token endpoint refusal', async () => {
    const landing = await dance('github', newIdentity({ scenario: 'token_error', emails: [] }, true));
    expect(landing.searchParams.get('error')).toBe('token_exchange_failed');
    await expectStatus(await exchange('not-a-code'), 400);
  });
});
